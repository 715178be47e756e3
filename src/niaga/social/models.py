"""The post classifiers `niaga social train --model` offers; every one is a scikit-learn estimator."""

from __future__ import annotations

from niaga.reviews.base import TextClassifier
from niaga.reviews.tfidf import TfidfTextClassifier

MODEL_KINDS = ("svm-rbf", "linear", "neural")


class LinearPostClassifier(TfidfTextClassifier):
    """The reviews issue's TF-IDF word + character linear model, for posts."""

    task = "social"


def make_model(kind: str, **params) -> TextClassifier:
    """A fresh classifier of the named kind (PyTorch imported only for the neural one)."""
    if kind == "svm-rbf":
        from niaga.social.paper import PaperSVMClassifier as cls
    elif kind == "linear":
        cls = LinearPostClassifier
    elif kind == "neural":
        from niaga.social.neural import NeuralPostClassifier as cls
    else:
        raise ValueError(f"unknown model kind {kind!r}; choose one of {', '.join(MODEL_KINDS)}")
    return cls(**params)
