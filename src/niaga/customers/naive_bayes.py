"""A categorical Naive Bayes that trains from rows or from a table of counts, as seed 003 does by hand.

Hand-written rather than scikit-learn's CategoricalNB because the seed's method needs three things that
one lacks: training from a published count table (no rows), categories declared with a zero count
(Table 1's "Mengetahui Shopee = Tidak"), and exact zero probabilities when ``alpha=0`` (the paper's
unsmoothed estimate). Missing values (None/NaN) and values never seen in training contribute no factor.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, column_or_1d

from niaga.modeling import NiagaModel

ATTRIBUTE, VALUE = "attribute", "value"


def category_frame(X, feature_names: Sequence[str] | None = None) -> pd.DataFrame:
    """Rows of categorical attributes as a frame with text column names: a frame, or a dense 2-D array whose
    columns are ``feature_names`` (default x0, x1, ...)."""
    if isinstance(X, pd.DataFrame):
        return X.rename(columns=str)  # attributes are named by text, as in the count table
    if sp.issparse(X):
        raise TypeError("sparse input is not supported: a categorical table is dense (one column per attribute)")
    array = np.asarray(X, dtype=object)
    if array.ndim != 2:
        raise ValueError(f"expected a 2-D table of categories, got shape {array.shape}; Reshape your data: one row "
                         "per example, one column per attribute")
    if array.shape[1] == 0:
        raise ValueError(f"0 feature(s) (shape={array.shape}) while a minimum of 1 is required: no attribute column")
    if feature_names is not None and array.shape[1] != len(feature_names):
        raise ValueError(f"X has {array.shape[1]} features, but CategoricalNaiveBayes is expecting "
                         f"{len(feature_names)} features as input")
    names = list(feature_names) if feature_names is not None else [f"x{i}" for i in range(array.shape[1])]
    return pd.DataFrame(array, columns=names)


def _categories(values: pd.Series) -> pd.Series:
    """Categories as text; missing cells stay missing."""
    return values.astype("string").str.strip().replace("", pd.NA)


class CategoricalNaiveBayes(NiagaModel, ClassifierMixin, BaseEstimator):
    """P(class | x) ∝ P(class) · Π P(x_i | class), every attribute categorical.

    ``alpha``: Laplace (additive) smoothing; 0 reproduces the paper's relative frequencies, where one
    zero count erases a class whatever the other attributes say. ``class_weight="balanced"`` weighs
    each class by n / (n_classes · n_class), which makes the prior uniform.
    """

    task = "customers"

    def __init__(self, alpha: float = 0.0, class_weight: str | None = None):
        self.alpha = alpha
        self.class_weight = class_weight

    # ---- training -------------------------------------------------------------------------------
    def fit(self, X, y, sample_weight=None) -> "CategoricalNaiveBayes":
        """Count every attribute value per class in the rows ``X`` (a frame or 2-D array) with labels ``y``."""
        frame = category_frame(X).reset_index(drop=True)
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        labels = pd.Series(y)  # classes_ keep the labels' type (numbers stay numbers)
        if len(frame) != len(labels):
            raise ValueError(f"{len(frame)} rows but {len(labels)} labels")
        weights = pd.Series(_check_sample_weight(sample_weight, frame.to_numpy(), ensure_non_negative=True))
        if weights.sum() <= 0:
            raise ValueError("sample_weight: the weights add up to 0, so no class has a count")
        classes = sorted(labels.unique())
        blocks = []
        for column in frame.columns:
            values = _categories(frame[column])
            table = weights.groupby([values, labels], dropna=True).sum().unstack(fill_value=0.0)
            blocks.append(table.reindex(columns=classes, fill_value=0.0).rename_axis(VALUE).reset_index()
                          .assign(**{ATTRIBUTE: str(column)}))
        counts = pd.concat(blocks, ignore_index=True)
        class_totals = weights.groupby(labels).sum().reindex(classes).to_numpy(dtype=float)
        return self._set_counts(counts, classes, class_totals)

    def fit_counts(self, counts: pd.DataFrame) -> "CategoricalNaiveBayes":
        """Train from a table of counts: columns ``attribute``, ``value`` and one column of counts per class.

        Each class's counts must add up to the same total in every attribute (that total is the class size);
        a mismatch names the attribute, which catches mistyped tables.
        """
        missing = [c for c in (ATTRIBUTE, VALUE) if c not in counts.columns]
        if missing:
            raise ValueError(f"count table lacks column(s) {missing}; it needs attribute, value and one column per class")
        classes = [str(c) for c in counts.columns if c not in (ATTRIBUTE, VALUE)]
        table = counts.rename(columns={c: str(c) for c in counts.columns})
        numeric = table[classes].apply(pd.to_numeric, errors="coerce")
        if numeric.isna().any().any() or (numeric < 0).any().any():
            raise ValueError("count table: every class column must hold non-negative numbers")
        totals = numeric.groupby(table[ATTRIBUTE], sort=False).sum()
        class_totals = totals.iloc[0].to_numpy(dtype=float)
        for attribute, row in totals.iterrows():
            if not np.allclose(row.to_numpy(dtype=float), class_totals):
                raise ValueError(f"count table: attribute {attribute!r} adds up to {row.to_dict()} per class, "
                                 f"attribute {totals.index[0]!r} to {dict(zip(classes, class_totals))}")
        return self._set_counts(table[[ATTRIBUTE, VALUE]].assign(**numeric), classes, class_totals)

    @classmethod
    def from_counts(cls, counts: pd.DataFrame, **params) -> "CategoricalNaiveBayes":
        return cls(**params).fit_counts(counts)

    def _set_counts(self, counts: pd.DataFrame, classes: list[str], class_totals: np.ndarray) -> "CategoricalNaiveBayes":
        if self.alpha < 0:
            raise ValueError(f"alpha must be >= 0, got {self.alpha!r}")
        if len(classes) < 2:
            raise ValueError(f"need at least 2 classes to train, got {len(classes)} class: {classes}")
        self.classes_ = np.asarray(classes)
        self.class_count_ = np.asarray(class_totals, dtype=float)
        self.feature_names_in_ = np.asarray(pd.unique(counts[ATTRIBUTE]), dtype=object)
        self.categories_, self.category_count_ = [], []
        for attribute in self.feature_names_in_:
            block = counts[counts[ATTRIBUTE] == attribute]
            self.categories_.append(block[VALUE].astype(str).to_numpy(dtype=object))
            self.category_count_.append(block[classes].to_numpy(dtype=float).T)  # (n_classes, n_values)
        self.n_features_in_ = len(self.feature_names_in_)
        if self.class_weight == "balanced":  # scikit-learn's n / (n_classes · n_class), from the totals
            self.class_weight_ = np.divide(class_totals.sum(), len(classes) * class_totals,
                                           out=np.zeros(len(classes)), where=class_totals > 0)
        elif self.class_weight is None:
            self.class_weight_ = np.ones(len(classes))
        elif isinstance(self.class_weight, dict):
            self.class_weight_ = np.asarray([float(self.class_weight.get(c, 1.0)) for c in classes])
        else:
            raise ValueError(f"class_weight must be None, 'balanced' or a dict class -> weight, got "
                             f"{self.class_weight!r}")
        return self

    # ---- the learned probabilities --------------------------------------------------------------
    @property
    def class_prior_(self) -> np.ndarray:
        weighted = self.class_count_ * self.class_weight_
        return weighted / weighted.sum()

    def feature_probabilities(self, index: int) -> np.ndarray:
        """P(value | class) for attribute ``index``: shape (n_classes, n_values)."""
        counts = self.category_count_[index] + self.alpha
        totals = counts.sum(axis=1, keepdims=True)
        return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)

    def conditional_probabilities(self) -> pd.DataFrame:
        """Every P(value | class) as a table: the paper's Table 2 (one row per attribute value)."""
        blocks = [pd.DataFrame(self.feature_probabilities(i).T, columns=list(self.classes_))
                  .assign(**{ATTRIBUTE: name, VALUE: self.categories_[i]})
                  for i, name in enumerate(self.feature_names_in_)]
        table = pd.concat(blocks, ignore_index=True)
        return table[[ATTRIBUTE, VALUE, *self.classes_]]

    # ---- prediction -----------------------------------------------------------------------------
    def joint_log_scores(self, X) -> np.ndarray:
        """log P(class) + Σ log P(x_i | class) per row; -inf where a factor is zero."""
        frame = category_frame(X, self.feature_names_in_)
        missing = [f for f in self.feature_names_in_ if f not in frame.columns]
        if missing:
            raise ValueError(f"missing attribute column(s) {missing}; the model uses {list(self.feature_names_in_)}")
        with np.errstate(divide="ignore"):
            scores = np.tile(np.log(self.class_prior_), (len(frame), 1))
            for i, name in enumerate(self.feature_names_in_):
                log_p = np.log(self.feature_probabilities(i))
                codes = pd.Index(self.categories_[i]).get_indexer(_categories(frame[name]).astype(object))
                known = codes >= 0  # missing and unseen values contribute no factor
                scores[known] += log_p[:, codes[known]].T
        return scores

    def joint_scores(self, X) -> pd.DataFrame:
        """The paper's score P(class) · Π P(x_i | class) per row and class (not normalized)."""
        return pd.DataFrame(np.exp(self.joint_log_scores(X)), columns=list(self.classes_))

    def predict_log_proba(self, X) -> np.ndarray:
        scores = self.joint_log_scores(X)
        # A row every class scores zero for (possible only with alpha=0) carries no usable evidence: use the prior.
        erased = np.isneginf(scores).all(axis=1)
        scores[erased] = np.log(self.class_prior_)
        top = scores.max(axis=1, keepdims=True)
        return scores - (top + np.log(np.exp(scores - top).sum(axis=1, keepdims=True)))

    def predict_proba(self, X) -> np.ndarray:
        return np.exp(self.predict_log_proba(X))

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_log_proba(X), axis=1)]
