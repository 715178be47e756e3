"""What every text classifier shares: the estimator contract and input checks."""

from __future__ import annotations

from collections import Counter
from typing import Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from niaga.modeling import NiagaModel


class TextClassifier(NiagaModel, ClassifierMixin, BaseEstimator):
    """A classifier of raw text. Subclasses implement ``fit`` and ``predict_proba``.

    The same classifiers serve several capabilities (reviews, social posts): the capability is given
    when the model is saved (``save_model(..., task=...)``), not by the class.
    """

    task = "text"

    def predict(self, X: Sequence[str]) -> np.ndarray:
        return self.predict_and_proba(X)[0]

    def predict_and_proba(self, X: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Labels and class probabilities from one pass over the texts. The label is the most probable class;
        a model with another decision rule overrides this method alone."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)], proba

    def predict_with_confidence(self, X: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Labels and each label's probability."""
        labels, proba = self.predict_and_proba(X)
        return labels, proba[np.arange(len(labels)), np.searchsorted(self.classes_, labels)]  # classes_ are sorted

    def check_positive_ints(self, *names: str) -> None:
        """Raise ValueError naming the first parameter that is not a positive integer."""
        for name in names:
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")

    @staticmethod
    def check_training_data(X: Sequence, y: Sequence, min_per_class: int = 2) -> tuple[list[str], np.ndarray]:
        """Texts as str and labels as an array; refuse what cannot train a classifier."""
        texts = [t if isinstance(t, str) else "" for t in X]
        labels = np.asarray([str(v) for v in y], dtype=object)
        if len(texts) != len(labels):
            raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
        counts = Counter(labels)
        if len(counts) < 2:
            raise ValueError(f"need at least 2 distinct labels to train, got {sorted(counts)}")
        rare = {label: n for label, n in counts.items() if n < min_per_class}
        if rare:
            raise ValueError(f"each label needs at least {min_per_class} examples; too few: {rare}")
        return texts, labels
