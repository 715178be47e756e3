"""Review emotion and sentiment: the shared text classifiers (``niaga.text.classify``) trained, applied and
evaluated as "reviews" models. What the CLI and the API call."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pandas as pd

from niaga.text.classify import pipeline as shared
from niaga.text.classify.base import TextClassifier
from niaga.text.classify.pipeline import MODEL_KINDS, make_model  # noqa: F401  (the kinds a review model may be)

TASK = "reviews"


def train(path: str | Path, text_col: str, label_col: str, out: str | Path, kind: str = "tfidf", cv: int | None = None,
          report_dir: str | Path | None = None, log: Callable[[str], None] = print,
          **params) -> tuple[TextClassifier, dict]:
    """Train a review classifier on a labelled table and save it to ``out``."""
    return shared.train(path, text_col, label_col, out, task=TASK, kind=kind, cv=cv, report_dir=report_dir, log=log,
                        **params)


def predict_file(model_dir: str | Path, input_path: str | Path, text_col: str,
                 output_path: str | Path) -> pd.DataFrame:
    """The input table with ``label``, ``confidence`` and ``error`` added, written to ``output_path``."""
    return shared.predict_file(model_dir, input_path, text_col, output_path, task=TASK)


def evaluate(model_dir: str | Path, path: str | Path, text_col: str, label_col: str, report_dir: str | Path) -> dict:
    """Metrics of a saved review model on a labelled table, written as a report."""
    return shared.evaluate(model_dir, path, text_col, label_col, report_dir, task=TASK)
