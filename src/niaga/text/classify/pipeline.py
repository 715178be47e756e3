"""Train, predict and evaluate text classifiers on tables: what the reviews and social capabilities, their
CLIs and the API call. ``task`` names the capability a model is saved for and checked against on load.

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

from niaga.data.io import note, read_table, require_columns, with_outputs, write_table
from niaga.errors import DataError
from niaga.evaluation import classification_metrics, cross_validate, write_classification_report
from niaga.modeling import fingerprint, load_model, overlap_note, row_hashes, save_model, training_overlap
from niaga.text.classify import MODEL_KINDS
from niaga.text.classify.base import TextClassifier

#: the longest text classified or normalized as it is; longer ones are cut, with a note in their row
MAX_TEXT_CHARS = 20_000


def make_model(kind: str = "tfidf", **params) -> TextClassifier:
    """A fresh, unfitted text classifier of the named kind (heavy libraries imported only when asked)."""
    if kind == "tfidf":
        from niaga.text.classify.tfidf import TfidfTextClassifier as cls
    elif kind == "neural":
        from niaga.text.classify.neural import NeuralTextClassifier as cls
    elif kind == "transformer":
        from niaga.text.classify.transformer import TransformerTextClassifier as cls
    else:
        raise ValueError(f"unknown model kind {kind!r}; choose one of {', '.join(MODEL_KINDS)}")
    return cls(**params)


def text_errors(values: pd.Series) -> pd.Series:
    """Per row: "" when the cell holds text, else why it cannot be classified."""
    def reason(value) -> str:
        if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
            return "empty text"
        if not isinstance(value, str):
            return f"not text ({type(value).__name__} {str(value)[:40]!r})"
        if not value.strip():
            return "empty text"
        return ""
    return values.map(reason).astype(str)


def bounded_texts(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Texts cut to ``MAX_TEXT_CHARS`` (a pasted log or a whole book in one cell would take minutes and
    write a cell as long), and per row the note that says so ("" for texts within the bound)."""
    lengths = values.map(lambda v: len(v) if isinstance(v, str) else 0)
    long = lengths > MAX_TEXT_CHARS
    if not long.any():
        return values, pd.Series("", index=values.index, dtype=object)
    notes = pd.Series("", index=values.index, dtype=object)
    notes[long] = [f"text cut to its first {MAX_TEXT_CHARS:,} of {n:,} characters" for n in lengths[long]]
    return values.where(~long, values[long].str.slice(0, MAX_TEXT_CHARS)), notes


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
    return labelled_rows(frame, text_col, label_col, str(path))


def labelled_rows(frame: pd.DataFrame, text_col: str, label_col: str, source: str = "") -> LabelledTable:
    """The rows with both a text and a label; the others listed with their file row number and the reason."""
    labels = labels_as_text(frame[label_col])
    problems = text_errors(frame[text_col])
    problems = problems.where(problems != "", label_errors(labels))
    ok = (problems == "").to_numpy()
    skipped = frame.loc[~ok, [text_col, label_col]].assign(row=frame.index[~ok] + 2, error=problems[~ok])
    return LabelledTable(texts=frame.loc[ok, text_col].astype(str).tolist(),
                         labels=labels[ok].astype(str).str.strip().tolist(),
                         skipped=skipped.reset_index(drop=True), source=source)


def log_skipped(table: LabelledTable, log: Callable[[str], None]) -> None:
    if len(table.skipped):
        log(f"skipped {len(table.skipped)} row(s) that cannot train: "
            + "; ".join(f"row {r.row}: {r.error}" for r in table.skipped.head(5).itertuples())
            + (" ..." if len(table.skipped) > 5 else ""))


def train(path: str | Path, text_col: str, label_col: str, out: str | Path, task: str, kind: str = "tfidf",
          cv: int | None = None, report_dir: str | Path | None = None, log: Callable[[str], None] = print,
          **params) -> tuple[TextClassifier, dict]:
    """Train on a labelled table and save the model to ``out`` as a ``task`` model; returns it and its metrics.

    ``cv`` folds of cross-validation (grouped by normalized text) estimate quality before the final
    fit; by default 5 for the fast TF-IDF model and none for the slow ones. With ``report_dir`` the
    out-of-fold predictions are written there as an evaluation report.
    """
    table = read_labelled(path, text_col, label_col)
    log_skipped(table, log)
    cv = (5 if kind == "tfidf" else 0) if cv is None else cv
    model = make_model(kind, **params)
    return fit_and_save(model, table.texts, table.labels, out, task=task, cv=cv, report_dir=report_dir, log=log,
                        skipped_rows=len(table.skipped),
                        extra={"text_col": text_col, "label_col": label_col, "model_kind": kind,
                               "training_source": str(path)})


def fit_and_save(model: TextClassifier, texts: list[str], labels: list[str], out: str | Path, *, task: str,
                 cv: int = 0, report_dir: str | Path | None = None, log: Callable[[str], None] = print,
                 skipped_rows: int = 0, groups=None, extra: dict | None = None) -> tuple[TextClassifier, dict]:
    """Cross-validate (optional), fit on all texts and save with metadata; returns the model and its metrics.

    ``groups`` keeps related texts in one fold (default: identical normalized texts).
    """
    texts, labels = model.check_training_data(texts, labels)
    metrics: dict = {"training_rows": len(texts), "skipped_rows": int(skipped_rows)}
    if cv and cv > 1:
        groups = [" ".join(t.lower().split()) for t in texts] if groups is None else groups
        result = cross_validate(model, texts, labels, n_splits=cv, groups=groups)
        metrics["cv"] = {"n_splits": cv, **{k: v for k, v in result["mean"].items()}}
        if report_dir:
            classes = sorted(set(labels))
            oof = classification_metrics(labels, result["oof_pred"], classes=classes)
            write_classification_report(report_dir, {**oof, "cv_folds": cv}, labels, result["oof_pred"], classes,
                                        title=f"{cv}-fold cross-validation: "
                                              f"{Path(str((extra or {}).get('training_source', ''))).name}",
                                        context={**(extra or {}), "rows": len(texts),
                                                 "grouping": "related texts stay in one fold"})
        log(f"{cv}-fold CV: macro-F1 {result['mean']['f1_macro']:.4f} ± {result['mean']['f1_macro_std']:.4f}, "
            f"accuracy {result['mean']['accuracy']:.4f}")
    start = time.perf_counter()
    model.fit(texts, labels)
    metrics["fit_seconds"] = round(time.perf_counter() - start, 3)
    save_model(model, out, labels=model.classes_, metrics=metrics, data_sha256=fingerprint(texts, labels),
               data_rows=len(texts), extra=extra, task=task, training_rows=row_hashes(texts))
    return model, metrics


def classify_texts(model: TextClassifier, texts: pd.Series, batch_size: int = 4096,
                   progress: bool = False) -> pd.DataFrame:
    """One row per text: ``label``, ``confidence``, ``error`` (why a text was not classified: a row with an
    error has no result, a classified row none) and ``warning`` (a note on a classified text, such as a text cut
    to ``MAX_TEXT_CHARS``)."""
    errors = text_errors(texts)
    texts, notes = bounded_texts(texts)
    ok = np.flatnonzero((errors == "").to_numpy())
    labels = np.full(len(texts), "", dtype=object)
    confidence = np.full(len(texts), np.nan)
    values = texts.to_numpy()[ok]
    for start in tqdm(range(0, len(ok), batch_size), desc="classifying", disable=not progress or len(ok) <= batch_size):
        rows = ok[start:start + batch_size]
        labels[rows], confidence[rows] = model.predict_with_confidence(list(values[start:start + batch_size]))
    return pd.DataFrame({"label": labels, "confidence": np.round(confidence, 6),
                         "error": errors.to_numpy(), "warning": notes.where(errors == "", "").to_numpy()},
                        index=texts.index)


def predict_frame(model: TextClassifier, frame: pd.DataFrame, text_col: str, batch_size: int = 4096,
                  progress: bool = False) -> pd.DataFrame:
    """Every input column plus ``label``, ``confidence``, ``error`` and ``warning`` (an input column of one of
    those names is kept as ``<name>_input``)."""
    return with_outputs(frame, classify_texts(model, frame[text_col], batch_size, progress))


def predict_file(model_dir: str | Path, input_path: str | Path, text_col: str, output_path: str | Path,
                 task: str) -> pd.DataFrame:
    model = load_model(model_dir, task=task)
    frame = read_table(input_path)
    require_columns(frame, [text_col], input_path)
    result = predict_frame(model, frame, text_col, progress=True)
    write_table(result, output_path)
    return result


def evaluate(model_dir: str | Path, path: str | Path, text_col: str, label_col: str, report_dir: str | Path,
             task: str, log: Callable[[str], None] = note) -> dict:
    """Score a saved model on a labelled table and write the report (metrics.json, confusion matrix, report.md)."""
    model = load_model(model_dir, task=task)
    table = read_labelled(path, text_col, label_col)
    if not table.texts:
        raise DataError(f"{path}: no row with both text in {text_col!r} and a label in {label_col!r}")
    context = {"model": str(model_dir), "data": str(path), "rows evaluated": len(table.texts),
               "rows skipped (no text or label)": int(len(table.skipped))}
    return evaluate_texts(model, table.texts, table.labels, report_dir, title=f"Evaluation: {Path(path).name}",
                          context=with_overlap(context, model_dir, table.texts, log), skipped_rows=len(table.skipped))


def with_overlap(context: dict, model_dir: str | Path, texts: list[str], log: Callable[[str], None]) -> dict:
    """The report context, plus a warning (also logged) when evaluation texts were training texts."""
    warning = overlap_note(training_overlap(model_dir, texts))
    if warning:
        log(warning)
        return {**context, "WARNING": warning}
    return context


def evaluate_texts(model: TextClassifier, texts: list[str], labels: list[str], report_dir: str | Path, title: str,
                   context: dict, skipped_rows: int = 0) -> dict:
    """Metrics of a fitted model on labelled texts, written as a report; labels that differ only in case match."""
    classes = list(model.classes_)
    by_case = {str(c).casefold(): c for c in classes}
    renamed = {label: by_case[label.casefold()] for label in set(labels) - set(classes)
               if label.casefold() in by_case}
    if renamed:  # "positive" in the data, "Positive" in the model: the same label
        labels = [renamed.get(label, label) for label in labels]
    unseen = sorted(set(labels) - set(classes))
    if not set(labels) & set(classes):
        raise DataError(f"the data's labels {sorted(set(labels))[:10]} share nothing with the model's classes "
                        f"{classes}: is this the right label column or the right model?")
    start = time.perf_counter()
    pred, proba = model.predict_and_proba(texts)
    seconds = time.perf_counter() - start
    metrics = classification_metrics(labels, pred, proba, classes=classes)
    metrics["skipped_rows"] = int(skipped_rows)
    metrics["texts_per_second"] = len(texts) / seconds if seconds > 0 else float("inf")
    context = dict(context)
    if renamed:
        context["labels matched ignoring case"] = ", ".join(f"{a} → {b}" for a, b in sorted(renamed.items()))
    if unseen:
        context["labels not known to the model"] = ", ".join(unseen)
    write_classification_report(report_dir, metrics, labels, pred, classes + unseen, title=title, context=context)
    return metrics
