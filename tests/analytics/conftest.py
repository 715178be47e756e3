"""Small synthetic order logs for the analytics tests."""

import numpy as np
import pandas as pd
import pytest


def synthetic_log(weeks: int = 30, seed: int = 0) -> pd.DataFrame:
    """Daily sales from 2023-01-02 (a Monday) for ``weeks`` weeks, ending on a Friday: item A with a fixed
    price and a weekly rhythm, item B whose price moves and whose demand follows price ** -2, item C intermittent.
    Plus a cancellation, a return and a duplicate of a real line."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2023-01-02", periods=weeks * 7 - 2, freq="D")
    rows = []
    for i, day in enumerate(days):
        rows.append(("A", day, int(rng.poisson(20 + 10 * (day.weekday() < 2))), 5.0))
        price = [8.0, 10.0, 12.0][(i // 7) % 3]
        rows.append(("B", day, int(rng.poisson(3000 / price ** 2)) + 1, price))
        if rng.random() < 0.2:
            rows.append(("C", day, int(rng.integers(1, 4)), 2.0))
    frame = pd.DataFrame(rows, columns=["StockCode", "InvoiceDate", "Quantity", "UnitPrice"])
    frame["InvoiceNo"] = [f"{536000 + i}" for i in range(len(frame))]
    frame["CustomerID"] = 12345.0
    extra = pd.DataFrame([
        {"StockCode": "A", "InvoiceDate": days[3], "Quantity": -500, "UnitPrice": 5.0, "InvoiceNo": "C999", "CustomerID": 1.0},
        {"StockCode": "A", "InvoiceDate": days[4], "Quantity": -7, "UnitPrice": 5.0, "InvoiceNo": "999", "CustomerID": 1.0}])
    return pd.concat([frame, extra, frame.iloc[[0]]], ignore_index=True)


@pytest.fixture(scope="session")
def make_log():
    return synthetic_log
