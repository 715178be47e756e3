"""The fast default review classifier: TF-IDF word + character n-grams, a linear SVM, calibrated probabilities."""

from __future__ import annotations

from collections import Counter
from typing import Sequence

import numpy as np
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from niaga.reviews.base import TextClassifier
from niaga.text import TextNormalizer


class TfidfTextClassifier(TextClassifier):
    """Normalize, vectorize with word and char_wb TF-IDF (sublinear tf), classify with a linear SVM.

    Probabilities come from Platt scaling fitted on out-of-fold decision values
    (CalibratedClassifierCV with ``ensemble=False``: one SVM at prediction time, so it stays fast).
    """

    def __init__(self, normalizer: TextNormalizer | None = None, word_ngrams: tuple[int, int] = (1, 2),
                 char_ngrams: tuple[int, int] = (2, 5), min_df: int = 2, max_features: int | None = 300_000,
                 C: float = 0.3, class_weight: str | None = "balanced", calibration: str = "sigmoid",
                 calibration_cv: int = 5, random_state: int = 0):
        self.normalizer = normalizer
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.min_df = min_df
        self.max_features = max_features
        self.C = C
        self.class_weight = class_weight
        self.calibration = calibration
        self.calibration_cv = calibration_cv
        self.random_state = random_state

    def _vectorizer(self, n_docs: int) -> FeatureUnion:
        min_df = self.min_df if n_docs >= 50 else 1  # tiny training sets would keep no feature
        parts = []
        if self.word_ngrams:
            parts.append(("word", TfidfVectorizer(ngram_range=tuple(self.word_ngrams), sublinear_tf=True, min_df=min_df,
                                                  token_pattern=r"(?u)\b\w[\w-]*\b", max_features=self.max_features,
                                                  dtype=np.float32)))
        if self.char_ngrams:
            parts.append(("char", TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(self.char_ngrams),
                                                  sublinear_tf=True, min_df=min_df, max_features=self.max_features,
                                                  dtype=np.float32)))
        if not parts:
            raise ValueError("word_ngrams and char_ngrams cannot both be empty")
        return FeatureUnion(parts)

    def fit(self, X: Sequence[str], y: Sequence):
        texts, labels = self.check_training_data(X, y)
        self.normalizer_ = clone(self.normalizer) if self.normalizer is not None else TextNormalizer()
        normalized = self.normalizer_.fit().transform(texts)
        self.vectorizer_ = self._vectorizer(len(texts))
        features = self.vectorizer_.fit_transform(normalized)
        svm = LinearSVC(C=self.C, class_weight=self.class_weight, random_state=self.random_state)
        folds = min(self.calibration_cv, min(Counter(labels).values()))
        self.classifier_ = CalibratedClassifierCV(svm, method=self.calibration, cv=folds, ensemble=False)
        self.classifier_.fit(features, labels)
        self.classes_ = self.classifier_.classes_
        return self

    def transform_features(self, X: Sequence[str]):
        texts = [t if isinstance(t, str) else "" for t in X]
        return self.vectorizer_.transform(self.normalizer_.transform(texts))

    def decision_function(self, X: Sequence[str]) -> np.ndarray:
        return self.classifier_.calibrated_classifiers_[0].estimator.decision_function(self.transform_features(X))

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        return self.classifier_.predict_proba(self.transform_features(X))
