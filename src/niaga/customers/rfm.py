"""RFM segmentation of a transaction log: cleaning with counted exclusions, scores, rule segments,
k-means clusters, and how customers moved between two cut-off dates.

Definitions (at a cut-off date, counting every clean purchase line dated on or before it):
recency = days from the customer's last purchase to the cut-off; frequency = distinct invoices;
monetary = Σ quantity × unit price. Returns and cancellations never enter these three; they are
counted in the cleaning report and per customer (``returns_value``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from niaga.data.transactions import (AFTER_CUTOFF, BAD_PRICE, CANCELLATION, COLUMN_ALIASES, DUPLICATE,  # noqa: F401
                                     NO_CUSTOMER, REQUIRED, RETURN, UNREADABLE, classify_lines, exclusion_counts,
                                     read_log, resolve_columns)
from niaga.errors import DataError

# Segments from the recency score (rows) and frequency score (columns), both 1-5.
SEGMENT_GRID = {
    5: ["new", "potential", "potential", "champions", "champions"],
    4: ["promising", "potential", "potential", "loyal", "loyal"],
    3: ["about to sleep", "about to sleep", "need attention", "loyal", "loyal"],
    2: ["hibernating", "hibernating", "at risk", "at risk", "cannot lose"],
    1: ["lost", "lost", "at risk", "at risk", "cannot lose"],
}
SEGMENT_EXPLANATIONS = {
    "champions": "bought very recently and most often: reward them, give early access, ask for reviews",
    "loyal": "buy often and fairly recently: offer loyalty perks and upsell",
    "potential": "recent buyers with a few orders: a membership or bundle can make them loyal",
    "new": "first order very recently: welcome them and make the second order easy (free shipping)",
    "promising": "one recent order a while ago: a small incentive to come back",
    "need attention": "average recency and frequency: a time-limited offer before they slip",
    "about to sleep": "few orders, last one some time ago: reactivate with a relevant recommendation",
    "at risk": "used to buy often but not for a long time: win them back (cashback voucher)",
    "cannot lose": "were among the most frequent buyers, now silent for long: personal outreach",
    "hibernating": "few orders, long ago: low-cost reminders only",
    "lost": "one or two orders, longest ago: exclude from paid campaigns",
}
SEGMENT_ORDER = ["champions", "loyal", "potential", "new", "promising", "need attention", "about to sleep",
                 "at risk", "cannot lose", "hibernating", "lost"]
SEGMENT_COLUMNS = ["customer_id", "recency", "frequency", "monetary", "segment", "cluster"]


@dataclass
class CleanLog:
    """Purchase lines that count, the lines left out with their reason, and per-customer returns."""

    lines: pd.DataFrame  # customer_id, invoice, date, amount, country
    excluded: pd.DataFrame  # the original columns plus ``reason`` and ``row`` (the line in the file, header = 1)
    counts: dict[str, int] = field(default_factory=dict)  # reason -> lines
    total_lines: int = 0
    returns: pd.DataFrame = field(default_factory=pd.DataFrame)  # customer_id, returns_value, returned_lines
    log_end: pd.Timestamp | None = None


def clean_log(raw: pd.DataFrame, source: str | Path = "transactions", as_of: pd.Timestamp | None = None) -> CleanLog:
    """Split a raw log into purchase lines and counted exclusions (see the reasons above)."""
    frame, reason = classify_lines(raw, source, as_of)
    log_end = frame["date"].max() if frame["date"].notna().any() else None
    returned = reason.isin([CANCELLATION, RETURN]) & frame["customer_id"].notna()
    before_cutoff = frame["date"] < as_of.normalize() + pd.Timedelta(days=1) if as_of is not None else True
    returns = (frame.loc[returned & before_cutoff].assign(value=lambda f: (f["quantity"] * f["price"]).abs())
               .groupby("customer_id").agg(returns_value=("value", "sum"), returned_lines=("value", "size"))
               .reset_index())
    keep = reason.isna()
    lines = frame.loc[keep, ["customer_id", "invoice", "date", "country"]].assign(
        amount=(frame.loc[keep, "quantity"] * frame.loc[keep, "price"]))
    excluded = raw.loc[~keep].assign(reason=reason[~keep], row=frame.index[~keep] + 2)  # file line, header = 1
    counts = exclusion_counts(reason)
    return CleanLog(lines=lines.reset_index(drop=True), excluded=excluded, counts=counts, total_lines=len(raw),
                    returns=returns, log_end=log_end)


def quantile_score(values: pd.Series, higher_is_better: bool = True) -> pd.Series:
    """1-5 by quintile of rank; ties share a score (average rank), so 1,500 one-order customers score alike."""
    ranks = (values if higher_is_better else -values).rank(pct=True, method="average")
    return np.ceil(ranks * 5).clip(1, 5).astype(int)


def rfm_table(lines: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """One row per customer from the lines dated on or before ``as_of``: recency, frequency, monetary, their
    1-5 scores, the rule segment, country, dates."""
    lines = lines[lines["date"] < as_of.normalize() + pd.Timedelta(days=1)]
    if lines.empty:
        raise DataError("no purchase line left to segment (see the cleaning counts); "
                        "is the cut-off before the log starts?")
    grouped = lines.groupby("customer_id", sort=True)
    table = grouped.agg(first_purchase=("date", "min"), last_purchase=("date", "max"),
                        frequency=("invoice", "nunique"), monetary=("amount", "sum"))
    cutoff_day = as_of.normalize()
    table["recency"] = (cutoff_day - table["last_purchase"].dt.normalize()).dt.days.astype(int)
    table["tenure_days"] = (cutoff_day - table["first_purchase"].dt.normalize()).dt.days.astype(int)
    table["monetary"] = table["monetary"].round(2)
    by_country = lines.dropna(subset=["country"]).groupby(["customer_id", "country"]).size()
    if len(by_country):
        most_lines = by_country.sort_values(ascending=False).reset_index().drop_duplicates("customer_id")
        table["country"] = most_lines.set_index("customer_id")["country"]
    else:
        table["country"] = pd.NA
    table["r_score"] = quantile_score(table["recency"], higher_is_better=False)
    table["f_score"] = quantile_score(table["frequency"])
    table["m_score"] = quantile_score(table["monetary"])
    grid = np.array([SEGMENT_GRID[r] for r in range(1, 6)], dtype=object)
    table["segment"] = grid[table["r_score"].to_numpy() - 1, table["f_score"].to_numpy() - 1]
    table["rfm_score"] = (table["r_score"].astype(str) + table["f_score"].astype(str) + table["m_score"].astype(str))
    return table.reset_index()


def log_rfm_features(table: pd.DataFrame) -> np.ndarray:
    """Standardized log(1 + recency, frequency, monetary): the space k-means works in."""
    from sklearn.preprocessing import StandardScaler

    values = np.log1p(table[["recency", "frequency", "monetary"]].clip(lower=0).to_numpy(dtype=float))
    return StandardScaler().fit_transform(values)


def choose_clusters(table: pd.DataFrame, k_range: range = range(2, 9), seed: int = 0,
                    silhouette_sample: int = 2000) -> tuple[np.ndarray, dict[int, float]]:
    """k-means on scaled log-RFM for each k; keep the k with the best silhouette. Clusters are numbered
    by value (0 = highest mean R+F+M score). Returns the labels and the silhouette of every k tried."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from threadpoolctl import threadpool_limits

    X = log_rfm_features(table)
    k_range = [k for k in k_range if k < len(table)]
    if not k_range:
        return np.zeros(len(table), dtype=int), {}
    scores, labelings = {}, {}
    # One thread: on a few thousand 3-D points, OpenMP threads cost far more than they save (16x here).
    with threadpool_limits(1):
        for k in k_range:
            labels = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(X)
            if len(set(labels)) < 2:
                continue
            scores[k] = float(silhouette_score(X, labels, sample_size=min(silhouette_sample, len(X)), random_state=seed))
            labelings[k] = labels
    if not scores:
        return np.zeros(len(table), dtype=int), {}
    best = max(scores, key=scores.get)
    value = (table["r_score"] + table["f_score"] + table["m_score"]).groupby(labelings[best]).mean()
    renumber = {old: new for new, old in enumerate(value.sort_values(ascending=False).index)}
    return np.vectorize(renumber.get)(labelings[best]), scores


def describe_cluster(block: pd.DataFrame, overall: pd.DataFrame) -> tuple[str, str]:
    """A name from the cluster's medians against everyone's, and a one-line explanation."""
    columns = ["recency", "frequency", "monetary"]
    med, all_med = block[columns].median(), overall[columns].median()
    name = ", ".join([
        "recent" if med["recency"] <= all_med["recency"] else "lapsed",
        "frequent" if med["frequency"] > all_med["frequency"] else "occasional",
        "high-spending" if med["monetary"] > all_med["monetary"] else "low-spending",
    ])
    top = block["segment"].value_counts(normalize=True)
    explanation = (f"median {med['recency']:.0f} days since last order, {med['frequency']:.0f} orders, "
                   f"{med['monetary']:,.0f} spent; mostly {top.index[0]} ({top.iloc[0]:.0%})")
    return name, explanation


def profiles(table: pd.DataFrame, by: str) -> pd.DataFrame:
    """Size, share, medians and revenue share per segment or cluster."""
    total = table["monetary"].sum()
    grouped = table.groupby(by)
    out = grouped.agg(customers=("customer_id", "size"), median_recency=("recency", "median"),
                      median_frequency=("frequency", "median"), median_monetary=("monetary", "median"),
                      revenue=("monetary", "sum"))
    out["share"] = (out["customers"] / len(table)).round(4)
    out["revenue_share"] = (out["revenue"] / total).round(4) if total else 0.0
    out["revenue"] = out["revenue"].round(2)
    return out.reset_index()


def segment_profiles(table: pd.DataFrame) -> pd.DataFrame:
    out = profiles(table, "segment")
    out["explanation"] = out["segment"].map(SEGMENT_EXPLANATIONS)
    order = {s: i for i, s in enumerate(SEGMENT_ORDER)}
    return out.sort_values("segment", key=lambda s: s.map(order)).reset_index(drop=True)


def cluster_profiles(table: pd.DataFrame) -> pd.DataFrame:
    out = profiles(table, "cluster")
    described = [describe_cluster(table[table["cluster"] == c], table) for c in out["cluster"]]
    out.insert(1, "name", [d[0] for d in described])
    out["explanation"] = [d[1] for d in described]
    return out


@dataclass
class Segmentation:
    table: pd.DataFrame  # one row per customer (see rfm_table) plus cluster, cluster_name, returns
    as_of: pd.Timestamp
    clean: CleanLog
    silhouette: dict[int, float]
    segments: pd.DataFrame
    clusters: pd.DataFrame


def segment_customers(raw: pd.DataFrame, source: str | Path = "transactions", as_of: str | pd.Timestamp | None = None,
                      k_range: range = range(2, 9), seed: int = 0) -> Segmentation:
    """Clean the log, compute RFM at ``as_of`` (default: the log's last day), segment and cluster."""
    cutoff = parse_date(as_of) if as_of is not None else None
    clean = clean_log(raw, source, cutoff)
    if clean.log_end is None:
        raise DataError(f"{source}: no line with a readable date")
    cutoff = cutoff if cutoff is not None else clean.log_end.normalize()
    table = rfm_table(clean.lines, cutoff)
    table["cluster"], silhouette = choose_clusters(table, k_range, seed)
    clusters = cluster_profiles(table)
    table["cluster_name"] = table["cluster"].map(dict(zip(clusters["cluster"], clusters["name"])))
    table = table.merge(clean.returns, on="customer_id", how="left").fillna({"returns_value": 0.0, "returned_lines": 0})
    table["returns_value"] = table["returns_value"].round(2)
    table["returned_lines"] = table["returned_lines"].astype(int)
    return Segmentation(table=table, as_of=cutoff, clean=clean, silhouette=silhouette,
                        segments=segment_profiles(table), clusters=clusters)


def segment_movement(lines: pd.DataFrame, before: pd.Timestamp, after: pd.Timestamp) -> pd.DataFrame:
    """Each customer's rule segment at two cut-offs; "not a customer yet" where there was no purchase before."""
    earlier, later = rfm_table(lines, before), rfm_table(lines, after)
    moved = later[["customer_id", "segment"]].merge(earlier[["customer_id", "segment"]], on="customer_id", how="left",
                                                  suffixes=("_after", "_before"))
    moved["segment_before"] = moved["segment_before"].fillna("not a customer yet")
    moved = moved[["customer_id", "segment_before", "segment_after"]]
    return moved.assign(moved=moved["segment_before"] != moved["segment_after"])


def parse_date(value: str | pd.Timestamp) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise DataError(f"{value!r} is not a date; expected YYYY-MM-DD") from exc
    if pd.isna(stamp):
        raise DataError(f"{value!r} is not a date; expected YYYY-MM-DD")
    return stamp.tz_localize(None) if stamp.tzinfo is not None else stamp


def customer_ids_for_output(ids: pd.Series) -> pd.Series:
    """Ids as integers when every id is a whole number (as in the source), else as text."""
    numbers = pd.to_numeric(ids, errors="coerce")
    if numbers.notna().all() and numbers.eq(numbers.round()).all():
        return numbers.astype("int64")
    return ids.astype("string")
