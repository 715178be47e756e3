"""The questions the dashboard's overview asks of the warehouse, one function each, in parameterised SQL.

Sales come from the ``orders`` table (order lines): a line with a positive quantity and price is a sale; lines
of cancelled invoices (Online Retail's "C..." numbers, negative quantities) are left out, as the customer
segmentation leaves them out. GMV is the sum of quantity x price in the log's currency. A customer is "new" in
the period of their first order in the whole log, "returning" in any later period.
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd

from niaga.data.columns import NON_PRODUCT_CODES, NON_PRODUCT_PREFIXES
from niaga.store.warehouse import Store

PERIODS = {"day": "day", "week": "week", "month": "month"}
_SALES = """
    SELECT coalesce(order_id, 'line-' || CAST(source_row AS VARCHAR) || source_file) AS order_id, customer_id,
           product_id, quantity * price AS amount, quantity, timestamp, extra
    FROM orders
    WHERE quantity > 0 AND price > 0 AND timestamp IS NOT NULL AND NOT coalesce(order_id, '') LIKE 'C%'"""


def _period(freq: str) -> str:
    if freq not in PERIODS:
        raise ValueError(f"freq must be one of {', '.join(PERIODS)}, got {freq!r}")
    return PERIODS[freq]


def _has_table(store: Store, name: str) -> bool:
    return bool(store.db.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
                                 [name]).fetchall()[0][0])


def order_dates(store: Store) -> tuple[dt.date, dt.date] | None:
    """The first and last day with a sale, or None without orders."""
    first, last = store.db.execute(f"SELECT min(timestamp), max(timestamp) FROM ({_SALES})").fetchall()[0]
    return None if first is None else (first.date(), last.date())


def sales_by_period(store: Store, start: dt.date, end: dt.date, freq: str = "week") -> pd.DataFrame:
    """Per period from ``start`` to ``end`` (days, inclusive): GMV, orders, average order value, and the customers
    who bought, new and returning."""
    unit = _period(freq)
    return store.db.execute(f"""
        WITH sales AS ({_SALES}),
        first_order AS (SELECT customer_id, min(timestamp) AS first_time FROM sales
                        WHERE customer_id IS NOT NULL GROUP BY customer_id),
        window_sales AS (SELECT * FROM sales WHERE timestamp >= ? AND timestamp < ?)
        SELECT date_trunc('{unit}', s.timestamp)::DATE AS period, sum(s.amount) AS gmv,
               count(DISTINCT s.order_id) AS orders, sum(s.amount) / count(DISTINCT s.order_id) AS average_order_value,
               count(DISTINCT CASE WHEN date_trunc('{unit}', f.first_time) = date_trunc('{unit}', s.timestamp)
                                   THEN s.customer_id END) AS new_customers,
               count(DISTINCT CASE WHEN date_trunc('{unit}', f.first_time) < date_trunc('{unit}', s.timestamp)
                                   THEN s.customer_id END) AS returning_customers
        FROM window_sales s LEFT JOIN first_order f USING (customer_id)
        GROUP BY 1 ORDER BY 1""", [_start(start), _end(end)]).df()


def _start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


def _end(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time())


def top_products(store: Store, start: dt.date, end: dt.date, limit: int = 10) -> pd.DataFrame:
    """The products with the most revenue in the range: id, name (the products table's title, else the order
    line's Description), category, revenue, units and orders. Postage, fees and adjustments are not products."""
    return store.db.execute(f"""
        WITH sales AS ({_SALES})
        SELECT s.product_id, coalesce(any_value(p.title), any_value(json_extract_string(s.extra, '$.Description')),
                                      s.product_id) AS name,
               any_value(p.category) AS category, sum(s.amount) AS revenue, sum(s.quantity) AS units,
               count(DISTINCT s.order_id) AS orders
        FROM sales s LEFT JOIN products p USING (product_id)
        WHERE s.timestamp >= ? AND s.timestamp < ? AND s.product_id IS NOT NULL
              AND s.product_id NOT IN (SELECT unnest(?::VARCHAR[])) AND NOT regexp_matches(s.product_id, ?)
        GROUP BY s.product_id ORDER BY revenue DESC LIMIT ?""",
        [_start(start), _end(end), sorted(NON_PRODUCT_CODES),
         "^(" + "|".join(map(re.escape, NON_PRODUCT_PREFIXES)) + ")", int(limit)]).df()


def top_categories(store: Store, start: dt.date, end: dt.date, limit: int = 10) -> pd.DataFrame:
    """Revenue per product category (the products table's); empty when no product has a category."""
    return store.db.execute(f"""
        WITH sales AS ({_SALES})
        SELECT p.category, sum(s.amount) AS revenue, count(DISTINCT s.order_id) AS orders
        FROM sales s JOIN products p USING (product_id)
        WHERE s.timestamp >= ? AND s.timestamp < ? AND p.category IS NOT NULL
        GROUP BY 1 ORDER BY revenue DESC LIMIT ?""", [_start(start), _end(end), int(limit)]).df()


def cohort_retention(store: Store, start: dt.date, end: dt.date, max_months: int = 12) -> pd.DataFrame:
    """Monthly cohorts (the month of a customer's first order, for cohorts starting in the range): customers,
    and the share of them who bought again N months later, N = 0 .. ``max_months``."""
    return store.db.execute(f"""
        WITH sales AS ({_SALES}),
        months AS (SELECT DISTINCT customer_id, date_trunc('month', timestamp)::DATE AS month FROM sales
                   WHERE customer_id IS NOT NULL),
        cohorts AS (SELECT customer_id, min(month) AS cohort FROM months GROUP BY 1),
        sizes AS (SELECT cohort, count(*) AS customers FROM cohorts GROUP BY 1)
        SELECT c.cohort, z.customers, date_diff('month', c.cohort, m.month) AS months_after,
               count(*) / any_value(z.customers) AS retained
        FROM months m JOIN cohorts c USING (customer_id) JOIN sizes z USING (cohort)
        WHERE c.cohort >= date_trunc('month', ?::DATE) AND c.cohort <= ?
              AND date_diff('month', c.cohort, m.month) <= ?
        GROUP BY ALL ORDER BY 1, 3""", [start, end, int(max_months)]).df()


def fraud_decisions_per_hour(store: Store, hours: int = 48) -> pd.DataFrame:
    """Decisions per hour and type over the last ``hours`` hours of the fraud decision log (the time the
    transactions happened); empty when nothing was scored."""
    if not _has_table(store, "decisions"):
        return pd.DataFrame(columns=["hour", "decision", "decisions"])
    return store.db.execute("""
        WITH latest AS (SELECT max(ts) AS last FROM decisions)
        SELECT date_trunc('hour', ts) AS hour, decision, count(*) AS decisions FROM decisions, latest
        WHERE ts > latest.last - to_hours(?) GROUP BY ALL ORDER BY 1, 2""", [int(hours)]).df()


def reviews_over_time(store: Store, freq: str = "week") -> pd.DataFrame:
    """Labelled reviews per period and label (sentiment or emotion), dated by the review or else by ingestion."""
    unit = _period(freq)
    return store.db.execute(f"""
        SELECT date_trunc('{unit}', coalesce(created_at, ingested_at))::DATE AS period, label, count(*) AS reviews
        FROM reviews WHERE label IS NOT NULL GROUP BY ALL ORDER BY 1, 2""").df()


def negative_review_texts(store: Store, labels: tuple[str, ...], limit: int = 20_000) -> list[str]:
    """The texts of the latest reviews labelled with one of ``labels`` or rated 1 or 2 stars."""
    marks = ", ".join("?" for _ in labels) or "NULL"
    rows = store.db.execute(f"""
        SELECT text FROM reviews WHERE text IS NOT NULL AND (lower(label) IN ({marks}) OR rating <= 2)
        ORDER BY coalesce(created_at, ingested_at) DESC LIMIT ?""", [*(l.lower() for l in labels), int(limit)]
    ).fetchall()
    return [text for (text,) in rows]
