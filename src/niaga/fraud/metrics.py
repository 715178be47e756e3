"""Fraud metrics: AUC ROC and Average Precision (scikit-learn) and the handbook's Card Precision@k."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score


def card_precision_at_k(day, customer, score, label, k: int = 100) -> float:
    """The Fraud Detection Handbook's CP@k: per day, the k cards with the highest max score; the share of them
    that are compromised (max label 1), averaged over days. Compromised cards found in an earlier day's top k
    are removed from later days (``card_precision_top_k`` in the book's shared functions)."""
    frame = pd.DataFrame({"day": np.asarray(day), "customer": np.asarray(customer), "score": np.asarray(score, float),
                          "label": np.asarray(label, float)})
    detected: set = set()
    precisions = []
    for _, group in frame.groupby("day", sort=True):
        group = group[~group["customer"].isin(detected)]
        cards = group.groupby("customer")[["score", "label"]].max().sort_values("score", ascending=False).head(k)
        found = cards.index[cards["label"] == 1]
        precisions.append(len(found) / k)
        detected.update(found)
    return float(np.mean(precisions)) if precisions else float("nan")


def fraud_metrics(y, score, day=None, customer=None, k: int = 100) -> dict:
    """roc_auc, average_precision (and card_precision_at_100 when days and customers are given)."""
    y = np.asarray(y, dtype=float)
    score = np.asarray(score, dtype=float)
    out = {"n": int(len(y)), "frauds": int(y.sum())}
    if len(np.unique(y)) == 2:
        out["roc_auc"] = float(roc_auc_score(y, score))
        out["average_precision"] = float(average_precision_score(y, score))
    if day is not None and customer is not None:
        out[f"card_precision_at_{k}"] = card_precision_at_k(day, customer, score, y, k)
    return out
