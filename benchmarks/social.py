"""Social posts (seed 001): the paper's protocol on our data beside its figures, and stronger models on the same folds.

- Paper protocol: a stratified 80 / 20 split of the 1,053 labelled posts (near-duplicates kept together; the
  paper: 800 / 200), DF threshold 16, C × γ grid 0.1..1.0 with 10-fold CV, test accuracy of the best pair on
  the test posts that keep a feature and on all of them.
- Model comparison: 10-fold CV on all 1,053 posts, stratified and grouped by near-duplicates, the same folds
  for every model: the paper's SVM-RBF (its C=0.9, γ=0.8), the TF-IDF word + char model (kind tfidf, once linear), the neural
  model (BiLSTM, FastText pretrained on the unlabelled shared text), and the mean of tfidf and neural.
- Activity (transaction posts only): the same models and protocol, macro-F1 and accuracy.
- Speed: posts/s of the default model.

Run: python benchmarks/social.py [--models svm-rbf,tfidf,neural] [--folds 10] [--skip-grid]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import save  # noqa: E402

from niaga.data.text import load_ecommerce_tweets  # noqa: E402
from niaga.evaluation import classification_metrics, kfold_splits  # noqa: E402
from niaga.evaluation.cv import near_duplicate_groups  # noqa: E402
from niaga.text.classify.pipeline import LabelledTable  # noqa: E402
from niaga.social.grid import PAPER_RESULT, run_grid, split_holdout  # noqa: E402
from niaga.social.models import make_model  # noqa: E402

TARGETS = {"transaction_f1_macro": 0.90, "activity_accuracy": 0.80}
FLOORS = "held-back figures the issue quotes: linear TF-IDF word + char SVM about 0.86 macro-F1, the paper's " \
         "unigram RBF recipe about 0.82; activity with the linear model about 0.74 accuracy"


def build(kind: str):
    return make_model(kind, **({"verbose": False} if kind == "neural" else {}))


def out_of_fold(kind: str, texts: np.ndarray, labels: np.ndarray, folds, classes: list[str]):
    """Out-of-fold class probabilities (columns in ``classes`` order) and the model's own predictions (the
    paper's SVM labels by the sign of its decision function, not by argmax of Platt probabilities)."""
    proba = np.zeros((len(labels), len(classes)))
    pred = np.empty(len(labels), dtype=object)
    for train_idx, test_idx in folds:
        model = build(kind).fit(list(texts[train_idx]), labels[train_idx])
        pred[test_idx], part = model.predict_and_proba(list(texts[test_idx]))
        proba[np.ix_(test_idx, [classes.index(c) for c in model.classes_])] = part
    return proba, pred


def compare(texts: np.ndarray, labels: np.ndarray, kinds: list[str], n_folds: int) -> dict:
    classes = sorted(set(labels))
    folds = kfold_splits(labels, n_folds, near_duplicate_groups(list(texts)))
    probas, results = {}, {}
    for kind in kinds:
        start = time.perf_counter()
        probas[kind], pred = out_of_fold(kind, texts, labels, folds, classes)
        results[kind] = {**pick(classification_metrics(labels, pred, classes=classes)),
                         "seconds": round(time.perf_counter() - start, 1)}
        print(f"  {kind:<14} macro-F1 {results[kind]['f1_macro']:.4f} accuracy {results[kind]['accuracy']:.4f}",
              flush=True)
    if {"tfidf", "neural"} <= set(probas):
        mean = (probas["tfidf"] + probas["neural"]) / 2
        pred = np.asarray(classes, dtype=object)[mean.argmax(axis=1)]
        results["tfidf+neural"] = pick(classification_metrics(labels, pred, classes=classes))
    return results


def pick(metrics: dict) -> dict:
    return {k: round(float(metrics[k]), 4) for k in ("f1_macro", "accuracy", "precision_macro", "recall_macro")}


def throughput(kind: str, texts: list[str], labels: np.ndarray) -> float:
    model = build(kind).fit(texts, labels)
    start = time.perf_counter()
    model.predict(texts)
    return len(texts) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="svm-rbf,tfidf,neural")
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--skip-grid", action="store_true")
    args = parser.parse_args()
    kinds = args.models.split(",")

    frame = load_ecommerce_tweets()
    texts = frame["text"].to_numpy(dtype=object)
    labels = frame["label"].to_numpy(dtype=object)
    payload: dict = {"rows": len(frame), "folds": args.folds, "paper": PAPER_RESULT, "targets": TARGETS}

    if not args.skip_grid:
        print("paper protocol: 80/20 split, DF ≥ 16, C × γ grid with 10-fold CV", flush=True)
        train, test = split_holdout(LabelledTable(list(texts), list(labels)), 0.2)
        with tempfile.TemporaryDirectory() as report:
            grid = run_grid(train.texts, train.labels, test.texts, test.labels, report)
            payload["grid_table_markdown"] = (Path(report) / "report.md").read_text()
        payload["paper_protocol"] = {k: grid[k] for k in ("best_C", "best_gamma", "cv_accuracy", "vocabulary_size",
                                                          "test_rows", "test_featureful", "test_featureless")}
        payload["paper_protocol"]["test_accuracy_featureful"] = grid["test_featureful_only"].get("accuracy")
        payload["paper_protocol"]["test_accuracy_all"] = grid["test_all"]["accuracy"]
        payload["paper_protocol"]["test_f1_macro_all"] = grid["test_all"]["f1_macro"]

    print(f"transaction: {args.folds}-fold CV on {len(labels)} posts", flush=True)
    payload["transaction"] = compare(texts, labels, kinds, args.folds)
    is_transaction = labels == "TRANSACTION"
    print(f"activity: {args.folds}-fold CV on {is_transaction.sum()} transaction posts", flush=True)
    activity = frame.loc[is_transaction, "activity"].to_numpy(dtype=object)
    payload["activity"] = compare(texts[is_transaction], activity, kinds, args.folds)
    payload["default_posts_per_second"] = round(throughput("tfidf", list(texts), labels))
    save("social", payload, markdown(payload, kinds))


def markdown(payload: dict, kinds: list[str]) -> str:
    lines = ["## Social posts: transaction and activity (seed 001)", "",
             f"Data: the {payload['rows']} labelled posts of `text/ecommerce_tweets_labelled` (the paper's 1,000 are "
             "not public). Targets on the held-back 656 posts: transaction macro-F1 ≥ 0.90, activity accuracy ≥ 0.80; "
             f"{FLOORS}.", ""]
    if "paper_protocol" in payload:
        p, paper = payload["paper_protocol"], payload["paper"]
        lines += ["### The paper's protocol on our data", "",
                  "| | best C | best γ | 10-fold CV accuracy | test accuracy (texts with a feature) | test accuracy (all) |",
                  "|---|---|---|---|---|---|",
                  f"| paper (1,000 tweets, 800 / 200) | {paper['C']} | {paper['gamma']} | {paper['cv_accuracy']:.1%} | "
                  f"{paper['test_accuracy']:.0%} ({paper['test_featureful']} of {paper['test_total']}) | — |",
                  f"| ours ({payload['rows']} posts, {p['test_rows']} held out) | {p['best_C']:g} | {p['best_gamma']:g} | "
                  f"{p['cv_accuracy']:.1%} | {p['test_accuracy_featureful']:.1%} ({p['test_featureful']} of "
                  f"{p['test_rows']}) | {p['test_accuracy_all']:.1%} |", "",
                  f"DF ≥ 16 keeps {p['vocabulary_size']} words. Our posts are mostly replies to customer-service "
                  "accounts, harder than the paper's shop-account tweets: the recipe tops out in the mid-80s.", "",
                  "<details><summary>Grid of mean CV accuracies (the paper's Table 4 layout)</summary>", "",
                  payload["grid_table_markdown"].split("## Mean", 1)[1].split("\n", 1)[1].split("Best pair")[0].strip(),
                  "", "</details>", ""]
    for task, target in (("transaction", "f1_macro"), ("activity", "accuracy")):
        rows = payload[task]
        lines += [f"### {task.capitalize()}: {payload['folds']}-fold CV, the same folds for every model "
                  "(stratified, near-duplicates kept together)", "",
                  "| model | macro-F1 | accuracy | macro precision | macro recall |", "|---|---|---|---|---|"]
        best = max(rows, key=lambda k: rows[k][target])
        for kind, m in rows.items():
            name = f"**{kind}**" if kind == best else kind
            lines.append(f"| {name} | {m['f1_macro']:.4f} | {m['accuracy']:.4f} | {m['precision_macro']:.4f} | "
                         f"{m['recall_macro']:.4f} |")
        lines.append("")
    singles = {task: max((k for k in payload[task] if "+" not in k), key=lambda k: payload[task][k][metric])
               for task, metric in (("transaction", "f1_macro"), ("activity", "accuracy"))}
    lines.append(f"Best single model: {singles['transaction']} on transactions, {singles['activity']} on activity; "
                 "`niaga social train` defaults to `tfidf` (once called `linear`), which trains in seconds (the neural model takes minutes "
                 "per fold, and averaging it in moves transaction macro-F1 by less than a fold's noise).")
    lines.append(f"Default model (tfidf) throughput: {payload['default_posts_per_second']:,} posts/s on one process.")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
