"""Text classifiers shared by the text capabilities (reviews, social posts): TF-IDF + linear models (NB-SVM),
a neural network on pretrained word vectors, a fine-tuned transformer, and the fit / predict / evaluate
helpers around them. Every classifier is a scikit-learn estimator over raw text."""

from niaga.text.classify.base import TextClassifier

__all__ = ["TextClassifier"]
