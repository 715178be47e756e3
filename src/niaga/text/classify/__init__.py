"""Text classifiers shared by the text capabilities (reviews, social posts): TF-IDF + linear models (NB-SVM),
a neural network on pretrained word vectors, a fine-tuned transformer, and the fit / predict / evaluate
helpers around them. Every classifier is a scikit-learn estimator over raw text."""

#: the kinds ``make_model`` builds; here, not in ``pipeline``, so that the CLI lists them without importing
#: scikit-learn
MODEL_KINDS = ("tfidf", "neural", "transformer")


def __getattr__(name: str):
    if name == "TextClassifier":  # imported on use: it pulls in scikit-learn
        from niaga.text.classify.base import TextClassifier
        return TextClassifier
    raise AttributeError(name)


__all__ = ["MODEL_KINDS", "TextClassifier"]
