"""The one model contract every niaga model follows, and how models are saved and loaded.

Every model is a scikit-learn estimator (``fit`` returns self, ``predict``, ``predict_proba``,
``get_params``; ``__init__`` only stores parameters; learned state ends in ``_``), so
cross-validation, grid search and pipelines work on all of them.

A saved model is a directory holding ``model.json`` (the metadata below) and the model's own
artifacts. By default the artifacts are one ``model.joblib``; a model that needs another format
(a Hugging Face checkpoint) overrides ``save_artifacts`` / ``load_artifacts``. Loading checks the
format, the format version and the task before it touches any artifact, so a foreign or
incompatible directory fails with a clear message. Artifacts are pickles: load only models you trust.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import importlib
import json
from pathlib import Path
from typing import Any, Iterable

import joblib
import numpy as np
import pandas as pd

from niaga import __version__
from niaga.errors import ModelLoadError

MODEL_FORMAT = "niaga-model"
FORMAT_VERSION = 1
METADATA_FILE = "model.json"


class NiagaModel:
    """Mixin for niaga estimators: how a model writes and reads its artifacts."""

    #: capability the model belongs to ("reviews", "fraud", ...); checked on load.
    task: str = "generic"

    def save_artifacts(self, directory: Path) -> None:
        joblib.dump(self, directory / "model.joblib", compress=3)

    @classmethod
    def load_artifacts(cls, directory: Path, metadata: dict) -> "NiagaModel":
        path = directory / "model.joblib"
        if not path.exists():
            raise ModelLoadError(f"{directory}: model.json is there but model.joblib is missing")
        model = joblib.load(path)
        if not isinstance(model, cls):
            raise ModelLoadError(f"{path}: holds a {type(model).__name__}, model.json says {cls.__name__}")
        return model


def fingerprint(*columns: Iterable) -> str:
    """sha256 of the training data (texts, labels, feature rows ...), independent of the file it came from."""
    digest = hashlib.sha256()
    for column in columns:
        values = pd.Series(list(column) if not isinstance(column, pd.Series) else column)
        hashed = pd.util.hash_pandas_object(values.astype("string").fillna("\x00<NA>"), index=False)
        digest.update(np.ascontiguousarray(hashed.to_numpy()).tobytes())
    return digest.hexdigest()


def json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_safe(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


def save_model(model: NiagaModel, directory: str | Path, *, labels: Iterable = (), metrics: dict | None = None,
               data_sha256: str | None = None, data_rows: int | None = None, extra: dict | None = None) -> Path:
    """Write ``model`` and its ``model.json`` into ``directory`` (created if needed)."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise ModelLoadError(f"{directory}: exists and is not a directory")
    directory.mkdir(parents=True, exist_ok=True)
    cls = type(model)
    metadata = {
        "format": MODEL_FORMAT,
        "format_version": FORMAT_VERSION,
        "niaga_version": __version__,
        "task": model.task,
        "class": f"{cls.__module__}.{cls.__qualname__}",
        "labels": [str(label) for label in labels],
        "params": json_safe(model.get_params(deep=False)),
        "metrics": json_safe(metrics or {}),
        "training_data": {"sha256": data_sha256, "rows": data_rows},
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        **json_safe(extra or {}),
    }
    model.save_artifacts(directory)
    (directory / METADATA_FILE).write_text(json.dumps(metadata, indent=2, ensure_ascii=False), encoding="utf-8")
    return directory


def read_metadata(directory: str | Path) -> dict:
    directory = Path(directory)
    if not directory.is_dir():
        raise ModelLoadError(f"{directory}: not a model directory (no such directory)")
    path = directory / METADATA_FILE
    if not path.exists():
        raise ModelLoadError(f"{directory}: not a niaga model (no {METADATA_FILE})")
    try:
        metadata = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelLoadError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(metadata, dict) or metadata.get("format") != MODEL_FORMAT:
        raise ModelLoadError(f"{directory}: not a niaga model ({METADATA_FILE} has no format '{MODEL_FORMAT}')")
    version = metadata.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelLoadError(f"{directory}: saved in model format {version} by niaga "
                             f"{metadata.get('niaga_version')}; this niaga {__version__} reads format "
                             f"{FORMAT_VERSION} or older: upgrade niaga or retrain")
    return metadata


def load_model(directory: str | Path, task: str | None = None) -> Any:
    """Load a saved model; ``task`` (e.g. "reviews") rejects a model of another capability."""
    directory = Path(directory)
    metadata = read_metadata(directory)
    if task is not None and metadata.get("task") != task:
        raise ModelLoadError(f"{directory}: is a '{metadata.get('task')}' model, expected a '{task}' model")
    class_path = str(metadata.get("class", ""))
    module_name, _, class_name = class_path.rpartition(".")
    if not module_name.startswith("niaga."):
        raise ModelLoadError(f"{directory}: model class {class_path!r} is not a niaga class")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise ModelLoadError(f"{directory}: model class {class_path!r} does not exist in niaga {__version__}") from exc
    try:
        model = cls.load_artifacts(directory, metadata)
    except ModelLoadError:
        raise
    except Exception as exc:  # a corrupt or version-mismatched artifact
        raise ModelLoadError(f"{directory}: artifacts cannot be loaded ({type(exc).__name__}: {exc})") from exc
    model.metadata_ = metadata
    return model
