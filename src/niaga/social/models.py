"""The post classifiers `niaga social train --model` offers; every one is a scikit-learn estimator."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from niaga.text.classify.base import TextClassifier

MODEL_KINDS = ("svm-rbf", "linear", "neural")
DEFAULT_KIND = "linear"


def make_model(kind: str, **params) -> TextClassifier:
    """A fresh classifier of the named kind: the paper's SVM, or the shared TF-IDF linear model ("linear") or
    BiLSTM on pretrained embeddings ("neural") of ``niaga.text.classify`` (PyTorch imported only for that one)."""
    if kind == "svm-rbf":
        from niaga.social.paper import PaperSVMClassifier as cls
    elif kind == "linear":
        from niaga.text.classify.tfidf import TfidfTextClassifier as cls
    elif kind == "neural":
        from niaga.text.classify.neural import NeuralTextClassifier as cls
    else:
        raise ValueError(f"unknown model kind {kind!r}; choose one of {', '.join(MODEL_KINDS)}")
    return cls(**params)
