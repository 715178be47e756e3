"""The customers capability's use cases, called by the CLI, the API and the main job: promotion preference
(seed 003's Naive Bayes and stronger models) and purchase intent. Each takes paths and plain values and returns
the model and its metrics or the written table."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from niaga.cli_options import note, quiet
from niaga.customers.intent import (CLASS_NAMES, FEATURES, LABEL, IntentClassifier, cross_validate_intent,
                                    intent_metrics, label_names, read_sessions, usable)
from niaga.customers.naive_bayes import CategoricalNaiveBayes
from niaga.customers.promo import fit_promo_model, make_promo_model, read_promo_table, seed_table1
from niaga.data.io import with_outputs, write_table
from niaga.errors import DataError
from niaga.modeling import fingerprint, load_model, save_model


# -- promotion preference (seed 003) ---------------------------------------------------------------------

def train_promotion(data: str | Path | None, out: str | Path, kind: str = "naive-bayes", label_col: str = "promotion",
                    alpha: float = 0.0, class_weight: str | None = None, smote: bool = False,
                    log: Callable[[str], None] = quiet) -> tuple[object, dict]:
    """Train a promotion model on a survey table (default: the rows rebuilt from seed 003's Table 1 counts; the
    Naive Bayes without SMOTE then trains on the counts themselves, the paper's model exactly) and save it."""
    X, y, skipped = read_promo_table(data, label_col)
    if len(skipped):
        log(f"skipped {len(skipped)} row(s) without a label: rows {', '.join(map(str, skipped['row'].head(10)))}")
    model = make_promo_model(kind, alpha=alpha, class_weight=class_weight)
    if data is None and isinstance(model, CategoricalNaiveBayes) and not smote:
        model.fit_counts(seed_table1())  # the paper's model exactly, zero-count values included
        source = "seed 003 Table 1 counts"
    else:
        model = fit_promo_model(model, X, y, smote=smote)
        source = str(data) if data else "seed 003 Table 1 counts (rebuilt rows)"
    summary = {"training_rows": len(y), "skipped_rows": len(skipped), "source": source}
    save_model(model, out, labels=model.classes_, metrics={"training_rows": len(y), "skipped_rows": len(skipped)},
               data_sha256=fingerprint(*[X[c] for c in X.columns], y), data_rows=len(y),
               extra={"training_source": source, "label_col": label_col, "smote": smote,
                      "attributes": list(X.columns)})
    if isinstance(model, CategoricalNaiveBayes):
        write_table(model.conditional_probabilities().round(6), Path(out) / "conditional_probabilities.csv",
                    create_parent=True)
    return model, summary


def evaluate_promotion(model_dir: str | Path, data: str | Path | None, report_dir: str | Path,
                       label_col: str = "promotion") -> dict:
    """Score a saved promotion model on a labelled table; metrics.json, confusion matrix and report.md. When the
    rows are the model's training rows, the report and a note say so."""
    from niaga.customers.profile import promotion_model
    from niaga.evaluation import classification_metrics, write_classification_report

    model = promotion_model(model_dir)
    X, y, skipped = read_promo_table(data, label_col)
    missing = [f for f in model.feature_names_in_ if f not in X.columns]
    if missing:
        raise DataError(f"{data}: missing attribute column(s) {missing} that the model uses")
    X = X[list(model.feature_names_in_)]
    context = {"model": str(model_dir), "data": str(data) if data else "seed 003 rebuilt rows", "rows": len(y)}
    if fingerprint(*[X[c] for c in X.columns], y) == model.metadata_.get("training_data", {}).get("sha256"):
        warning = "the evaluation rows are the model's training rows: these figures overstate quality on new data"
        note(warning)
        context["WARNING"] = warning
    proba = model.predict_proba(X)
    pred = model.classes_[proba.argmax(axis=1)]
    classes = list(model.classes_) + sorted(set(y) - set(model.classes_))
    metrics = classification_metrics(y, pred, classes=classes)
    metrics["skipped_rows"] = int(len(skipped))
    write_classification_report(report_dir, metrics, y, pred, classes, title="Promotion model evaluation",
                                context=context)
    return metrics


# -- purchase intent (UCI Online Shoppers Intention) -----------------------------------------------------

def train_intent(path: str | Path, out: str | Path, log: Callable[[str], None] = quiet,
                 **params) -> tuple[IntentClassifier, dict]:
    X, y = usable(path, log)
    start = time.perf_counter()
    model = IntentClassifier(**params).fit(X, y)
    metrics = {"training_rows": len(y), "buyer_share": float(y.mean()), "threshold": model.threshold_,
               "fit_seconds": round(time.perf_counter() - start, 2)}
    save_model(model, out, labels=CLASS_NAMES, metrics=metrics, data_sha256=fingerprint(*[X[c] for c in FEATURES], y),
               data_rows=len(y), extra={"training_source": str(path), "positive_label": f"{LABEL}=TRUE"})
    return model, metrics


def evaluate_intent(path: str | Path, report_dir: str | Path, folds: int = 5, seed: int = 0,
                    log: Callable[[str], None] = quiet, **params) -> dict:
    """Stratified k-fold CV on a labelled table; writes metrics.json (average_precision, roc_auc, buyer f1 ...),
    a confusion matrix, a precision-recall curve and report.md."""
    from niaga.evaluation import write_classification_report

    X, y = usable(path, log)
    result = cross_validate_intent(X, y, folds=folds, seed=seed, **params)
    metrics = {**result["mean"], "n": int(len(y)), "cv_folds": folds, "buyer_share": float(y.mean()),
               "pooled": intent_metrics(y, result["oof_pred"], result["oof_proba"]),
               "folds": result["folds"]}
    context = {"data": str(path), "rows": len(y), "validation": f"stratified {folds}-fold CV (seed {seed}); metrics are "
               "fold means; the threshold is tuned on each training fold's own out-of-fold predictions",
               "published": "Sakar et al. data; XGBoost + feature selection + oversampling: auPR 0.754, auROC 0.937"}
    write_classification_report(report_dir, metrics, label_names(y), label_names(result["oof_pred"]), CLASS_NAMES,
                                title=f"Purchase intent: {folds}-fold CV on {Path(path).name}", context=context)
    plot_precision_recall(y, result["oof_proba"], Path(report_dir) / "precision_recall.png")
    with open(Path(report_dir) / "report.md", "a", encoding="utf-8") as fh:
        fh.write("\n## Precision-recall (pooled out-of-fold)\n\n![precision-recall](precision_recall.png)\n")
    return metrics


def plot_precision_recall(y, proba, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import PrecisionRecallDisplay

    fig, ax = plt.subplots(figsize=(5, 4))
    PrecisionRecallDisplay.from_predictions(y, proba, ax=ax, name="LightGBM", plot_chance_level=True)
    ax.set_title("Purchase intent: precision-recall")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def predict_intent(model_dir: str | Path, path: str | Path, output: str | Path) -> pd.DataFrame:
    """The input rows plus purchase_probability, purchase (TRUE/FALSE at the model's threshold) and error."""
    model = load_model(model_dir, task="customers")
    if not isinstance(model, IntentClassifier):
        raise DataError(f"{model_dir}: holds a {type(model).__name__}, not a purchase-intent model")
    features, _, problems, raw = read_sessions(path, label=False)
    ok = (problems == "").to_numpy()
    probability = np.full(len(raw), np.nan)
    if ok.any():
        probability[ok] = model.predict_proba(features[ok])[:, 1]
    out = with_outputs(raw, {
        "purchase_probability": np.round(probability, 6),
        "purchase": pd.Series(np.where(ok, probability >= model.threshold_, pd.NA), dtype="boolean", index=raw.index),
        "error": problems.to_numpy()})
    write_table(out, output)
    return out
