"""NB-SVM (Wang & Manning 2012): a linear SVM on features scaled by their naive-Bayes log-count ratio."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.svm import LinearSVC
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, check_non_negative, validate_data


class NBSVMClassifier(ClassifierMixin, BaseEstimator):
    """One-vs-rest NB-SVM on non-negative sparse features (counts or TF-IDF).

    For each class, r = log((p / |p|_1) / (q / |q|_1)) with p, q the feature sums (+ ``alpha``) over the
    class's documents and over the rest; a LinearSVC is fitted on X * r and r is folded into its
    weights, so prediction is one sparse product like any linear model. scikit-learn has no NB-SVM;
    on EmoT and PRDECT-ID emotion it beats a plain linear SVM by 1-3 macro-F1 points.
    """

    def __init__(self, C: float = 0.3, alpha: float = 0.25, class_weight: str | None = "balanced",
                 random_state: int = 0):
        self.C = C
        self.alpha = alpha
        self.class_weight = class_weight
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.positive_only = True  # the log-count ratio needs non-negative features
        return tags

    def fit(self, X, y):
        X, y = validate_data(self, X, y, accept_sparse="csr", dtype=(np.float64, np.float32))
        check_non_negative(X, "NBSVMClassifier (counts or TF-IDF features)")  # the log-count ratio needs them
        X = sp.csr_matrix(X)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError(f"need at least 2 classes to train, got 1 class: {self.classes_[0]!r}")
        targets = self.classes_[1:] if len(self.classes_) == 2 else self.classes_
        weights, intercepts = [], []
        for target in targets:
            is_target = y == target
            p = np.asarray(X[is_target].sum(axis=0)).ravel() + self.alpha
            q = np.asarray(X[~is_target].sum(axis=0)).ravel() + self.alpha
            ratio = np.log((p / p.sum()) / (q / q.sum())).astype(np.float32)
            svm = LinearSVC(C=self.C, class_weight=self.class_weight, random_state=self.random_state)
            svm.fit(X.multiply(ratio).tocsr(), is_target.astype(int))
            weights.append(svm.coef_.ravel() * ratio)
            intercepts.append(svm.intercept_[0])
        self.coef_ = np.vstack(weights).astype(np.float32)
        self.intercept_ = np.asarray(intercepts)
        return self

    def decision_function(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", reset=False, dtype=(np.float64, np.float32))
        scores = np.asarray(X @ self.coef_.T) + self.intercept_
        return scores.ravel() if len(self.classes_) == 2 else scores

    def predict(self, X):
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(int)]
        return self.classes_[np.argmax(scores, axis=1)]
