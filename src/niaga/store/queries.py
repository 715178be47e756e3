"""Named, parameterised queries of the warehouse that faces (the API, the dashboard) read: SQL stays in the
store layer, a router only calls a function."""

from __future__ import annotations

import datetime as dt
import json

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


def read_store_table(table: str) -> pd.DataFrame:
    """A warehouse table (``store:reviews``) with its own columns, the input's other columns spread back out of
    ``extra``, and the bookkeeping columns dropped: what the file held, whatever the file was."""
    from niaga.config import settings
    from niaga.store.warehouse import Store

    with Store(settings().store, read_only=True) as store:
        frame = store.table(table)
    extra = pd.DataFrame([json.loads(e) if e else {} for e in frame["extra"]], index=frame.index)
    frame = frame.drop(columns=["extra", "row_hash", "source_file", "source_row", "ingested_at"])
    return pd.concat([frame, extra[[c for c in extra.columns if c not in frame.columns]]], axis=1)
