"""What a shop owner reads first: sales (GMV, orders, average order value, new and returning customers) per day or
week over a date range, top products and categories, monthly cohort retention, fraud decisions per hour, review
labels over time with the most common complaints, and how customer segments moved. The cohort matrix shows the
year of monthly cohorts up to the range's end.

The figures come from the warehouse through the store's named queries (``niaga.store.analytics_queries``); this
module picks the range, shapes the tables for charts, and finds the complaints' words.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from niaga.store import analytics_queries as queries
from niaga.store.warehouse import Store

DEFAULT_DAYS = 90
#: review labels that mean an unhappy customer (PRDECT-ID's emotions and sentiments, SmSA's, star ratings)
NEGATIVE_LABELS = ("negative", "anger", "sadness", "fear", "sad", "kecewa", "1", "2")


@dataclass
class Overview:
    start: dt.date | None
    end: dt.date | None
    freq: str
    first_day: dt.date | None = None  # the log's whole span, for the date pickers
    last_day: dt.date | None = None
    sales: pd.DataFrame = field(default_factory=pd.DataFrame)
    top_products: pd.DataFrame = field(default_factory=pd.DataFrame)
    top_categories: pd.DataFrame = field(default_factory=pd.DataFrame)
    cohorts: pd.DataFrame = field(default_factory=pd.DataFrame)
    fraud_per_hour: pd.DataFrame = field(default_factory=pd.DataFrame)
    reviews: pd.DataFrame = field(default_factory=pd.DataFrame)
    complaints: list[tuple[str, int]] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, float]:
        if self.sales.empty:
            return {}
        gmv, orders = float(self.sales["gmv"].sum()), int(self.sales["orders"].sum())
        return {"gmv": gmv, "orders": orders, "average_order_value": gmv / orders if orders else 0.0,
                "new_customers": int(self.sales["new_customers"].sum()),
                "returning_customers": int(self.sales["returning_customers"].sum())}


def date_range(store: Store, start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date] | None:
    """The range asked for, clipped to the log; by default the log's last ``DEFAULT_DAYS`` days."""
    span = queries.order_dates(store)
    if span is None:
        return None
    end = min(end or span[1], span[1])
    start = max(start or end - dt.timedelta(days=DEFAULT_DAYS - 1), span[0])
    return (start, end) if start <= end else (end, end)


def business_overview(store: Store, start: dt.date | None = None, end: dt.date | None = None,
                      freq: str = "week") -> Overview:
    chosen = date_range(store, start, end)
    span = queries.order_dates(store)
    overview = Overview(*(chosen or (None, None)), freq, *(span or (None, None)))
    if chosen:
        overview.sales = queries.sales_by_period(store, *chosen, freq)
        overview.top_products = queries.top_products(store, *chosen)
        overview.top_categories = queries.top_categories(store, *chosen)
        # a year of cohorts up to the range's end, however short the range: retention needs months to show
        overview.cohorts = queries.cohort_retention(store, min(chosen[0], chosen[1] - dt.timedelta(days=365)),
                                                    chosen[1])
    overview.fraud_per_hour = queries.fraud_decisions_per_hour(store)
    overview.reviews = queries.reviews_over_time(store, "week" if freq == "day" else freq)
    overview.complaints = common_complaints(queries.negative_review_texts(store, NEGATIVE_LABELS))
    return overview


def common_complaints(texts: list[str], top: int = 10) -> list[tuple[str, int]]:
    """The word pairs (else words) most frequent in unhappy reviews, after Indonesian normalization (slang
    expanded, stopwords dropped, negations kept: "tidak sesuai" is a complaint)."""
    if not texts:
        return []
    from niaga.text.normalize import TextNormalizer

    normalizer = TextNormalizer(remove_stopwords=True).fit(texts)
    pairs, words = Counter(), Counter()
    for text in normalizer.transform(texts):
        tokens = [t for t in text.split() if len(t) > 2 or t in ("ga", "gk")]
        words.update(set(tokens))
        pairs.update({f"{a} {b}" for a, b in zip(tokens, tokens[1:])})
    repeated = [(p, n) for p, n in pairs.most_common(top) if n >= 2]
    return repeated if len(repeated) >= min(top, 3) else words.most_common(top)


def cohort_matrix(cohorts: pd.DataFrame) -> pd.DataFrame:
    """Cohorts as rows (with their size), months after the first order as columns, retained share as values."""
    if cohorts.empty:
        return pd.DataFrame()
    matrix = cohorts.pivot(index="cohort", columns="months_after", values="retained").sort_index()
    matrix.index = [f"{pd.Timestamp(c):%Y-%m} ({n:,})" for c, n in
                    cohorts.groupby("cohort")["customers"].first().sort_index().items()]
    return matrix


def segment_movement(directory: str | Path) -> pd.DataFrame:
    """Customers per (segment before, segment now) from a segmentation's movement.csv (``niaga customers
    segment``); empty when it has none."""
    path = Path(directory) / "movement.csv"
    if not path.is_file():
        return pd.DataFrame(columns=["segment_before", "segment_after", "customers"])
    movement = pd.read_csv(path, dtype=str)
    return movement.groupby(["segment_before", "segment_after"]).size().rename("customers").reset_index()
