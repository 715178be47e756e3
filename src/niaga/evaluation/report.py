"""The evaluation report every ``evaluate`` command writes: metrics.json, confusion_matrix.png, report.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np

from niaga.evaluation.metrics import classification_report_text, confusion


def plot_confusion_matrix(matrix: np.ndarray, labels: Sequence, path: Path, title: str = "") -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [str(label) for label in labels]
    size = max(4.0, 0.7 * len(labels) + 2.5)
    fig, ax = plt.subplots(figsize=(size, size * 0.85))
    row_sums = matrix.sum(axis=1, keepdims=True)
    shares = np.divide(matrix, row_sums, out=np.zeros_like(matrix, dtype=float), where=row_sums > 0)
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, f"{matrix[i, j]}\n{shares[i, j]:.0%}", ha="center", va="center", fontsize=8,
                    color="white" if shares[i, j] > 0.5 else "black")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title or "Confusion matrix (counts, row share)")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_classification_report(directory: str | Path, metrics: dict, y_true: Sequence, y_pred: Sequence,
                                labels: Sequence, title: str = "Evaluation", context: dict | None = None) -> Path:
    """Write metrics.json, confusion_matrix.png and report.md into ``directory``; returns it."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    payload = {**metrics, **({"context": context} if context else {})}
    (directory / "metrics.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
    matrix = confusion(y_true, y_pred, labels)
    plot_confusion_matrix(matrix, labels, directory / "confusion_matrix.png", title=title)
    lines = [f"# {title}", ""]
    for key, value in (context or {}).items():
        lines.append(f"- **{key}**: {value}")
    lines += ["", "| metric | value |", "|---|---|"]
    for key, value in metrics.items():
        if isinstance(value, float):
            lines.append(f"| {key} | {value:.4f} |")
        elif isinstance(value, int):
            lines.append(f"| {key} | {value} |")
    lines += ["", "## Per-class report", "", "```", classification_report_text(y_true, y_pred, labels).rstrip(), "```",
              "", "## Confusion matrix", "", "![confusion matrix](confusion_matrix.png)", ""]
    header = "| true \\ predicted | " + " | ".join(map(str, labels)) + " |"
    lines += [header, "|" + "---|" * (len(labels) + 1)]
    for label, row in zip(labels, matrix):
        lines.append(f"| {label} | " + " | ".join(str(int(v)) for v in row) + " |")
    (directory / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return directory
