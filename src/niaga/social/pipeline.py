"""Train, predict and evaluate the post classifiers on tables: what the CLI and the API call.

A model directory holds the transaction classifier and, when the training table had an activity
column, the activity classifier in its ``activity/`` subdirectory, trained on the transaction posts only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from niaga.data.io import note, read_table, require_columns, with_outputs, write_table
from niaga.errors import DataError
from niaga.evaluation.cv import near_duplicate_groups
from niaga.modeling import load_model, write_json
from niaga.social.models import DEFAULT_KIND, make_model
from niaga.text.classify.pipeline import (LabelledTable, bounded_texts, classify_texts, evaluate_texts, fit_and_save,
                                          labelled_rows, labels_as_text, log_skipped, with_overlap)

TASK = "social"
ACTIVITY_DIR = "activity"


def transaction_label(frame: pd.DataFrame, label_col: str, activity_col: str) -> str | None:
    """The label of posts that carry an activity (TRANSACTION in the shared data), or None without activities."""
    if activity_col not in frame.columns:
        return None
    has_activity = frame[activity_col].notna() & frame[activity_col].astype("string").str.strip().ne("")
    labels = labels_as_text(frame.loc[has_activity, label_col]).dropna()
    return str(labels.mode().iloc[0]) if len(labels) else None


def activity_rows(frame: pd.DataFrame, text_col: str, label_col: str, activity_col: str, positive: str,
                  source: str) -> LabelledTable:
    """The posts labelled ``positive`` with their activities (those without one listed as skipped)."""
    is_transaction = labels_as_text(frame[label_col]).astype("string").str.strip().eq(positive).fillna(False)
    return labelled_rows(frame[is_transaction.to_numpy()], text_col, activity_col, source)


def train(path: str | Path, text_col: str, label_col: str, out: str | Path, kind: str = DEFAULT_KIND,
          activity_col: str = "activity", cv: int = 0, report_dir: str | Path | None = None,
          log: Callable[[str], None] = print, **params) -> dict:
    """Train the transaction classifier and, when ``activity_col`` exists, the activity classifier."""
    frame = read_table(path)
    require_columns(frame, [text_col, label_col], path)
    table = labelled_rows(frame, text_col, label_col, str(path))
    log_skipped(table, log)
    positive = transaction_label(frame, label_col, activity_col)
    extra = {"text_col": text_col, "label_col": label_col, "model_kind": kind, "training_source": str(path),
             "transaction_label": positive}
    # Templated posts are near-copies: they stay in one fold so CV does not score texts the model nearly saw.
    model, metrics = fit_and_save(make_model(kind, **params), table.texts, table.labels, out, task=TASK, cv=cv,
                                  report_dir=report_dir, log=log, skipped_rows=len(table.skipped),
                                  groups=near_duplicate_groups(table.texts), extra=extra)
    summary = {"transaction": metrics}
    if positive is not None:
        activities = activity_rows(frame, text_col, label_col, activity_col, positive, str(path))
        log(f"activity classifier: {len(activities.texts)} {positive} posts with an activity")
        _, summary["activity"] = fit_and_save(
            make_model(kind, **params), activities.texts, activities.labels, Path(out) / ACTIVITY_DIR, task=TASK, cv=cv,
            report_dir=Path(report_dir) / ACTIVITY_DIR if report_dir else None, log=log,
            skipped_rows=len(activities.skipped), groups=near_duplicate_groups(activities.texts),
            extra={**extra, "label_col": activity_col})
    summary["classes"] = list(model.classes_)
    return summary


def load_models(model_dir: str | Path):
    """(transaction model, activity model or None)."""
    model = load_model(model_dir, task=TASK)
    activity_dir = Path(model_dir) / ACTIVITY_DIR
    activity = load_model(activity_dir, task=TASK) if activity_dir.is_dir() else None
    return model, activity


def predict_posts(model_dir: str | Path, frame: pd.DataFrame, text_col: str, extract: bool = True) -> pd.DataFrame:
    """Every input column plus label, confidence, activity (empty unless the post is a transaction), the
    extraction columns and error; an input column with one of those names is kept as ``<name>_input``."""
    return label_posts(load_models(model_dir), frame, text_col, extract, progress=True)


def label_posts(models, frame: pd.DataFrame, text_col: str, extract: bool = True,
                progress: bool = False) -> pd.DataFrame:
    """``predict_posts`` with models already loaded (``load_models``): what a server calls per request."""
    from niaga.social.extract import extract_frame

    require_columns(frame, [text_col], "input")
    model, activity_model = models
    texts = frame[text_col].reset_index(drop=True)
    outputs = classify_texts(model, texts, progress=progress)
    texts = bounded_texts(texts)[0]
    activity = np.full(len(frame), "", dtype=object)
    positive = model.metadata_.get("transaction_label")
    if activity_model is not None and positive is not None:
        rows = np.flatnonzero((outputs["label"] == positive).to_numpy())
        if len(rows):
            activity[rows] = activity_model.predict(texts.iloc[rows].astype(str).tolist())
    errors, warnings = outputs.pop("error"), outputs.pop("warning")
    outputs["activity"] = activity
    if extract:
        extracted = extract_frame(pd.DataFrame({"text": texts}), "text").drop(columns=["text", "error"],
                                                                                errors="ignore")
        outputs = pd.concat([outputs, extracted.set_axis(outputs.index)], axis=1)
    outputs["error"], outputs["warning"] = errors, warnings
    return with_outputs(frame, outputs)


def predict_file(model_dir: str | Path, input_path: str | Path, text_col: str, output_path: str | Path) -> pd.DataFrame:
    frame = read_table(input_path)
    require_columns(frame, [text_col], input_path)
    result = predict_posts(model_dir, frame, text_col)
    write_table(result, output_path)
    return result


def evaluate(model_dir: str | Path, path: str | Path, text_col: str, label_col: str, report_dir: str | Path,
             activity_col: str = "activity", log: Callable[[str], None] = note) -> dict:
    """Transaction metrics (top level of metrics.json, the shared key names) and, when the table has
    activities, the activity classifier's metrics on the transaction posts (under ``activity``)."""
    model, activity_model = load_models(model_dir)
    frame = read_table(path)
    require_columns(frame, [text_col, label_col], path)
    table = labelled_rows(frame, text_col, label_col, str(path))
    if not table.texts:
        raise DataError(f"{path}: no row with both text in {text_col!r} and a label in {label_col!r}")
    report = Path(report_dir)
    context = {"model": str(model_dir), "data": str(path), "rows evaluated": len(table.texts),
               "rows skipped (no text or label)": len(table.skipped)}
    metrics = evaluate_texts(model, table.texts, table.labels, report,
                             title=f"Transaction classifier: {Path(path).name}",
                             context=with_overlap(context, model_dir, table.texts, log), skipped_rows=len(table.skipped))
    positive = model.metadata_.get("transaction_label")
    if activity_model is not None and activity_col in frame.columns and positive is not None:
        activities = activity_rows(frame, text_col, label_col, activity_col, positive, str(path))
        if activities.texts:
            metrics["activity"] = evaluate_texts(
                activity_model, activities.texts, activities.labels, report / ACTIVITY_DIR,
                title=f"Activity classifier ({positive} posts): {Path(path).name}",
                context={"model": str(Path(model_dir) / ACTIVITY_DIR), "rows evaluated": len(activities.texts)},
                skipped_rows=len(activities.skipped))
    write_json(metrics, report / "metrics.json")
    return metrics
