"""The paper's model selection: DF-threshold curve, C × γ grid with 10-fold CV, test accuracy of the best pair."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.svm import SVC  # noqa: E402
from tqdm.auto import tqdm  # noqa: E402

from niaga.evaluation import classification_metrics  # noqa: E402
from niaga.evaluation.cv import kfold_splits, near_duplicate_groups  # noqa: E402
from niaga.modeling import write_json  # noqa: E402
from niaga.text.classify.pipeline import LabelledTable  # noqa: E402
from niaga.social.paper import FALLBACK, PaperSVMClassifier, document_frequency_curve, paper_normalizer, paper_vectorizer  # noqa: E402

#: The paper's grid: C and γ from 0.1 to 1.0 in steps of 0.1.
PAPER_GRID = tuple(round(0.1 * i, 1) for i in range(1, 11))
#: The paper's figures (seed 001): 10-fold CV accuracy of the best pair, test accuracy on featureful tweets.
PAPER_RESULT = {"C": 0.9, "gamma": 0.8, "cv_accuracy": 0.961, "test_accuracy": 0.94, "test_featureful": 138,
                "test_total": 200, "min_df": 16}


def split_holdout(table: LabelledTable, test_size: float = 0.2, seed: int = 0) -> tuple[LabelledTable, LabelledTable]:
    """A stratified train / test split that keeps near-duplicate texts on one side (the paper: 800 / 200)."""
    n_splits = max(2, round(1 / test_size))
    groups = near_duplicate_groups(table.texts)
    train_idx, test_idx = kfold_splits(table.labels, n_splits, groups, seed)[0]

    def subset(rows) -> LabelledTable:
        return LabelledTable([table.texts[i] for i in rows], [table.labels[i] for i in rows], source=table.source)
    return subset(train_idx), subset(test_idx)


def grid_search(texts: Sequence[str], labels: Sequence[str], min_df: int = 16, C_values=PAPER_GRID,
                gamma_values=PAPER_GRID, folds: int = 10, seed: int = 0, groups: Sequence | None = None,
                progress: bool = True) -> pd.DataFrame:
    """Mean 10-fold CV accuracy for every (C, γ) pair: rows C, columns γ, as the paper's Table 4.

    ``texts`` are already normalized. The DF threshold and the IDF are refitted inside each training fold
    (once per fold, shared by every pair: GridSearchCV would refit them for each pair). ``groups``
    (near-duplicate groups of the raw texts) stay in one fold, as in the holdout split.
    """
    texts = np.asarray(texts, dtype=object)
    labels = np.asarray(labels, dtype=object)
    splits = kfold_splits(labels, folds, groups, seed)
    correct = np.zeros((len(C_values), len(gamma_values)))
    with tqdm(total=len(splits) * len(C_values) * len(gamma_values), desc="C × γ grid", unit="fit",
              disable=not progress) as bar:
        for train_idx, test_idx in splits:
            vectorizer = paper_vectorizer(min_df)
            train = vectorizer.fit_transform(texts[train_idx])
            test = vectorizer.transform(texts[test_idx])
            for i, C in enumerate(C_values):
                for j, gamma in enumerate(gamma_values):
                    pred = SVC(kernel="rbf", C=C, gamma=gamma).fit(train, labels[train_idx]).predict(test)
                    correct[i, j] += (pred == labels[test_idx]).mean() / len(splits)
                    bar.update()
    return pd.DataFrame(correct, index=pd.Index([float(c) for c in C_values], name="C"),
                        columns=pd.Index([float(g) for g in gamma_values], name="gamma"))


def best_pair(table: pd.DataFrame) -> tuple[float, float, float]:
    """(C, γ, accuracy) of the best cell; ties go to the first in reading order, as a table is read."""
    values = table.to_numpy()
    row, col = np.unravel_index(np.argmax(values), values.shape)
    return float(table.index[row]), float(table.columns[col]), float(values[row, col])


def plot_grid(table: pd.DataFrame, path: Path, best: tuple[float, float, float]) -> None:
    fig, ax = plt.subplots(figsize=(7.5, 6))
    image = ax.imshow(table.to_numpy() * 100, cmap="viridis", origin="lower", aspect="auto")
    ax.set_xticks(range(len(table.columns)), [f"{g:g}" for g in table.columns])
    ax.set_yticks(range(len(table.index)), [f"{c:g}" for c in table.index])
    ax.set_xlabel("γ (gamma)")
    ax.set_ylabel("C")
    for (i, j), value in np.ndenumerate(table.to_numpy() * 100):
        ax.text(j, i, f"{value:.1f}", ha="center", va="center", fontsize=7,
                color="white" if value < table.to_numpy().mean() * 100 else "black")
    ax.set_title(f"10-fold CV accuracy (%), best C={best[0]:g}, γ={best[1]:g}: {best[2]:.1%}")
    fig.colorbar(image, ax=ax, label="accuracy (%)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_df_curve(curve: dict[int, int], path: Path, min_df: int) -> None:
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(list(curve), list(curve.values()), marker="o", markersize=3)
    ax.axvline(min_df, color="tab:red", linestyle="--", label=f"threshold {min_df}")
    ax.set_xlabel("minimum document frequency (threshold)")
    ax.set_ylabel("words kept")
    ax.set_yscale("log")
    ax.set_title("Words kept against the DF threshold (the paper's Figure 3)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run_grid(train_texts: Sequence[str], train_labels: Sequence[str], test_texts: Sequence[str],
             test_labels: Sequence[str], report_dir: str | Path, min_df: int = 16, C_values=PAPER_GRID,
             gamma_values=PAPER_GRID, folds: int = 10, context: dict | None = None) -> dict:
    """The paper's protocol end to end; writes grid.csv, grid.png, df_curve.png, metrics.json and report.md."""
    report = Path(report_dir)
    report.mkdir(parents=True, exist_ok=True)
    normalizer = paper_normalizer().fit()
    train_norm = normalizer.transform(list(train_texts))
    curve = document_frequency_curve(train_norm)
    plot_df_curve(curve, report / "df_curve.png", min_df)
    table = grid_search(train_norm, train_labels, min_df, C_values, gamma_values, folds,
                        groups=near_duplicate_groups(list(train_texts)))
    table.to_csv(report / "grid.csv", float_format="%.4f")
    best = best_pair(table)
    plot_grid(table, report / "grid.png", best)

    model = PaperSVMClassifier(min_df=min_df, C=best[0], gamma=best[1]).fit(list(train_texts), list(train_labels))
    test_texts = list(test_texts)
    test_labels = np.asarray(test_labels, dtype=object)
    pred = model.predict(test_texts)
    featureless = model.featureless(test_texts)
    classes = list(model.classes_)
    metrics = {
        "min_df": min_df, "vocabulary_size": len(model.vectorizer_.vocabulary_), "cv_folds": folds,
        "best_C": best[0], "best_gamma": best[1], "cv_accuracy": best[2],
        "test_rows": len(test_texts), "test_featureful": int((~featureless).sum()),
        "test_featureless": int(featureless.sum()), "featureless_fallback": FALLBACK,
        "test_all": classification_metrics(test_labels, pred, classes=classes),
        "test_featureful_only": (classification_metrics(test_labels[~featureless], pred[~featureless], classes=classes)
                                 if (~featureless).any() else {}),
        "paper": PAPER_RESULT, "df_curve": curve,
    }
    write_json(metrics, report / "metrics.json")
    (report / "report.md").write_text(grid_markdown(table, metrics, context or {}), encoding="utf-8")
    return metrics


def grid_markdown(table: pd.DataFrame, metrics: dict, context: dict) -> str:
    header = "| C \\ γ | " + " | ".join(f"{g:g}" for g in table.columns) + " |"
    lines = [header, "|" + "---|" * (len(table.columns) + 1)]
    for c, row in table.iterrows():
        lines.append(f"| {c:g} | " + " | ".join(f"{v * 100:.1f}" for v in row) + " |")
    featureful = metrics["test_featureful_only"].get("accuracy", float("nan"))
    paper = metrics["paper"]
    return "\n".join([
        "# Seed 001 protocol: DF threshold, C × γ grid, test accuracy", "",
        *(f"- {k}: {v}" for k, v in context.items()),
        f"- DF threshold {metrics['min_df']}: {metrics['vocabulary_size']} words kept (see df_curve.png)", "",
        f"## Mean {metrics['cv_folds']}-fold CV accuracy (%) — the paper's Table 4 layout", "",
        "Folds are stratified and keep near-duplicate posts together, like the holdout split.", "", *lines, "",
        f"Best pair: C={metrics['best_C']:g}, γ={metrics['best_gamma']:g}, CV accuracy {metrics['cv_accuracy']:.1%} "
        f"(paper: C={paper['C']}, γ={paper['gamma']}, {paper['cv_accuracy']:.1%}).", "",
        "## Test", "",
        "| texts | rows | accuracy | macro-F1 |", "|---|---|---|---|",
        f"| with at least one feature | {metrics['test_featureful']} | {featureful:.1%} | "
        f"{metrics['test_featureful_only'].get('f1_macro', float('nan')):.3f} |",
        f"| all (featureless ones by the fallback: {metrics['featureless_fallback']}) | {metrics['test_rows']} | "
        f"{metrics['test_all']['accuracy']:.1%} | {metrics['test_all']['f1_macro']:.3f} |",
        f"| paper (featureful only) | {paper['test_featureful']} of {paper['test_total']} | "
        f"{paper['test_accuracy']:.0%} | — |", "",
    ])
