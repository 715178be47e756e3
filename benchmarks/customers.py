"""Customers benchmark: seed 003's Table 4 beside ours, purchase intent beside the published figure,
segmentation run time on Online Retail. Writes benchmarks/results/customers.json and its docs/benchmarks.md section."""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, save

from niaga.config import data_path
from niaga.customers.intent import cross_validate_intent, usable
from niaga.customers.promo import FEATURES, LABEL, PAPER_TABLE4, make_promo_model, promo_cv, seed_rows
from niaga.customers.rfm import read_log
from niaga.customers.segment_report import write_segmentation

PUBLISHED_INTENT = {"model": "XGBoost + feature selection + oversampling (PMC 10121810)", "average_precision": 0.754,
                    "roc_auc": 0.937, "accuracy": 0.9065}
TARGETS = {"average_precision": 0.78, "f1": 0.68, "segment_seconds": 10.0}


def promo_table() -> tuple[list[dict], str]:
    import pandas as pd

    rows = seed_rows()
    X, y = rows[FEATURES], rows[LABEL].to_numpy(dtype=object)
    models = {"naive-bayes": make_promo_model("naive-bayes"),
              "naive-bayes-laplace": make_promo_model("naive-bayes", alpha=1.0),
              "logistic": make_promo_model("logistic")}
    table = pd.concat([
        promo_cv(X, y, models=models),
        promo_cv(X, y, models={"naive-bayes+smote": make_promo_model("naive-bayes")}, smote=True),
        promo_cv(X, y, models={"logistic-balanced": make_promo_model("logistic", class_weight="balanced")}),
    ], ignore_index=True)
    paper = PAPER_TABLE4.set_index("k")
    order = ["naive-bayes", "naive-bayes-laplace", "naive-bayes+smote", "logistic", "logistic-balanced"]
    lines = ["| k | paper NB acc / prec / rec / kappa | niaga NB (α=0) | NB Laplace (α=1) | NB + SMOTE-N | "
             "logistic | logistic, balanced |", "|---|---|---|---|---|---|---|"]
    for k in range(2, 11):
        p = paper.loc[k]
        ours = {r.model: f"{r.accuracy:.2f} / {r.precision:.2f} / {r.recall:.2f} / {r.kappa:.3f}"
                for r in table[table.k == k].itertuples()}
        lines.append(f"| {k} | {p.accuracy:.2f} / {p.precision:.2f} / {p.recall:.2f} / {p.kappa:.3f} | "
                     + " | ".join(ours[m] for m in order) + " |")

    def span(model: str, column: str, fmt: str = ".1f") -> str:
        values = table.loc[table.model == model, column] if model != "paper" else PAPER_TABLE4[column]
        low, high = f"{values.min():{fmt}}", f"{values.max():{fmt}}"
        return low if low == high else f"{low}-{high}"

    gap = (table[table.model == "naive-bayes"].set_index("k")["accuracy"] - paper["accuracy"]).abs().max()
    lines += ["", f"Our Naive Bayes is within {gap:.1f} points of the paper's accuracy at every k "
              f"({span('naive-bayes', 'accuracy')} % against {span('paper', 'accuracy')} %), with lower kappa "
              f"({span('naive-bayes', 'kappa', '.2f')} against {span('paper', 'kappa', '.2f')}) and macro precision "
              f"({span('naive-bayes', 'precision')} % against {span('paper', 'precision')} %): the rebuilt rows combine "
              "attributes independently within each class, so they lack whatever joint structure the real answers had. "
              f"Class weights raise macro recall (logistic: {span('logistic-balanced', 'recall')} % against "
              f"{span('logistic', 'recall')} %) at a large cost in accuracy ({span('logistic-balanced', 'accuracy')} %); "
              f"SMOTE-N lowers Naive Bayes accuracy to {span('naive-bayes+smote', 'accuracy')} % with macro recall "
              f"{span('naive-bayes+smote', 'recall')} %. The stronger model on the same folds, one-hot logistic "
              f"regression, has accuracy {span('logistic', 'accuracy')} % and kappa {span('logistic', 'kappa', '.2f')}."]
    return table.round(4).to_dict("records"), "\n".join(lines)


def intent_results() -> tuple[dict, str]:
    path = data_path("commerce", "online_shoppers_intention", "online_shoppers_intention.csv")
    X, y = usable(path, print)
    runs = {}
    for imbalance in ("none", "balanced", "smote"):
        start = time.perf_counter()
        result = cross_validate_intent(X, y, folds=5, seed=0, imbalance=imbalance)
        runs[imbalance] = {**{k: round(v, 4) for k, v in result["mean"].items()},
                           "seconds": round(time.perf_counter() - start, 1)}
    lines = ["| model (stratified 5-fold CV, fold means) | PR-AUC (AP) | ROC-AUC | buyer F1 | precision | recall | "
             "accuracy | CV s |", "|---|---|---|---|---|---|---|---|"]
    for imbalance, r in runs.items():
        lines.append(f"| niaga LightGBM, imbalance={imbalance}, threshold tuned on training folds | "
                     f"**{r['average_precision']:.4f}** ± {r['average_precision_std']:.3f} | {r['roc_auc']:.4f} | "
                     f"**{r['f1']:.4f}** ± {r['f1_std']:.3f} | {r['precision']:.4f} | {r['recall']:.4f} | "
                     f"{r['accuracy']:.4f} | {r['seconds']} |")
    lines += [f"| published: {PUBLISHED_INTENT['model']} | {PUBLISHED_INTENT['average_precision']} | "
              f"{PUBLISHED_INTENT['roc_auc']} | - | - | - | {PUBLISHED_INTENT['accuracy']} | - |",
              "| reference in the data README: HistGradientBoosting defaults, threshold 0.5 | 0.745 | 0.931 | 0.654 | "
              "- | - | 0.9013 | - |"]
    return runs, "\n".join(lines)


def segmentation_timing(repeats: int = 3) -> tuple[dict, str]:
    path = data_path("commerce", "online_retail", "online_retail.parquet")
    in_process = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeats):
            start = time.perf_counter()
            raw = read_log(path)
            _, summary = write_segmentation(raw, path, Path(tmp) / "out")
            in_process.append(time.perf_counter() - start)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([str(Path(sys.executable).parent / "niaga"), "customers", "segment", "--data", str(path),
                        "--out", str(Path(tmp) / "cli")], check=True, capture_output=True, cwd=ROOT)
        cli = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result = {"lines": summary["lines"], "customers": summary["customers"],
              "in_process_seconds": [round(s, 2) for s in in_process],
              "median_seconds": round(statistics.median(in_process), 2), "cli_seconds": round(cli, 2),
              "cli_cpu_seconds": round(cpu, 2), "load_average_1min": round(os.getloadavg()[0], 1),
              "clusters": summary["clusters"]["k"], "excluded_lines": summary["excluded_lines"]}
    target = TARGETS["segment_seconds"]
    verdict = ("met, for the whole command." if cli < target else
               "met in process and in CPU time, not in wall time for the whole command on the loaded machine."
               if max(result["median_seconds"], cpu) < target else "not met.")
    text = (f"`niaga customers segment` on Online Retail ({result['lines']:,} lines → {result['customers']:,} "
            "customers): read, clean, RFM, rule segments, k-means for k = 2..8 with silhouette, movement against "
            f"90 days earlier, all CSV/parquet outputs and 4 plots. Median of {repeats} in-process runs "
            f"**{result['median_seconds']} s** (runs: {', '.join(map(str, result['in_process_seconds']))}); the "
            f"whole CLI command including Python start-up and imports **{result['cli_seconds']} s** wall, "
            f"{result['cli_cpu_seconds']} s CPU (the machine is shared: 1-minute load average "
            f"{result['load_average_1min']} on 2 cores). Target under {target:.0f} s: {verdict}")
    return result, text


def main() -> None:
    promo_rows, promo_md = promo_table()
    intent, intent_md = intent_results()
    segmentation, segment_md = segmentation_timing()
    best = intent["none"]
    status = lambda value, target: "met" if value >= target else f"not met ({value - target:+.3f})"  # noqa: E731
    markdown = f"""## Customers (`benchmarks/customers.py`)

### Seed 003, Table 4: promotion classes under k-fold CV

Accuracy, macro precision and macro recall in %, then Cohen's kappa. The paper's 284 survey rows are not
public: ours are rebuilt from its Table 1 counts (every count exact, attributes combined independently
within each class, seed 0), so the paper's column is beside ours, not reproduced by it. Stratified folds,
the same folds for every model at each k; metrics on the pooled out-of-fold predictions. What is exact
(Table 2 to 3 decimals, the worked example's scores) is asserted in `tests/customers/test_seed003_reproduction.py`.

{promo_md}

### Purchase intent (UCI Online Shoppers Intention, 12,330 sessions)

{intent_md}

Targets: PR-AUC ≥ {TARGETS['average_precision']}: {status(best['average_precision'], TARGETS['average_precision'])};
buyer F1 ≥ {TARGETS['f1']}: {status(best['f1'], TARGETS['f1'])} (default model, imbalance=none). The default is level with the
published auPR ({best['average_precision']:.3f} against {PUBLISHED_INTENT['average_precision']}) and above the plain
gradient-boosting reference (0.745), but 0.78 was not reached: derived features
(page value present, value × staying, per-page times), dropping the OS / browser / region codes, a random
search over LightGBM settings, seed averaging and blending with logistic regression all stayed within
0.750-0.758 in 5-fold CV. Oversampling and class weights do not raise PR-AUC (a ranking metric); the tuned
threshold already gives the F1 they would.

### Segmentation run time

{segment_md}
"""
    save("customers", {"promo_cv": promo_rows, "paper_table4": PAPER_TABLE4.to_dict("records"), "intent": intent,
                       "intent_published": PUBLISHED_INTENT, "segmentation": segmentation, "targets": TARGETS}, markdown)


if __name__ == "__main__":
    main()
