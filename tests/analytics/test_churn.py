"""Churn on a synthetic log: loyal customers keep buying, others stop; the model is measured at a later cut-off."""

import json

import numpy as np
import pandas as pd

from niaga.analytics import churn
from niaga.cli import main


def synthetic_orders(customers: int = 240, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start, rows = pd.Timestamp("2023-01-01"), []
    for c in range(customers):
        gap = rng.uniform(5, 40)  # days between orders
        stop = rng.uniform(30, 400)  # the customer leaves after this many days
        day = rng.uniform(0, 30)
        while day < min(stop, 360):
            rows.append((f"{100000 + len(rows)}", start + pd.Timedelta(days=day), c, "X", 2, 3.5))
            day += rng.exponential(gap)
    return pd.DataFrame(rows, columns=["InvoiceNo", "InvoiceDate", "CustomerID", "StockCode", "Quantity", "UnitPrice"])


def test_churn_cli_time_split(tmp_path):
    data = tmp_path / "orders.parquet"
    synthetic_orders().to_parquet(data)
    segments = tmp_path / "segments"
    segments.mkdir()
    pd.DataFrame({"customer_id": [str(c) for c in range(240)],
                  "segment": ["loyal" if c % 2 else "at risk" for c in range(240)]}).to_csv(
        segments / "segments.csv", index=False)
    out = tmp_path / "churn"
    assert main(["forecast", "churn", "--data", str(data), "--out", str(out), "--days", "60",
                 "--segments", str(segments)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["evaluated_at"] > metrics["trained_at"]
    assert metrics["roc_auc"] > 0.6 and metrics["baseline_roc_auc"] > 0.5
    scored = pd.read_csv(out / "churn.csv")
    assert scored["churn_probability"].between(0, 1).all()
    assert set(pd.read_csv(out / "churn_by_segment.csv")["segment"]) == {"loyal", "at risk"}
    assert (out / "model" / "model.json").exists() and (out / "calibration.png").exists()


def test_features_only_see_the_past():
    orders = synthetic_orders(40)
    lines, returns = churn.purchase_lines(orders)
    cutoff = pd.Timestamp("2023-06-01")
    table = churn.features(lines, returns, cutoff)
    seen = lines[lines["date"] < cutoff + pd.Timedelta(days=1)]
    assert set(table.index) == set(seen["customer_id"])
    assert (table["recency"] >= 0).all()
