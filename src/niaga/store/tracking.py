"""What the running system logs into the warehouse's ``events`` table (recommendations shown, clicks, orders),
and the few questions asked of it: CTR and conversion per recommendation source and per experiment arm.

Each function takes a ``Store`` and does one thing in parameterised SQL, so another backend of the same table
(PostgreSQL for the operational tables) replaces these functions, not their callers.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd

from niaga.store.ingest import validate
from niaga.store.schema import TABLES
from niaga.store.warehouse import Store

EVENT_TYPES = ("shown", "click", "order")
TABLE = TABLES["events"]
COLUMNS = [c.name for c in TABLE.columns]


def append_events(store: Store, records: list[dict], source: str = "api") -> tuple[int, list[dict]]:
    """Validate ``records`` as ``niaga ingest`` validates a file (the events table's columns and aliases, types,
    required fields) plus the event type; store the good ones and quarantine the bad ones (``source_row`` is
    the record's 1-based position in the batch). Returns (stored, problems: row, field, reason)."""
    records = [_canonical(record) for record in records]
    frame = pd.DataFrame.from_records(records) if records else pd.DataFrame(columns=["user_id", "item_id"])
    frame.index = np.arange(len(frame)) - 1  # validate() numbers rows as file lines (index + 2): make them 1-based
    rows, quarantine = validate(frame, TABLE, source)
    kinds = rows["event"].astype("string").str.lower()
    wrong = ~kinds.isin(EVENT_TYPES).fillna(False)
    rows["event"] = kinds
    extra = pd.DataFrame({"source_row": rows.loc[wrong, "source_row"], "field": "event",
                          "reason": "not one of " + ", ".join(EVENT_TYPES) + ": " + rows.loc[wrong, "event"].astype(str)})
    if len(extra):
        extra["raw"] = [json.dumps({k: str(v) for k, v in records[r - 1].items()}, ensure_ascii=False)
                        for r in extra["source_row"]]
        quarantine = pd.concat([quarantine, extra], ignore_index=True) if len(quarantine) else extra
    bad = rows["source_row"].isin(quarantine["source_row"]) if len(quarantine) else np.zeros(len(rows), bool)
    good = rows[~np.asarray(bad)].copy()
    now = pd.Timestamp(dt.datetime.now())
    good["timestamp"] = pd.to_datetime(good["timestamp"]).astype("datetime64[us]").fillna(now)  # unstamped: now
    good["row_hash"] = None  # logged events are not deduplicated: the same click twice is two clicks
    good["source_file"] = source
    with_insert(store, "new_events", good[COLUMNS + ["extra", "row_hash", "source_file", "source_row"]],
                f"INSERT INTO events ({', '.join(f'{chr(34)}{c}{chr(34)}' for c in COLUMNS)}, extra, row_hash, "
                "source_file, source_row) SELECT * FROM new_events")
    if len(quarantine):
        lines = quarantine.assign(table_name="events", source_file=source)
        with_insert(store, "bad_events", lines[["table_name", "source_file", "source_row", "field", "reason", "raw"]],
                    "INSERT INTO quarantine (table_name, source_file, source_row, field, reason, raw) "
                    "SELECT * FROM bad_events")
    problems = quarantine[["source_row", "field", "reason"]].rename(columns={"source_row": "row"}).sort_values(
        "row", kind="stable").to_dict("records") if len(quarantine) else []
    return len(good), problems


def _canonical(record: dict) -> dict:
    """A record's aliased keys under the table's names (``customer_id`` -> ``user_id``): unlike a file's rows, the
    events of one batch may each spell them their own way."""
    renamed = dict(record)
    for name, aliases in TABLE.aliases.items():
        if name not in renamed:
            alias = next((a for a in aliases[1:] if a in renamed), None)
            if alias is not None:
                renamed[name] = renamed.pop(alias)
    return renamed


def with_insert(store: Store, view: str, frame: pd.DataFrame, statement: str) -> None:
    if not len(frame):
        return
    # a cursor of its own: DuckDB 2 refuses to register a frame on a connection with an unread result
    cursor = store.db.cursor()
    try:
        cursor.register(view, frame)
        cursor.execute(statement)
    finally:
        cursor.close()


def shown_events(request_id: str, user: str, items: list[str], sources: list[str], experiment: str | None,
                 variant: str | None, time: dt.datetime | None = None) -> list[dict]:
    """The ``shown`` events of one recommendation response: one per item, with its position (1 = first)."""
    time = time or dt.datetime.now()
    return [{"event": "shown", "request_id": request_id, "user_id": user, "item_id": item, "source": source,
             "experiment": experiment, "variant": variant, "position": position, "timestamp": time}
            for position, (item, source) in enumerate(zip(items, sources), start=1)]


def experiment_events(store: Store, experiment: str | None = None) -> pd.DataFrame:
    """What an experiment analysis needs of the events: who saw which arm of which experiment (or of the one
    named), and those users' clicks and orders, with times and order values (not the other columns: a million
    events read in a second)."""
    if experiment is None:
        return store.db.execute("""
            SELECT user_id, event, timestamp, experiment, variant, value FROM events
            WHERE experiment IS NOT NULL OR event IN ('click', 'order')""").df()
    return store.db.execute("""
        SELECT user_id, event, timestamp,
               CASE WHEN experiment = ? THEN experiment END AS experiment,
               CASE WHEN experiment = ? THEN variant END AS variant, value FROM events
        WHERE experiment = ? OR (event IN ('click', 'order')
                                 AND user_id IN (SELECT user_id FROM events WHERE experiment = ?))""",
                            [experiment] * 4).df()


#: items shown, the first click and order on each (by the response's request id and the item); the source and
#: the arm come from the shown event
_SHOWN = """
WITH shown AS (
    SELECT request_id, item_id, any_value(source) AS source, any_value(experiment) AS experiment,
           any_value(variant) AS variant, any_value(user_id) AS user_id
    FROM events WHERE event = 'shown' AND request_id IS NOT NULL GROUP BY request_id, item_id),
clicked AS (SELECT DISTINCT request_id, item_id FROM events WHERE event = 'click' AND request_id IS NOT NULL),
ordered AS (SELECT request_id, item_id, sum(coalesce(value, 0)) AS value FROM events
            WHERE event = 'order' AND request_id IS NOT NULL GROUP BY request_id, item_id)
"""


def rates_by_source(store: Store) -> pd.DataFrame:
    """Per recommendation source: items shown, clicks, orders, CTR, conversion (orders per item shown) and the
    orders' value."""
    return store.db.execute(_SHOWN + """
        SELECT coalesce(s.source, '(none)') AS source, count(*) AS shown, count(c.item_id) AS clicks,
               count(o.item_id) AS orders, count(c.item_id) / count(*) AS ctr, count(o.item_id) / count(*) AS conversion,
               coalesce(sum(o.value), 0) AS order_value
        FROM shown s LEFT JOIN clicked c USING (request_id, item_id) LEFT JOIN ordered o USING (request_id, item_id)
        GROUP BY 1 ORDER BY shown DESC""").df()


def rates_by_arm(store: Store) -> pd.DataFrame:
    """Per experiment and arm: users shown recommendations, items shown, CTR, and conversion (the share of those
    users with an order after their first exposure, whatever they ordered)."""
    return store.db.execute(_SHOWN + """,
        exposed AS (SELECT experiment, variant, user_id, min(timestamp) AS first_seen FROM events
                    WHERE event = 'shown' AND experiment IS NOT NULL GROUP BY ALL),
        converted AS (SELECT x.experiment, x.variant, x.user_id, sum(coalesce(e.value, 0)) AS value FROM exposed x
                      JOIN events e ON e.user_id = x.user_id AND e.event = 'order' AND e.timestamp >= x.first_seen
                      GROUP BY ALL),
        items AS (SELECT s.experiment, s.variant, count(*) AS shown, count(c.item_id) AS clicks
                  FROM shown s LEFT JOIN clicked c USING (request_id, item_id)
                  WHERE s.experiment IS NOT NULL GROUP BY ALL)
        SELECT x.experiment, x.variant, count(DISTINCT x.user_id) AS users, any_value(i.shown) AS shown,
               any_value(i.clicks) AS clicks, any_value(i.clicks) / any_value(i.shown) AS ctr,
               count(DISTINCT v.user_id) AS converted_users,
               count(DISTINCT v.user_id) / count(DISTINCT x.user_id) AS conversion,
               coalesce(sum(v.value), 0) AS revenue
        FROM exposed x LEFT JOIN converted v USING (experiment, variant, user_id)
        LEFT JOIN items i USING (experiment, variant)
        GROUP BY ALL ORDER BY x.experiment, x.variant""").df()
