"""Named, parameterised queries of the warehouse that faces (the API, the dashboard) read: SQL stays in the
store layer, a router only calls a function."""

from __future__ import annotations

import datetime as dt

import pandas as pd


def transactions_after(store, start: dt.datetime, count: int) -> pd.DataFrame:
    """The next ``count`` transactions after ``start`` in time order (id, time, customer, amount, terminal)."""
    return store.db.execute(
        "SELECT transaction_id, timestamp, customer_id, amount, terminal_id FROM transactions WHERE timestamp > ? "
        "ORDER BY timestamp, source_row LIMIT ?", [start, int(count)]).df()


def review_label_counts(store) -> list[tuple[str, int]]:
    """Stored reviews per label, most frequent first."""
    return store.db.execute(
        "SELECT label, count(*) FROM reviews WHERE label IS NOT NULL GROUP BY label ORDER BY 2 DESC").fetchall()
