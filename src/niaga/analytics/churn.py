"""Churn: the probability that a customer does not buy again within N days, from the order log alone.

Features at a cut-off (purchases on or before it): recency, frequency, monetary, tenure, orders and spend in
the last 30 / 90 / 180 days, the mean gap between orders and recency against it, the average order value,
returns. Label: no purchase in the N days after the cut-off.

Time split, so no figure comes from data the model saw: the evaluation model is trained at ``end − 2N``
(labels from the N days after it), and measured at ``end − N`` (labels from the last N days), beside a
recency-only baseline (the longer since the last order, the likelier gone: RFM's R). The model that scores
customers is trained at ``end − N`` (its labels end with the log) and applied at ``end``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from threadpoolctl import threadpool_limits

from niaga.data.io import read_table, write_table
from niaga.data.transactions import CANCELLATION, RETURN, classify_lines, read_log
from niaga.errors import DataError
from niaga.modeling import NiagaModel, fingerprint, save_model

FEATURES = ["recency", "frequency", "monetary", "tenure", "orders_30", "orders_90", "orders_180", "spend_90",
            "mean_gap", "recency_over_gap", "order_value", "returns"]


class ChurnModel(NiagaModel, ClassifierMixin, BaseEstimator):
    """Gradient-boosted trees (scikit-learn's histogram GBM) on the features above; class 1 = churned.

    Learned state: ``model_`` (the fitted classifier), ``classes_``, ``days_`` (the window N it was trained for).
    """

    task = "churn"

    def __init__(self, days: int = 90, max_iter: int = 200, learning_rate: float = 0.05, max_leaf_nodes: int = 15,
                 seed: int = 0):
        self.days = days
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.seed = seed

    def fit(self, X: pd.DataFrame, y):
        from sklearn.ensemble import HistGradientBoostingClassifier

        self.model_ = HistGradientBoostingClassifier(max_iter=self.max_iter, learning_rate=self.learning_rate,
                                                     max_leaf_nodes=self.max_leaf_nodes, l2_regularization=1.0,
                                                     random_state=self.seed)
        with threadpool_limits(1):  # OpenMP threads on 2 busy cores cost far more than they save on this size
            self.model_.fit(np.asarray(X[FEATURES], dtype=float), np.asarray(y, dtype=int))
        self.classes_ = self.model_.classes_
        self.days_ = int(self.days)
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        with threadpool_limits(1):
            return self.model_.predict_proba(np.asarray(X[FEATURES], dtype=float))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


def purchase_lines(raw: pd.DataFrame, source: str | Path = "orders") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(purchases: customer_id, invoice, date, amount; returns: customer_id, date), cleaned as the segments are."""
    frame, reason = classify_lines(raw, source)
    keep = reason.isna()
    lines = frame.loc[keep, ["customer_id", "invoice", "date"]].assign(
        amount=frame.loc[keep, "quantity"] * frame.loc[keep, "price"])
    returned = reason.isin([CANCELLATION, RETURN]) & frame["customer_id"].notna() & frame["date"].notna()
    return lines.reset_index(drop=True), frame.loc[returned, ["customer_id", "date"]].reset_index(drop=True)


def features(lines: pd.DataFrame, returns: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """One row per customer with a purchase on or before ``cutoff``, indexed by customer_id."""
    end = cutoff.normalize() + pd.Timedelta(days=1)
    seen = lines[lines["date"] < end]
    if seen.empty:
        raise DataError(f"no purchase on or before {cutoff.date()}: the cut-off is before the log starts")
    orders = seen.groupby(["customer_id", "invoice"]).agg(date=("date", "min"), amount=("amount", "sum")).reset_index()
    age = (end - orders["date"]).dt.total_seconds() / 86400
    by = orders.groupby("customer_id")
    table = pd.DataFrame({
        "recency": (end - by["date"].max()).dt.total_seconds() / 86400,
        "frequency": by.size().astype(float),
        "monetary": by["amount"].sum(),
        "tenure": (end - by["date"].min()).dt.total_seconds() / 86400,
    })
    for days in (30, 90, 180):
        table[f"orders_{days}"] = orders[age <= days].groupby("customer_id").size().reindex(table.index).fillna(0)
    table["spend_90"] = orders[age <= 90].groupby("customer_id")["amount"].sum().reindex(table.index).fillna(0)
    table["mean_gap"] = np.where(table["frequency"] > 1, (table["tenure"] - table["recency"])
                                 / (table["frequency"] - 1).clip(lower=1), np.nan)
    table["recency_over_gap"] = table["recency"] / table["mean_gap"]
    table["order_value"] = table["monetary"] / table["frequency"]
    table["returns"] = (returns[returns["date"] < end].groupby("customer_id").size()
                        .reindex(table.index).fillna(0).astype(float))
    return table


def labels(lines: pd.DataFrame, customers: pd.Index, cutoff: pd.Timestamp, days: int) -> np.ndarray:
    """1 where the customer bought nothing in the ``days`` days after the cut-off."""
    start = cutoff.normalize() + pd.Timedelta(days=1)
    later = lines[(lines["date"] >= start) & (lines["date"] < start + pd.Timedelta(days=days))]
    return (~customers.isin(later["customer_id"].unique())).astype(int)


def calibration_table(y: np.ndarray, p: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Predicted against observed churn per decile of predicted probability."""
    frame = pd.DataFrame({"y": y, "p": p})
    frame["bin"] = pd.qcut(frame["p"].rank(method="first"), min(bins, len(frame)), labels=False)
    table = frame.groupby("bin").agg(predicted=("p", "mean"), observed=("y", "mean"), customers=("y", "size"))
    return table.reset_index(drop=True)


def time_split(lines: pd.DataFrame, returns: pd.DataFrame, end: pd.Timestamp, days: int) -> dict:
    """Train at end − 2·days, measure at end − days: the model's and the recency baseline's figures."""
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    train_at, test_at = end - pd.Timedelta(days=2 * days), end - pd.Timedelta(days=days)
    X_train = features(lines, returns, train_at)
    y_train = labels(lines, X_train.index, train_at, days)
    X_test = features(lines, returns, test_at)
    y_test = labels(lines, X_test.index, test_at, days)
    if len(set(y_train)) < 2 or len(set(y_test)) < 2:
        raise DataError(f"the log needs churned and returning customers at both cut-offs ({train_at.date()}, "
                        f"{test_at.date()}): a longer log or a shorter --days")
    model = ChurnModel(days=days).fit(X_train, y_train)
    p = model.predict_proba(X_test)[:, 1]
    recency = X_test["recency"].to_numpy()
    calibration = calibration_table(y_test, p)
    return {
        "trained_at": str(train_at.date()), "evaluated_at": str(test_at.date()), "days": days,
        "customers": int(len(y_test)), "train_customers": int(len(y_train)), "churn_rate": float(y_test.mean()),
        "roc_auc": float(roc_auc_score(y_test, p)), "average_precision": float(average_precision_score(y_test, p)),
        "brier_score": float(brier_score_loss(y_test, p)),
        "expected_calibration_error": float(np.average((calibration["predicted"] - calibration["observed"]).abs(),
                                                       weights=calibration["customers"])),
        "baseline_roc_auc": float(roc_auc_score(y_test, recency)),
        "baseline_average_precision": float(average_precision_score(y_test, recency)),
        "calibration": calibration.round(4).to_dict("records"),
    }


def run(data: str | Path, out: str | Path, days: int = 90, as_of: str | None = None, segments: str | None = None,
        log: Callable[[str], None] = lambda _: None) -> dict:
    """Evaluate on the time split, train at end − days, score every customer at ``as_of``; write the outputs."""
    if days < 1:
        raise DataError(f"--days must be at least 1, got {days}")
    lines, returns = purchase_lines(read_log(data), data)
    end = pd.Timestamp(as_of).normalize() if as_of else lines["date"].max().normalize()
    if pd.isna(end):
        raise DataError(f"{as_of!r} is not a date; expected YYYY-MM-DD")
    metrics = time_split(lines, returns, end, days)
    log(f"time split: ROC-AUC {metrics['roc_auc']:.3f} against recency only {metrics['baseline_roc_auc']:.3f}")
    fit_at = end - pd.Timedelta(days=days)
    X_fit = features(lines, returns, fit_at)
    model = ChurnModel(days=days).fit(X_fit, labels(lines, X_fit.index, fit_at, days))
    X_now = features(lines, returns, end)
    scored = X_now.assign(churn_probability=model.predict_proba(X_now)[:, 1].round(4)).reset_index()
    scored = scored[["customer_id", "churn_probability", "recency", "frequency", "monetary"]].round(2)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    by_segment = None
    if segments:
        table = read_table(Path(segments) / "segments.csv", dtype={"customer_id": str})
        scored = scored.merge(table[["customer_id", "segment"]], on="customer_id", how="left")
        by_segment = (scored.groupby("segment", dropna=False)
                      .agg(customers=("customer_id", "size"), mean_churn_probability=("churn_probability", "mean"),
                           likely_to_churn=("churn_probability", lambda p: int((p >= 0.5).sum())))
                      .round(4).reset_index())
        write_table(by_segment, out / "churn_by_segment.csv")
    scored = scored.sort_values("churn_probability", ascending=False)
    write_table(scored, out / "churn.csv")
    save_model(model, out / "model", metrics={k: v for k, v in metrics.items() if k != "calibration"},
               data_sha256=fingerprint(X_fit.index, X_fit["frequency"]), data_rows=len(X_fit),
               extra={"trained_at": str(fit_at.date())})
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    _plot(pd.DataFrame(metrics["calibration"]), out / "calibration.png")
    _report(out, metrics, scored, by_segment, end)
    return {"metrics": metrics, "scored": len(scored), "as_of": str(end.date())}


def _plot(calibration: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.2, 4))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="perfect")
    ax.plot(calibration["predicted"], calibration["observed"], marker="o", label="churn model")
    ax.set_xlabel("predicted churn probability (decile mean)")
    ax.set_ylabel("observed churn rate")
    ax.set_title("Churn calibration (later cut-off)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _report(out: Path, m: dict, scored: pd.DataFrame, by_segment: pd.DataFrame | None, end: pd.Timestamp) -> None:
    lines = ["# Churn", "",
             f"Churn = no purchase within {m['days']} days. Trained at {m['trained_at']} ({m['train_customers']:,} "
             f"customers), measured at {m['evaluated_at']} ({m['customers']:,} customers, churn rate "
             f"{m['churn_rate']:.1%}); the customers below are scored at {end.date()}.", "",
             "| | ROC-AUC | PR-AUC |", "|---|---|---|",
             f"| churn model | {m['roc_auc']:.3f} | {m['average_precision']:.3f} |",
             f"| recency only (RFM's R) | {m['baseline_roc_auc']:.3f} | {m['baseline_average_precision']:.3f} |", "",
             f"Brier score {m['brier_score']:.3f}; expected calibration error {m['expected_calibration_error']:.3f}.",
             "", "![calibration](calibration.png)", ""]
    if by_segment is not None:
        lines += ["## Per segment", "", "| segment | customers | mean churn probability | likely to churn |",
                  "|---|---|---|---|"]
        lines += [f"| {r.segment} | {r.customers:,} | {r.mean_churn_probability:.1%} | {r.likely_to_churn:,} |"
                  for r in by_segment.itertuples()]
    (out / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
