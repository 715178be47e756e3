"""What ``niaga customers segment`` writes: segments.csv, the per-customer details, profiles, plots and report.md."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from niaga.customers.rfm import (SEGMENT_COLUMNS, SEGMENT_ORDER, Segmentation, customer_ids_for_output,
                                 segment_customers, segment_movement)
from niaga.data.io import write_table


def _pyplot():
    """pyplot on the Agg backend. Figures use fixed margins: tight_layout cost 2.4 s of a 10 s run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def money_label(currency: str | None) -> str:
    """The money axis: spend in the named currency, or in the log's own when none is named."""
    return f"spend, {currency}" if currency else "spend, in the log's currency"


def plot_rfm_distributions(table: pd.DataFrame, path: Path, currency: str | None = None) -> Path:
    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
    for ax, column, unit in zip(axes, ["recency", "frequency", "monetary"], ["days", "invoices", money_label(currency)]):
        log_scale = column != "recency"  # frequency >= 1 and monetary > 0: purchases only
        values = table[column].clip(lower=0.01 if log_scale else 0)
        bins = np.logspace(np.log10(values.min()), np.log10(values.max()) + 1e-9, 40) if log_scale else 40
        ax.hist(values, bins=bins, color="#4C72B0")
        if log_scale:
            ax.set_xscale("log")
        ax.set_title(f"{column} ({unit}{', log scale' if log_scale else ''})")
        ax.set_ylabel("customers")
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.12, top=0.9, wspace=0.3)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_segment_sizes(segments: pd.DataFrame, path: Path) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(segments) + 1.2))
    ordered = segments.iloc[::-1]
    ax.barh(ordered["segment"], ordered["customers"], color="#55A868")
    for y, (n, share) in enumerate(zip(ordered["customers"], ordered["revenue_share"])):
        ax.text(n, y, f" {n:,} ({share:.0%} of revenue)", va="center", fontsize=8)
    ax.set_xlabel("customers")
    ax.set_title("Segment sizes")
    ax.set_xlim(0, ordered["customers"].max() * 1.45)
    fig.subplots_adjust(left=0.22, right=0.97, bottom=0.12, top=0.92)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_movement(movement: pd.DataFrame, path: Path, before: str, after: str) -> Path:
    plt = _pyplot()
    order = ["not a customer yet", *SEGMENT_ORDER]
    matrix = pd.crosstab(movement["segment_before"], movement["segment_after"])
    rows = [s for s in order if s in matrix.index]
    cols = [s for s in SEGMENT_ORDER if s in matrix.columns]
    matrix = matrix.reindex(index=rows, columns=cols, fill_value=0)
    fig, ax = plt.subplots(figsize=(0.7 * len(cols) + 3, 0.5 * len(rows) + 2))
    ax.imshow(np.log1p(matrix.to_numpy()), cmap="Purples")
    for i in range(len(rows)):
        for j in range(len(cols)):
            if matrix.iat[i, j]:
                ax.text(j, i, str(matrix.iat[i, j]), ha="center", va="center", fontsize=7)
    ax.set_xticks(range(len(cols)), cols, rotation=45, ha="right")
    ax.set_yticks(range(len(rows)), rows)
    ax.set_xlabel(f"segment at {after}")
    ax.set_ylabel(f"segment at {before}")
    ax.set_title("Segment movement (customers)")
    fig.subplots_adjust(left=0.2, right=0.98, bottom=0.25, top=0.93)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_clusters(table: pd.DataFrame, path: Path, currency: str | None = None) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for cluster, block in table.groupby("cluster"):
        ax.scatter(block["recency"] + 1, block["monetary"].clip(lower=1), s=4, alpha=0.5,
                   label=f"{cluster}: {block['cluster_name'].iloc[0]}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("recency + 1 (days)")
    ax.set_ylabel(f"monetary ({money_label(currency)})")
    ax.set_title("k-means clusters on log-RFM")
    ax.legend(fontsize=7, markerscale=3)
    fig.subplots_adjust(left=0.13, right=0.97, bottom=0.12, top=0.92)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _markdown_table(frame: pd.DataFrame, floats: str = "{:,.2f}") -> list[str]:
    """Shares as percentages, other numbers with thousands separators."""
    frame = frame.assign(**{c: frame[c] * 100 for c in ("share", "revenue_share") if c in frame})
    frame = frame.rename(columns={"share": "share %", "revenue_share": "revenue share %"})
    def cell(v):
        if isinstance(v, (float, np.floating)):
            return floats.format(v)
        if isinstance(v, (int, np.integer)):
            return f"{v:,}"
        return str(v)
    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return lines


def write_segmentation(raw: pd.DataFrame, source: str | Path, out: str | Path, as_of: str | None = None,
                       previous: str | None = None, k_range: range = range(2, 9),
                       currency: str | None = None) -> tuple[Segmentation, dict]:
    """Segment and write everything into ``out``; returns the segmentation and the summary written.
    ``currency`` names the money on the plots' axes (e.g. GBP for Online Retail, IDR)."""
    from niaga.customers.rfm import parse_date

    started = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    result = segment_customers(raw, source, as_of, k_range)
    table = result.table.copy()
    table["customer_id"] = customer_ids_for_output(table["customer_id"])
    table["net_value"] = (table["monetary"] - table["returns_value"]).round(2)
    write_table(table[SEGMENT_COLUMNS], out / "segments.csv")
    details = ["customer_id", "r_score", "f_score", "m_score", "rfm_score", "cluster_name", "country", "first_purchase",
               "last_purchase", "tenure_days", "returns_value", "returned_lines", "net_value"]
    write_table(table[details], out / "rfm_scores.csv")
    write_table(result.segments, out / "segment_profiles.csv")
    write_table(result.clusters, out / "cluster_profiles.csv")
    excluded = result.clean.excluded
    excluded = excluded.astype({c: "string" for c in excluded.columns if excluded[c].dtype == object})
    write_table(excluded, out / "excluded_lines.parquet")

    as_of_day = result.as_of.normalize()
    before = parse_date(previous) if previous else as_of_day - pd.Timedelta(days=90)
    first_day = result.clean.lines["date"].min().normalize()
    movement = None
    if before < as_of_day and before >= first_day:
        movement = segment_movement(result.clean.lines, before, as_of_day)
        movement["customer_id"] = customer_ids_for_output(movement["customer_id"])
        write_table(movement, out / "movement.csv")

    plots = {"rfm_distributions.png": plot_rfm_distributions(table, out / "rfm_distributions.png", currency),
             "segment_sizes.png": plot_segment_sizes(result.segments, out / "segment_sizes.png"),
             "clusters.png": plot_clusters(table, out / "clusters.png", currency)}
    if movement is not None:
        plots["segment_movement.png"] = plot_movement(movement, out / "segment_movement.png",
                                                      before.date().isoformat(), as_of_day.date().isoformat())
    seconds = time.perf_counter() - started
    clean = result.clean
    summary = {
        "source": str(source), "as_of": as_of_day.date().isoformat(), "lines": clean.total_lines,
        "purchase_lines": len(clean.lines), "excluded_lines": {k: v for k, v in clean.counts.items()},
        "customers": len(table),
        "customers_with_only_returns": len(set(clean.returns["customer_id"]) - set(result.table["customer_id"])),
        "segments": dict(zip(result.segments["segment"], result.segments["customers"].astype(int))),
        "clusters": {"k": int(table["cluster"].nunique()), "silhouette_by_k": result.silhouette},
        "movement": None if movement is None else {
            "before": before.date().isoformat(), "after": as_of_day.date().isoformat(),
            "customers_moved": int(movement["moved"].sum()),
            "loyal_to_at_risk": int(((movement["segment_before"].isin(["loyal", "champions"]))
                                     & (movement["segment_after"].isin(["at risk", "cannot lose"]))).sum())},
        "seconds": round(seconds, 2),
    }
    (out / "metrics.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    write_report(out, result, summary, movement)
    return result, summary


def write_report(out: Path, result: Segmentation, summary: dict, movement: pd.DataFrame | None) -> Path:
    clean = result.clean
    lines = [f"# Customer segmentation: {Path(summary['source']).name}", "",
             f"- **cut-off (as of)**: {summary['as_of']} (recency counts days to this date; lines after it are left out)",
             f"- **customers**: {summary['customers']:,} from {summary['purchase_lines']:,} purchase lines of "
             f"{summary['lines']:,}", f"- **run time**: {summary['seconds']} s", "",
             "## Cleaning", "", "Every line left out is counted here under the first reason that applies, and "
             "listed with its reason in `excluded_lines.parquet`. Returns and cancellations are not netted "
             "against purchases: they are counted per customer in `rfm_scores.csv` (`returns_value`, and "
             "`net_value` = monetary − returns).", "",
             "| reason | lines | share |", "|---|---|---|"]
    for reason, n in sorted(clean.counts.items(), key=lambda kv: -kv[1]):
        lines.append(f"| {reason} | {n:,} | {n / max(clean.total_lines, 1):.1%} |")
    lines.append(f"| **kept as purchases** | {len(clean.lines):,} | {len(clean.lines) / max(clean.total_lines, 1):.1%} |")
    if summary["customers_with_only_returns"]:
        lines.append(f"\n{summary['customers_with_only_returns']} customer(s) have returns or cancellations but no "
                     "purchase before the cut-off: they have no segment.")
    lines += ["", "## RFM distributions", "", "![RFM distributions](rfm_distributions.png)", "",
              "## Rule-based segments", "",
              "Recency, frequency and monetary are scored 1-5 by quintile (ties share a score). The segment comes "
              "from the recency and frequency scores; `rfm_scores.csv` has all three scores per customer.", "",
              "![segment sizes](segment_sizes.png)", ""]
    seg = result.segments[["segment", "customers", "share", "median_recency", "median_frequency", "median_monetary",
                           "revenue_share", "explanation"]]
    lines += _markdown_table(seg)
    sil = ", ".join(f"k={k}: {v:.3f}" for k, v in summary["clusters"]["silhouette_by_k"].items())
    lines += ["", "## Clusters", "", f"k-means on standardized log(1 + R, F, M); k chosen by silhouette ({sil}). "
              "Clusters are numbered by value (0 = highest mean RFM score).", "", "![clusters](clusters.png)", ""]
    lines += _markdown_table(result.clusters[["cluster", "name", "customers", "share", "median_recency",
                                              "median_frequency", "median_monetary", "revenue_share", "explanation"]])
    lines += ["", "## Segment movement", ""]
    if movement is None:
        lines.append("No earlier cut-off inside the log: movement not computed (use --previous DATE).")
    else:
        m = summary["movement"]
        lines += [f"Segments at {m['before']} against {m['after']} (`movement.csv`, one row per customer). "
                  f"{m['customers_moved']:,} customers changed segment; {m['loyal_to_at_risk']:,} went from "
                  "loyal or champions to at risk or cannot lose.", "", "![segment movement](segment_movement.png)", "",
                  "Largest moves:", "", "| from | to | customers |", "|---|---|---|"]
        flows = (movement[movement["moved"]].groupby(["segment_before", "segment_after"]).size()
                 .sort_values(ascending=False))
        lines += [f"| {a} | {b} | {n:,} |" for (a, b), n in flows.head(10).items()]
    (out / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out / "report.md"
