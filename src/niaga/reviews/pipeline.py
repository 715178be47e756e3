"""Train, predict and evaluate review classifiers on tables: what the CLI and the API call.

Rows are never silently dropped: a row whose text is empty or not text is written out with an empty
label and the reason in an ``error`` column; training and evaluation count the rows they skip and say so.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from tqdm.auto import tqdm

from niaga.data.io import read_table, require_columns, write_table
from niaga.errors import DataError
from niaga.evaluation import classification_metrics, cross_validate, write_classification_report
from niaga.modeling import fingerprint, load_model, save_model
from niaga.reviews.base import TextClassifier

MODEL_KINDS = ("tfidf", "neural", "transformer")


def make_model(kind: str = "tfidf", **params) -> TextClassifier:
    """A fresh, unfitted review classifier of the named kind (heavy libraries imported only when asked)."""
    if kind == "tfidf":
        from niaga.reviews.tfidf import TfidfTextClassifier as cls
    elif kind == "neural":
        from niaga.reviews.neural import NeuralTextClassifier as cls
    elif kind == "transformer":
        from niaga.reviews.transformer import TransformerTextClassifier as cls
    else:
        raise ValueError(f"unknown model kind {kind!r}; choose one of {', '.join(MODEL_KINDS)}")
    return cls(**params)


def text_errors(values: pd.Series) -> pd.Series:
    """Per row: "" when the cell holds text, else why it cannot be classified."""
    def reason(value) -> str:
        if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
            return "empty text"
        if not isinstance(value, str):
            return f"not text ({type(value).__name__} {value!r})"
        if not value.strip():
            return "empty text"
        return ""
    return values.map(reason).astype(str)


def labels_as_text(values: pd.Series) -> pd.Series:
    """Labels as strings; whole-number floats (star ratings read next to blanks) lose their ".0"."""
    if pd.api.types.is_float_dtype(values) and values.dropna().eq(values.dropna().round()).all():
        values = values.astype("Int64")
    return values.astype("string")


def label_errors(values: pd.Series) -> pd.Series:
    return values.map(lambda v: "missing label" if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))
                      or (isinstance(v, str) and not v.strip()) else "").astype(str)


@dataclass
class LabelledTable:
    """Texts and labels read from a table, with the rows that could not be used and why."""

    texts: list[str]
    labels: list[str]
    skipped: pd.DataFrame = field(default_factory=pd.DataFrame)
    source: str = ""


def read_labelled(path: str | Path, text_col: str, label_col: str) -> LabelledTable:
    frame = read_table(path)
    require_columns(frame, [text_col, label_col], path)
    frame[label_col] = labels_as_text(frame[label_col])
    problems = text_errors(frame[text_col])
    label_problems = label_errors(frame[label_col])
    problems = problems.where(problems != "", label_problems)
    ok = problems == ""
    skipped = frame.loc[~ok, [text_col, label_col]].assign(row=frame.index[~ok] + 2, error=problems[~ok])
    return LabelledTable(texts=frame.loc[ok, text_col].astype(str).tolist(),
                         labels=frame.loc[ok, label_col].astype(str).str.strip().tolist(),
                         skipped=skipped.reset_index(drop=True), source=str(path))


def train(path: str | Path, text_col: str, label_col: str, out: str | Path, kind: str = "tfidf", cv: int | None = None,
          report_dir: str | Path | None = None, log: Callable[[str], None] = print,
          **params) -> tuple[TextClassifier, dict]:
    """Train on a labelled table and save the model to ``out``; returns the model and its metrics.

    ``cv`` folds of cross-validation (grouped by normalized text) estimate quality before the final
    fit; by default 5 for the fast TF-IDF model and none for the slow ones. With ``report_dir`` the
    out-of-fold predictions are written there as an evaluation report.
    """
    table = read_labelled(path, text_col, label_col)
    if len(table.skipped):
        log(f"skipped {len(table.skipped)} row(s) that cannot train: "
            + "; ".join(f"row {r.row}: {r.error}" for r in table.skipped.head(5).itertuples())
            + (" ..." if len(table.skipped) > 5 else ""))
    model = make_model(kind, **params)
    texts, labels = model.check_training_data(table.texts, table.labels)
    metrics: dict = {"training_rows": len(texts), "skipped_rows": int(len(table.skipped))}
    cv = (5 if kind == "tfidf" else 0) if cv is None else cv
    if cv and cv > 1:
        groups = [" ".join(t.lower().split()) for t in texts]
        result = cross_validate(model, texts, labels, n_splits=cv, groups=groups)
        metrics["cv"] = {"n_splits": cv, **{k: v for k, v in result["mean"].items()}}
        if report_dir:
            classes = sorted(set(labels))
            oof = classification_metrics(labels, result["oof_pred"], classes=classes)
            write_classification_report(report_dir, {**oof, "cv_folds": cv}, labels, result["oof_pred"], classes,
                                        title=f"{cv}-fold cross-validation: {Path(path).name} ({label_col})",
                                        context={"data": str(path), "model": kind, "rows": len(texts),
                                                 "grouping": "normalized text (duplicates stay in one fold)"})
        log(f"{cv}-fold CV: macro-F1 {result['mean']['f1_macro']:.4f} ± {result['mean']['f1_macro_std']:.4f}, "
            f"accuracy {result['mean']['accuracy']:.4f}")
    start = time.perf_counter()
    model.fit(texts, labels)
    metrics["fit_seconds"] = round(time.perf_counter() - start, 3)
    save_model(model, out, labels=model.classes_, metrics=metrics, data_sha256=fingerprint(texts, labels),
               data_rows=len(texts), extra={"text_col": text_col, "label_col": label_col, "model_kind": kind,
                                            "training_source": str(path)})
    return model, metrics


def predict_frame(model: TextClassifier, frame: pd.DataFrame, text_col: str, batch_size: int = 4096,
                  progress: bool = False) -> pd.DataFrame:
    """The input columns plus ``label``, ``confidence`` and ``error`` (empty when the row was classified)."""
    errors = text_errors(frame[text_col])
    ok = np.flatnonzero((errors == "").to_numpy())
    labels = np.full(len(frame), "", dtype=object)
    confidence = np.full(len(frame), np.nan)
    texts = frame[text_col].to_numpy()[ok]
    for start in tqdm(range(0, len(ok), batch_size), desc="classifying", disable=not progress or len(ok) <= batch_size):
        proba = model.predict_proba(list(texts[start:start + batch_size]))
        rows = ok[start:start + batch_size]
        labels[rows] = model.classes_[np.argmax(proba, axis=1)]
        confidence[rows] = proba.max(axis=1)
    out = frame.copy()
    out["label"] = labels
    out["confidence"] = np.round(confidence, 6)
    out["error"] = errors.to_numpy()
    return out


def predict_file(model_dir: str | Path, input_path: str | Path, text_col: str, output_path: str | Path,
                 task: str = "reviews") -> pd.DataFrame:
    model = load_model(model_dir, task=task)
    frame = read_table(input_path)
    require_columns(frame, [text_col], input_path)
    result = predict_frame(model, frame, text_col, progress=True)
    write_table(result, output_path)
    return result


def evaluate(model_dir: str | Path, path: str | Path, text_col: str, label_col: str, report_dir: str | Path,
             task: str = "reviews") -> dict:
    """Score a saved model on a labelled table and write the report (metrics.json, confusion matrix, report.md)."""
    model = load_model(model_dir, task=task)
    table = read_labelled(path, text_col, label_col)
    if not table.texts:
        raise DataError(f"{path}: no row with both text in {text_col!r} and a label in {label_col!r}")
    start = time.perf_counter()
    proba = model.predict_proba(table.texts)
    seconds = time.perf_counter() - start
    pred = model.classes_[np.argmax(proba, axis=1)]
    classes = list(model.classes_)
    by_case = {str(c).casefold(): c for c in classes}
    renamed = {label: by_case[label.casefold()] for label in set(table.labels) - set(classes)
               if label.casefold() in by_case}
    if renamed:  # "positive" in the data, "Positive" in the model: the same label
        table.labels = [renamed.get(label, label) for label in table.labels]
    unseen = sorted(set(table.labels) - set(classes))
    metrics = classification_metrics(table.labels, pred, proba, classes=classes)
    metrics["skipped_rows"] = int(len(table.skipped))
    metrics["texts_per_second"] = len(table.texts) / seconds if seconds > 0 else float("inf")
    labels = classes + unseen
    context = {"model": str(model_dir), "data": str(path), "rows evaluated": len(table.texts),
               "rows skipped (no text or label)": int(len(table.skipped))}
    if renamed:
        context["labels matched ignoring case"] = ", ".join(f"{a} → {b}" for a, b in sorted(renamed.items()))
    if unseen:
        context["labels not known to the model"] = ", ".join(unseen)
    write_classification_report(report_dir, metrics, table.labels, pred, labels,
                                title=f"Review classifier evaluation: {Path(path).name}", context=context)
    return metrics
