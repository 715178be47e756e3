"""The post classifiers `niaga social train --kind` offers; every one is a scikit-learn estimator."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from niaga.text.classify.base import TextClassifier

MODEL_KINDS = ("svm-rbf", "tfidf", "neural")
DEFAULT_KIND = "tfidf"
#: older names of a kind: "linear" is the text layer's TF-IDF model, named as reviews name it
KIND_ALIASES = {"linear": "tfidf"}


def make_model(kind: str, **params) -> TextClassifier:
    """A fresh classifier of the named kind: the paper's SVM, or the shared TF-IDF linear model ("tfidf", once
    "linear") or BiLSTM on pretrained embeddings ("neural") of ``niaga.text.classify`` (PyTorch imported only for
    that one)."""
    kind = KIND_ALIASES.get(kind, kind)
    if kind == "svm-rbf":
        from niaga.social.paper import PaperSVMClassifier as cls
    elif kind == "tfidf":
        from niaga.text.classify.tfidf import TfidfTextClassifier as cls
    elif kind == "neural":
        from niaga.text.classify.neural import NeuralTextClassifier as cls
    else:
        raise ValueError(f"unknown model kind {kind!r}; choose one of {', '.join(MODEL_KINDS)}")
    return cls(**params)
