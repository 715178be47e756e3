"""Cross-validation that works with any niaga estimator: stratified or grouped k-fold."""

from __future__ import annotations

import time
from typing import Sequence

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
from tqdm.auto import tqdm

from niaga.evaluation.metrics import classification_metrics


def kfold_splits(y: Sequence, n_splits: int = 5, groups: Sequence | None = None, seed: int = 0):
    """Stratified folds; with ``groups`` no group is split across train and test."""
    y = np.asarray(y, dtype=object)
    if groups is None:
        splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
        return list(splitter.split(np.zeros(len(y)), y))
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(y)), y, groups=np.asarray(groups, dtype=object)))


def predict_and_proba(model, X) -> tuple[np.ndarray, np.ndarray | None]:
    """The model's own labels (its decision rule need not be argmax of its probabilities) and its probabilities
    (None without ``predict_proba``), in one pass when the model offers ``predict_and_proba``."""
    if hasattr(model, "predict_and_proba"):
        return model.predict_and_proba(X)
    return model.predict(X), (model.predict_proba(X) if hasattr(model, "predict_proba") else None)


def cross_validate(estimator, X: Sequence, y: Sequence, n_splits: int = 5, groups: Sequence | None = None,
                   seed: int = 0, progress: bool = True) -> dict:
    """Fit a fresh clone per fold; returns per-fold metrics, their mean and std, and out-of-fold predictions."""
    X = np.asarray(X, dtype=object)
    y = np.asarray(y, dtype=object)
    folds = kfold_splits(y, n_splits, groups, seed)
    oof = np.empty(len(y), dtype=object)
    per_fold = []
    for train_idx, test_idx in tqdm(folds, desc=f"{n_splits}-fold CV", disable=not progress):
        model = clone(estimator)
        start = time.perf_counter()
        model.fit(X[train_idx], y[train_idx])
        fit_s = time.perf_counter() - start
        pred, proba = predict_and_proba(model, X[test_idx])
        oof[test_idx] = pred
        fold = classification_metrics(y[test_idx], pred, proba, classes=list(model.classes_))
        fold["fit_seconds"] = fit_s
        per_fold.append(fold)
    keys = [k for k, v in per_fold[0].items() if isinstance(v, float)]
    summary = {k: float(np.mean([f[k] for f in per_fold])) for k in keys}
    summary.update({f"{k}_std": float(np.std([f[k] for f in per_fold])) for k in keys})
    return {"mean": summary, "folds": per_fold, "oof_pred": oof, "n_splits": n_splits}


def near_duplicate_groups(texts: Sequence[str], threshold: float = 0.75) -> np.ndarray:
    """Group ids joining texts whose lower-cased word sets have Jaccard similarity ≥ ``threshold``.

    Templated posts (customer-service replies, ads) are near-copies; keeping each group in one fold stops
    cross-validation from scoring a model on texts it has nearly seen. Connected components of the
    similarity graph, so a chain of near-copies forms one group.
    """
    from scipy.sparse.csgraph import connected_components
    from sklearn.feature_extraction.text import CountVectorizer

    words = CountVectorizer(binary=True, token_pattern=r"(?u)\b\w+\b").fit_transform(
        [t if isinstance(t, str) else "" for t in texts]).astype(np.float32)
    sizes = np.asarray(words.sum(axis=1)).ravel()
    common = (words @ words.T).tocoo()
    union = sizes[common.row] + sizes[common.col] - common.data
    similar = common.data >= threshold * np.maximum(union, 1)
    graph = common.__class__((np.ones(similar.sum()), (common.row[similar], common.col[similar])), shape=common.shape)
    return connected_components(graph, directed=False)[1]
