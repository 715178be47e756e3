"""The backtest report: metrics.json (per model), errors.csv (per item, origin and model), mase.png, report.md."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from niaga.analytics.forecast.base import DemandPanel
from niaga.analytics.forecast.calendar import FREQS

BASELINES = ("seasonal_naive", "moving_average", "croston", "ets")


def write_backtest_report(directory: str | Path, table: pd.DataFrame, errors: pd.DataFrame, panel: DemandPanel,
                          horizon: int, origins: int) -> dict:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    baselines = table.loc[[m for m in BASELINES if m in table.index]]
    best_baseline = baselines["mase"].idxmin() if len(baselines) else None
    metrics = {"models": table.to_dict("index"), "best_baseline": best_baseline,
               "best_model": table["mase"].idxmin(), "horizon": horizon, "origins": sorted(errors["origin"].unique()),
               "freq": panel.freq, "items": int(errors["item"].nunique())}
    if best_baseline is not None and "lgbm" in table.index:
        metrics["lgbm_vs_best_baseline_mase"] = round(float(table.loc["lgbm", "mase"] / baselines["mase"].min() - 1), 4)
    (directory / "metrics.json").write_text(json.dumps(metrics, indent=2, default=str) + "\n", encoding="utf-8")
    errors.round(4).to_csv(directory / "errors.csv", index=False)
    _plot(table, directory / "mase.png")
    lines = ["# Demand forecast backtest", "",
             f"- {metrics['items']:,} items, {origins} rolling origin(s) ({', '.join(metrics['origins'])}), "
             f"{horizon} {FREQS[panel.freq]} periods ahead from each",
             "- MASE: mean absolute error over the horizon / the item's mean one-step change before the origin "
             "(1 = as good as the naive forecast in-sample); revenue-weighted: items weighted by their revenue "
             "before the origin; bias: (Σ forecast − Σ actual) / Σ actual; coverage: share of actual periods "
             "inside the interval (target: its level)",
             f"- best model: **{metrics['best_model']}**; best baseline: {best_baseline}", "",
             "| model | MASE | revenue-weighted MASE | bias | 80 % coverage | 95 % coverage |", "|---|---|---|---|---|---|"]
    for model, row in table.iterrows():
        lines.append(f"| {model} | {row['mase']:.3f} | {row['revenue_weighted_mase']:.3f} | {row['bias']:+.1%} | "
                     f"{row['coverage_80']:.1%} | {row['coverage_95']:.1%} |")
    lines += ["", "![MASE per model](mase.png)", ""]
    (directory / "report.md").write_text("\n".join(lines), encoding="utf-8")
    return metrics


def _plot(table: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.barh(table.index[::-1], table["mase"][::-1], color="#4c78a8")
    ax.set_xlabel("mean MASE (lower is better)")
    ax.set_title("Backtest: forecast error per model")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
