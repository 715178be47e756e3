"""Scoring predictions per level of the tree: metrics, per-class report, confusion matrices, error severity.

Per level: accuracy, macro precision / recall / F1 (scikit-learn's names, ``niaga.evaluation``), and the
per-class mean accuracy (mean recall over the classes present: what a shop with many small categories sees).
Errors at a level are split by how far apart the two classes sit in the tree: *within parent* (Shirts read
as Tshirts: both Topwear) against *across parent* (Shirts read as Heels), the latter also by whether they share
the grand-parent. The report is metrics.json, report.md, confusion_matrix.png (finest level),
confusion_<level>.png and per_class_<level>.csv per level, and errors.csv (the most frequent confusions).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from niaga.evaluation.metrics import classification_metrics, classification_report_text, confusion
from niaga.evaluation.report import plot_confusion_matrix
from niaga.vision.dataset import HEADS, LEVELS

#: above this many classes the confusion matrix is drawn as a heatmap without numbers in the cells
ANNOTATED_MAX = 30


def level_metrics(y_true: Sequence, y_pred: Sequence, classes: Sequence) -> dict:
    """classification_metrics (accuracy, macro/weighted P/R/F1, kappa, per-class F1) plus the per-class mean
    accuracy over the classes present in ``y_true``."""
    y_true, y_pred = np.asarray(y_true, dtype=object), np.asarray(y_pred, dtype=object)
    labels = sorted(set(y_true) | set(y_pred) | set(classes), key=str)
    out = classification_metrics(y_true, y_pred, classes=labels)
    present = sorted(set(y_true), key=str)
    recall = skm.recall_score(y_true, y_pred, labels=present, average=None, zero_division=0)
    out["per_class_mean_accuracy"] = float(np.mean(recall)) if len(present) else 0.0
    out["classes_present"] = len(present)
    return out


def error_split(table: pd.DataFrame, pred: pd.DataFrame, levels: list[str]) -> dict:
    """Per level below the top: the errors, and how many stay within the true class's parent (and, two levels
    down, within its grand-parent), judged on the true row's own parent labels."""
    out = {}
    for depth, level in enumerate(levels):
        if depth == 0:
            continue
        wrong = table[level].to_numpy() != pred[level].to_numpy()
        parent = levels[depth - 1]
        same_parent = table[parent].to_numpy() == pred[parent].to_numpy()
        entry = {"errors": int(wrong.sum()), "within_parent": int((wrong & same_parent).sum()),
                 "across_parent": int((wrong & ~same_parent).sum())}
        if depth >= 2:
            grand = levels[depth - 2]
            same_grand = table[grand].to_numpy() == pred[grand].to_numpy()
            entry["across_parent_within_grandparent"] = int((wrong & ~same_parent & same_grand).sum())
            entry["across_grandparent"] = int((wrong & ~same_grand).sum())
        entry["within_parent_share"] = entry["within_parent"] / entry["errors"] if entry["errors"] else 0.0
        out[level] = entry
    return out


def top_confusions(table: pd.DataFrame, pred: pd.DataFrame, levels: list[str], n: int = 40) -> pd.DataFrame:
    rows = []
    for depth, level in enumerate(levels):
        wrong = table[level].to_numpy() != pred[level].to_numpy()
        pairs = pd.DataFrame({"true": table[level].to_numpy()[wrong], "predicted": pred[level].to_numpy()[wrong]})
        if depth > 0:
            parent = levels[depth - 1]
            pairs["same_parent"] = (table[parent].to_numpy()[wrong] == pred[parent].to_numpy()[wrong])
        counted = pairs.value_counts().reset_index(name="count") if len(pairs) else pd.DataFrame()
        if len(counted):
            counted.insert(0, "level", level)
            rows.append(counted.head(n))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["level", "true", "predicted", "count"])


def plot_heatmap(matrix: np.ndarray, labels: Sequence, path: Path, title: str) -> Path:
    """A row-normalized confusion matrix for many classes: colour only, small tick labels."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(labels)
    size = min(30.0, max(8.0, 0.16 * n + 3))
    fig, ax = plt.subplots(figsize=(size, size * 0.9))
    rows = matrix.sum(axis=1, keepdims=True)
    shares = np.divide(matrix, rows, out=np.zeros_like(matrix, dtype=float), where=rows > 0)
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks(range(n), [str(v) for v in labels], rotation=90, fontsize=6)
    ax.set_yticks(range(n), [str(v) for v in labels], fontsize=6)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, fraction=0.03, pad=0.02, label="share of the true class's images")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_report(directory: str | Path, table: pd.DataFrame, pred: pd.DataFrame, classes: dict[str, list[str]],
                 context: dict, extra: dict | None = None, title: str = "Product recognition") -> dict:
    """Score ``pred`` against ``table`` for every head both have; write the report set; return the metrics."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    heads = [h for h in HEADS if h in classes and h in table.columns]
    levels = [lv for lv in LEVELS if lv in heads]
    metrics: dict = {"n": int(len(table)), "levels": {}}
    for head in heads:
        labelled = table[head].astype(str) != ""
        truth, guess = table.loc[labelled, head].astype(str), pred.loc[labelled, head].astype(str)
        metrics["levels"][head] = level_metrics(truth, guess, classes[head])
        labels = sorted(set(truth) | set(guess), key=str)
        matrix = confusion(truth, guess, labels)
        name = f"confusion_{head}.png"
        if len(labels) <= ANNOTATED_MAX:
            plot_confusion_matrix(matrix, labels, directory / name, title=f"{head}: confusion (count, row share)")
        else:
            plot_heatmap(matrix, labels, directory / name, f"{head}: confusion matrix (row share)")
        report = pd.DataFrame(skm.precision_recall_fscore_support(truth, guess, labels=labels, zero_division=0),
                              index=["precision", "recall", "f1", "support"], columns=labels).T
        report.index.name = "class"
        report.to_csv(directory / f"per_class_{head}.csv", float_format="%.4f")
    finest = levels[-1] if levels else heads[0]
    (directory / "confusion_matrix.png").write_bytes((directory / f"confusion_{finest}.png").read_bytes())
    if len(levels) > 1:
        metrics["errors"] = error_split(table, pred, levels)
    top_confusions(table, pred, levels or heads).to_csv(directory / "errors.csv", index=False)
    metrics.update(extra or {})
    payload = {**metrics, "context": context}
    (directory / "metrics.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=str),
                                            encoding="utf-8")
    (directory / "report.md").write_text(_markdown(metrics, context, table, pred, heads, levels, title),
                                         encoding="utf-8")
    return metrics


def _markdown(metrics, context, table, pred, heads, levels, title) -> str:
    lines = [f"# {title}", ""]
    lines += [f"- **{k}**: {v}" for k, v in context.items()]
    lines += ["", "| label | classes | accuracy | macro precision | macro recall | macro F1 | per-class mean accuracy |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for head in heads:
        m = metrics["levels"][head]
        lines.append(f"| {head} | {m['classes_present']} | {m['accuracy']:.4f} | {m['precision_macro']:.4f} | "
                     f"{m['recall_macro']:.4f} | {m['f1_macro']:.4f} | {m['per_class_mean_accuracy']:.4f} |")
    if "errors" in metrics:
        lines += ["", "## How far off the errors are", "",
                  "An error within the parent (Shirts read as Tshirts, both Topwear) costs a shop less than one across "
                  "parents (Shirts read as Heels).", "",
                  "| level | errors | within parent | across parent | share within parent |", "|---|---:|---:|---:|---:|"]
        for level, e in metrics["errors"].items():
            lines.append(f"| {level} | {e['errors']} | {e['within_parent']} | {e['across_parent']} | "
                         f"{e['within_parent_share']:.1%} |")
    if "search" in metrics:
        lines += ["", "## Visual search", ""]
        for name, s in metrics["search"].items():
            lines.append(f"- {name}: " + ", ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
                                                   for k, v in s.items()))
    confusions = top_confusions(table, pred, levels or heads, n=10)
    if len(confusions):
        lines += ["", "## Most frequent confusions", "", "| level | true | predicted | count |", "|---|---|---|---:|"]
        for row in confusions.itertuples():
            lines.append(f"| {row.level} | {row.true} | {row.predicted} | {row.count} |")
    for head in heads:
        lines += ["", f"## {head}", "", f"![{head} confusion matrix](confusion_{head}.png)", "", "```",
                  classification_report_text(table[head].astype(str), pred[head].astype(str),
                                             sorted(set(table[head].astype(str)) | set(pred[head].astype(str)))).rstrip(),
                  "```"]
    return "\n".join(lines) + "\n"
