"""The fast default text classifier: TF-IDF word + character n-grams, linear models, calibrated probabilities."""

from __future__ import annotations

from collections import Counter
from typing import Sequence

import numpy as np
from scipy import sparse
from scipy.special import expit
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from niaga.text.classify.base import TextClassifier
from niaga.text.classify.nbsvm import NBSVMClassifier
from niaga.text.features import CachedCharWbTfidfVectorizer, CompactTfidfVectorizer
from niaga.text.normalize import TextNormalizer

LINEAR_MODELS = ("svm", "nbsvm", "svm+nbsvm")


def default_normalizer() -> TextNormalizer:
    """Hashtag words, digits and punctuation stay: as character n-grams they carry signal
    (chosen on EmoT/SmSA validation and PRDECT-ID CV, see docs/benchmarks.md)."""
    return TextNormalizer(clean_hashtags=False, clean_digits=False, clean_punctuation=False)


class TfidfTextClassifier(TextClassifier):
    """Normalize, vectorize with word and char_wb TF-IDF (sublinear tf), classify with linear models.

    ``linear_model``: "svm" (LinearSVC), "nbsvm" (NB-SVM) or "svm+nbsvm" (the mean of both models'
    probabilities, the default). Probabilities come from Platt scaling fitted on out-of-fold decision
    values (CalibratedClassifierCV with ``ensemble=False``: one model each at prediction time, so it
    stays fast).
    """

    def __init__(self, normalizer: TextNormalizer | None = None, word_ngrams: tuple[int, int] = (1, 2),
                 char_ngrams: tuple[int, int] = (2, 6), min_df: int = 2, max_features: int | None = 300_000,
                 linear_model: str = "svm+nbsvm", C: float = 0.3, nb_C: float = 0.3, nb_alpha: float = 0.25,
                 class_weight: str | None = "balanced", calibration: str = "sigmoid", calibration_cv: int = 5,
                 random_state: int = 0):
        self.normalizer = normalizer
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.min_df = min_df
        self.max_features = max_features
        self.linear_model = linear_model
        self.C = C
        self.nb_C = nb_C
        self.nb_alpha = nb_alpha
        self.class_weight = class_weight
        self.calibration = calibration
        self.calibration_cv = calibration_cv
        self.random_state = random_state

    def _vectorizer(self, n_docs: int) -> FeatureUnion:
        min_df = self.min_df if n_docs >= 50 else 1  # tiny training sets would keep no feature
        parts = []
        if self.word_ngrams:
            parts.append(("word", CompactTfidfVectorizer(ngram_range=tuple(self.word_ngrams), sublinear_tf=True, min_df=min_df,
                                                  token_pattern=r"(?u)\b\w[\w-]*\b", max_features=self.max_features,
                                                  dtype=np.float32)))
        if self.char_ngrams:
            parts.append(("char", CachedCharWbTfidfVectorizer(analyzer="char_wb", ngram_range=tuple(self.char_ngrams),
                                                              sublinear_tf=True, min_df=min_df,
                                                              max_features=self.max_features, dtype=np.float32)))
        if not parts:
            raise ValueError("word_ngrams and char_ngrams cannot both be empty")
        return FeatureUnion(parts)

    def _linear_models(self) -> list:
        if self.linear_model not in LINEAR_MODELS:
            raise ValueError(f"linear_model must be one of {', '.join(LINEAR_MODELS)}, got {self.linear_model!r}")
        models = []
        if "svm" in self.linear_model.split("+"):
            models.append(LinearSVC(C=self.C, class_weight=self.class_weight, random_state=self.random_state))
        if "nbsvm" in self.linear_model.split("+"):
            models.append(NBSVMClassifier(C=self.nb_C, alpha=self.nb_alpha, class_weight=self.class_weight,
                                          random_state=self.random_state))
        return models

    def fit(self, X: Sequence[str], y: Sequence):
        texts, labels = self.check_training_data(X, y)
        models = self._linear_models()
        self.normalizer_ = clone(self.normalizer) if self.normalizer is not None else default_normalizer()
        normalized = self.normalizer_.fit().transform(texts)
        self.vectorizer_ = self._vectorizer(len(texts))
        features = self.vectorizer_.fit_transform(normalized)
        folds = min(self.calibration_cv, min(Counter(labels).values()))
        self.classifiers_ = [CalibratedClassifierCV(model, method=self.calibration, cv=folds, ensemble=False)
                             .fit(features, labels) for model in models]
        self.classes_ = self.classifiers_[0].classes_
        return self

    def transform_features(self, X: Sequence[str]):
        texts = self.normalizer_.transform([t if isinstance(t, str) else "" for t in X])
        union = self.vectorizer_
        if union.transformer_weights is None and all(hasattr(t, "transform") for _, t in union.transformer_list):
            # what FeatureUnion.transform computes, without its per-call joblib dispatch and checks (a third
            # of a one-review call's time)
            return sparse.hstack([t.transform(texts) for _, t in union.transformer_list]).tocsr()
        return union.transform(texts)

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        features = self.transform_features(X)
        return sum(_calibrated_proba(c, features) for c in self.classifiers_) / len(self.classifiers_)


def _calibrated_proba(classifier: CalibratedClassifierCV, features) -> np.ndarray:
    """``classifier.predict_proba(features)``. For the sigmoid-calibrated linear models this classifier fits (one
    calibrated model, ``ensemble=False``) it is computed here with numpy: scikit-learn's call validates its input
    some 20 times and calibrates class by class through further checks, a fixed cost of several milliseconds that
    made one review's classification as slow as 32 reviews' (the API answers one review per request). The same
    arithmetic as scikit-learn's ``_CalibratedClassifier.predict_proba`` (tests compare them)."""
    calibrated = getattr(classifier, "calibrated_classifiers_", [None])
    model = calibrated[0].estimator if len(calibrated) == 1 and calibrated[0] is not None else None
    if (model is None or calibrated[0].method != "sigmoid" or not hasattr(model, "coef_")
            or not all(hasattr(c, "a_") and hasattr(c, "b_") for c in calibrated[0].calibrators)):
        return classifier.predict_proba(features)
    calibrated = calibrated[0]
    scores = np.asarray(features @ np.asarray(model.coef_).T) + model.intercept_
    classes = np.asarray(calibrated.classes)
    proba = np.zeros((features.shape[0], len(classes)))
    if len(classes) == 2:
        calibrator = calibrated.calibrators[0]
        proba[:, 1] = expit(-(calibrator.a_ * scores[:, -1] + calibrator.b_))
        proba[:, 0] = 1.0 - proba[:, 1]
    else:
        for index, column, calibrator in zip(np.searchsorted(classes, model.classes_), scores.T,
                                             calibrated.calibrators):
            proba[:, index] = expit(-(calibrator.a_ * column + calibrator.b_))
        total = proba.sum(axis=1)[:, np.newaxis]
        proba = np.divide(proba, total, out=np.full_like(proba, 1 / len(classes)), where=total != 0)
    proba[(1.0 < proba) & (proba <= 1.0 + 1e-5)] = 1.0
    return proba
