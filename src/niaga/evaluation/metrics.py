"""Classification metrics under scikit-learn's names, so every report can be read by one script."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn import metrics as skm


def classification_metrics(y_true: Sequence, y_pred: Sequence, proba: np.ndarray | None = None,
                           classes: Sequence | None = None, positive_label=None) -> dict:
    """accuracy, macro/weighted precision/recall/F1, Cohen's kappa, per-class F1; with ``proba``
    also ``roc_auc`` and ``average_precision`` (binary: of ``positive_label`` or the second class;
    multiclass: one-vs-rest macro)."""
    y_true = np.asarray(y_true, dtype=object)
    y_pred = np.asarray(y_pred, dtype=object)
    labels = list(classes) if classes is not None else sorted(set(y_true) | set(y_pred), key=str)
    out = {
        "n": int(len(y_true)),
        "accuracy": float(skm.accuracy_score(y_true, y_pred)),
        "cohen_kappa": float(skm.cohen_kappa_score(y_true, y_pred)),
    }
    for average in ("macro", "weighted"):
        p, r, f, _ = skm.precision_recall_fscore_support(y_true, y_pred, labels=labels, average=average, zero_division=0)
        out[f"precision_{average}"], out[f"recall_{average}"], out[f"f1_{average}"] = float(p), float(r), float(f)
    per_class = skm.f1_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    out["f1_per_class"] = {str(label): float(v) for label, v in zip(labels, per_class)}
    if proba is not None and len(set(y_true)) > 1:
        proba = np.asarray(proba, dtype=float)
        if len(labels) == 2:
            pos = positive_label if positive_label is not None else labels[1]
            score = proba[:, labels.index(pos)]
            target = (y_true == pos).astype(int)
            out["roc_auc"] = float(skm.roc_auc_score(target, score))
            out["average_precision"] = float(skm.average_precision_score(target, score))
        else:
            present = [i for i, label in enumerate(labels) if label in set(y_true)]
            onehot = np.stack([(y_true == labels[i]).astype(int) for i in present], axis=1)
            out["roc_auc"] = float(skm.roc_auc_score(onehot, proba[:, present], average="macro"))
            out["average_precision"] = float(skm.average_precision_score(onehot, proba[:, present], average="macro"))
    return out


def confusion(y_true: Sequence, y_pred: Sequence, labels: Sequence) -> np.ndarray:
    return skm.confusion_matrix(np.asarray(y_true, dtype=object), np.asarray(y_pred, dtype=object), labels=list(labels))


def classification_report_text(y_true: Sequence, y_pred: Sequence, labels: Sequence) -> str:
    return skm.classification_report(np.asarray(y_true, dtype=object), np.asarray(y_pred, dtype=object),
                                     labels=list(labels), digits=4, zero_division=0)
