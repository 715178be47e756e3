"""The one model contract every niaga model follows, and how models are saved and loaded.

Every model is a scikit-learn estimator (``fit`` returns self, ``predict``, ``predict_proba``,
``get_params``; ``__init__`` only stores parameters; learned state ends in ``_``), so
cross-validation, grid search and pipelines work on all of them.

A saved model is a directory holding ``model.json`` (the metadata below) and the model's artifacts,
all in formats that cannot run code when read: the estimator through skops (``model.skops``; only
niaga's own classes and the scikit-learn / numpy / scipy / LightGBM types they hold are trusted),
PyTorch weights as safetensors, LightGBM boosters as their text model, settings and vocabularies as
JSON. ``model.json`` records the sha256 of every artifact; loading checks the format, version, task
and every hash before it reads an artifact, so a foreign, incompatible or altered directory fails
with one clear line. A model keeps an attribute out of ``model.skops`` by naming it in
``external_state`` and writing it in its own ``save_artifacts`` / ``load_artifacts``.

Models saved by niaga 0.x before format 2 are joblib pickles: a pickle can run any code when it is
loaded, so ``load_model`` refuses them unless the user trusts them (``trust_pickle=True``, the CLI's
``--trust-pickle`` or ``NIAGA_TRUST_PICKLE=1``).
"""

from __future__ import annotations

import copy
import datetime as _dt
import hashlib
import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from niaga import __version__
from niaga.errors import ModelLoadError

MODEL_FORMAT = "niaga-model"
FORMAT_VERSION = 2
METADATA_FILE = "model.json"
SKOPS_FILE = "model.skops"
TRAINING_ROWS_FILE = "training_rows.npy"
TRUST_PICKLE_ENV = "NIAGA_TRUST_PICKLE"
PICKLE_SUFFIXES = (".joblib", ".pkl", ".pickle")
#: Modules whose types a niaga model may hold in model.skops. skops refuses any other type.
TRUSTED_MODULES = ("niaga.", "sklearn.", "numpy.", "scipy.", "lightgbm.", "imblearn.")
TRUSTED_TYPES = frozenset({"builtins.frozenset", "builtins.set", "builtins.slice", "collections.OrderedDict",
                           "collections.Counter", "collections.defaultdict"})


class CompactState:
    """Mixin: large fitted dicts and sets of strings become numpy arrays in the saved state.

    skops writes a numpy array as one block but a dict or set entry by entry: a TF-IDF model's
    vocabularies took it 50 s and 76 MB that way, against 1 s as arrays. ``compact_state`` names the
    attributes; ``transient_state`` names caches that are rebuilt on use and never saved.
    """

    compact_state: tuple[str, ...] = ()
    transient_state: tuple[str, ...] = ()

    def __getstate__(self):
        state = dict(super().__getstate__())
        for name in self.transient_state:
            state.pop(name, None)
        for name in self.compact_state:
            value = state.get(name)
            if isinstance(value, dict):
                state[name] = {"__compact__": "dict", "keys": np.array(list(value.keys()), dtype=str),
                               "values": np.array(list(value.values()))}
            elif isinstance(value, (set, frozenset)):
                state[name] = {"__compact__": "set", "members": np.array(sorted(value), dtype=str)}
        return state

    def __setstate__(self, state):
        state = dict(state)
        for name in self.compact_state:
            value = state.get(name)
            if isinstance(value, dict) and value.get("__compact__") == "dict":
                state[name] = dict(zip(value["keys"].tolist(), value["values"].tolist()))
            elif isinstance(value, dict) and value.get("__compact__") == "set":
                state[name] = frozenset(value["members"].tolist())
        super().__setstate__(state)


class NiagaModel(CompactState):
    """Mixin for niaga estimators: how a model writes and reads its artifacts."""

    #: capability the model belongs to ("reviews", "fraud", ...); checked on load.
    task: str = "generic"
    #: fitted attributes written by the model's own save_artifacts, not into model.skops (a torch network).
    external_state: tuple[str, ...] = ()

    def __getattr__(self, name: str):
        """A learned attribute (``name_``) asked for before ``fit``: scikit-learn's NotFittedError (an
        AttributeError, so ``hasattr`` and ``getattr(..., default)`` behave as before), the same for every model
        whichever of its methods is called first."""
        if name.endswith("_") and not name.startswith("__"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError(f"this {type(self).__name__} is not fitted yet (no {name}): call fit first, "
                                 "or load a trained model")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def save_artifacts(self, directory: Path) -> None:
        shallow = copy.copy(self)
        for name in self.external_state:
            shallow.__dict__.pop(name, None)
        dump_skops(shallow, Path(directory) / SKOPS_FILE)

    @classmethod
    def load_artifacts(cls, directory: Path, metadata: dict) -> "NiagaModel":
        model = load_skops(Path(directory) / SKOPS_FILE)
        if not isinstance(model, cls):
            raise ModelLoadError(f"{directory}/{SKOPS_FILE}: holds a {type(model).__name__}, "
                                 f"model.json says {cls.__name__}")
        return model


# -- artifact formats --------------------------------------------------------------------------------

def _trusted(type_name: str) -> bool:
    return type_name in TRUSTED_TYPES or type_name.startswith(TRUSTED_MODULES)


def _skops_io():
    """``skops.io``, imported without building its default trusted list. Building it calls scikit-learn's
    ``all_estimators()``, which imports every estimator module: seconds on every command that loads a model.
    niaga never relies on that list: ``load_skops`` checks every type against its own list and passes them."""
    if "skops.io" not in sys.modules:
        import sklearn.utils

        all_estimators = sklearn.utils.all_estimators
        sklearn.utils.all_estimators = lambda *args, **kwargs: []
        try:
            import skops.io  # noqa: F401
        finally:
            sklearn.utils.all_estimators = all_estimators
    return sys.modules["skops.io"]


def dump_skops(obj: Any, path: Path) -> None:
    import zipfile

    sio = _skops_io()

    # deflate level 3, as the joblib files were: a TF-IDF model's arrays shrink about tenfold
    sio.dump(obj, path, compression=zipfile.ZIP_DEFLATED, compresslevel=3)


def load_skops(path: Path) -> Any:
    """An object from a skops file, refusing any type outside niaga's trusted list."""
    sio = _skops_io()

    if not path.exists():
        raise ModelLoadError(f"{path.parent}: model.json is there but {path.name} is missing")
    types = sio.get_untrusted_types(file=path)
    refused = sorted(t for t in types if not _trusted(t))
    if refused:
        raise ModelLoadError(f"{path}: holds types niaga does not trust: {', '.join(refused)}")
    return sio.load(path, trusted=types)


def save_torch_weights(module, path: Path, config: dict | None = None) -> None:
    """A torch module's weights as safetensors (tensors only: nothing in the file can run code)."""
    from safetensors.torch import save_file

    tensors = {name: t.detach().cpu().contiguous() for name, t in module.state_dict().items()}
    save_file(tensors, str(path), metadata={"config": json.dumps(json_safe(config or {}))})


def load_torch_weights(module, path: Path):
    """Load safetensors weights into ``module`` (strict: every tensor must match) and return it."""
    from safetensors.torch import load_file

    if not path.exists():
        raise ModelLoadError(f"{path.parent}: model.json is there but {path.name} is missing")
    module.load_state_dict(load_file(str(path)), strict=True)
    return module


def write_json(value: Any, path: Path) -> None:
    path.write_text(json.dumps(json_safe(value), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def read_json(path: Path) -> Any:
    if not path.exists():
        raise ModelLoadError(f"{path.parent}: model.json is there but {path.name} is missing")
    return json.loads(path.read_text(encoding="utf-8"))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


#: a nested directory holding one of these describes and checks itself (a model; a search index, which is rebuilt
#: where the model is installed): it is not one of the enclosing model's artifacts
SELF_DESCRIBED = (METADATA_FILE, "index.json")


def _self_described(path: Path) -> bool:
    return path.is_dir() and any((path / name).exists() for name in SELF_DESCRIBED)


def artifact_files(directory: Path) -> list[Path]:
    """The model's files: everything under ``directory`` but model.json and nested self-described directories."""
    files = []
    for path in sorted(directory.iterdir()):
        if path.is_dir():
            if not _self_described(path):
                files += artifact_files(path)
        elif path.name != METADATA_FILE:
            files.append(path)
    return files


# -- metadata -----------------------------------------------------------------------------------------

def fingerprint(*columns: Iterable) -> str:
    """sha256 of the training data (texts, labels, feature rows ...), independent of the file it came from."""
    digest = hashlib.sha256()
    for column in columns:
        values = pd.Series(list(column) if not isinstance(column, pd.Series) else column)
        hashed = pd.util.hash_pandas_object(values.astype("string").fillna("\x00<NA>"), index=False)
        digest.update(np.ascontiguousarray(hashed.to_numpy()).tobytes())
    return digest.hexdigest()


def row_hashes(*columns: Iterable) -> np.ndarray:
    """One 64-bit hash per row of the given columns (texts, ids ...), to tell later which rows a model saw."""
    frame = pd.DataFrame({i: pd.Series(list(c)).astype("string").fillna("\x00<NA>") for i, c in enumerate(columns)})
    return pd.util.hash_pandas_object(frame, index=False).to_numpy(dtype=np.uint64)


def training_overlap(directory: str | Path, *columns: Iterable) -> dict:
    """How many of these rows (hashed like the training rows) the model in ``directory`` was trained on
    (no ``in_training`` when the model kept no row hashes)."""
    directory = Path(directory)
    hashes = row_hashes(*columns)
    out = {"rows": int(len(hashes))}
    path = directory / TRAINING_ROWS_FILE
    if path.exists():
        seen = np.load(path, allow_pickle=False)
        out["in_training"] = int(np.isin(hashes, seen).sum())
    return out


def overlap_note(overlap: dict) -> str:
    """A sentence for the user and the report when evaluation rows were training rows ("" when none were)."""
    n, seen = overlap.get("rows", 0), overlap.get("in_training", 0)
    if not seen:
        return ""
    return (f"{seen:,} of {n:,} evaluation rows ({seen / max(n, 1):.0%}) were in the model's training data: "
            "these figures overstate quality on new data")


def json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_safe(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


def save_model(model: NiagaModel, directory: str | Path, *, labels: Iterable = (), metrics: dict | None = None,
               data_sha256: str | None = None, data_rows: int | None = None, extra: dict | None = None,
               task: str | None = None, training_rows: np.ndarray | None = None) -> Path:
    """Write ``model`` and its ``model.json`` into ``directory`` (created if needed).

    ``task``: the capability the model serves (default: the model's own ``task``), checked on load; a
    shared text classifier is saved as a "reviews" or a "social" model. ``training_rows``: ``row_hashes`` of
    the training rows, kept so that an evaluation can say which of its rows the model saw.
    """
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise ModelLoadError(f"{directory}: exists and is not a directory")
    directory.mkdir(parents=True, exist_ok=True)
    for stale in [p for p in directory.iterdir() if p.is_file() and p.suffix in PICKLE_SUFFIXES]:
        stale.unlink()  # an older save of this model: it would be refused on load anyway
    model.save_artifacts(directory)
    if training_rows is not None:
        np.save(directory / TRAINING_ROWS_FILE, np.unique(np.asarray(training_rows, dtype=np.uint64)),
                allow_pickle=False)
    cls = type(model)
    metadata = {
        "format": MODEL_FORMAT,
        "format_version": FORMAT_VERSION,
        "niaga_version": __version__,
        "task": task or model.task,
        "class": f"{cls.__module__}.{cls.__qualname__}",
        "labels": [str(label) for label in labels],
        "params": json_safe(model.get_params(deep=False)),
        "metrics": json_safe(metrics or {}),
        "training_data": {"sha256": data_sha256, "rows": data_rows},
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "artifacts": {p.relative_to(directory).as_posix(): sha256_file(p) for p in artifact_files(directory)},
        **json_safe(extra or {}),
    }
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


def trust_pickle_default() -> bool:
    return os.environ.get(TRUST_PICKLE_ENV, "").strip().lower() in ("1", "true", "yes")


def check_artifacts(directory: Path, metadata: dict) -> None:
    """Every artifact model.json lists is there with its recorded sha256; nothing unlisted is a pickle."""
    listed = metadata.get("artifacts")
    if not isinstance(listed, dict) or not listed:
        raise ModelLoadError(f"{directory}: {METADATA_FILE} lists no artifacts with their sha256")
    for name, expected in listed.items():
        path = directory / name
        if len(Path(name).parts) > 1 and _self_described(directory / Path(name).parts[0]):
            continue  # listed by a model saved before the directory described itself: its own loader checks it
        if ".." in Path(name).parts or not path.is_file():
            raise ModelLoadError(f"{directory}: artifact {name} is missing")
        if sha256_file(path) != expected:
            raise ModelLoadError(f"{directory}: artifact {name} was changed after the model was saved "
                                 "(its sha256 differs from model.json)")


def _load_pickled(directory: Path, cls: type, trust_pickle: bool):
    """Format 1: the whole model as a joblib pickle, loaded only when the user trusts it."""
    path = directory / "model.joblib"
    if not trust_pickle:
        raise ModelLoadError(f"{directory}: an older niaga model stored as a pickle, which can run code when "
                             f"loaded; retrain it, or load it with --trust-pickle ({TRUST_PICKLE_ENV}=1) "
                             "if you made it yourself")
    if not path.exists():
        raise ModelLoadError(f"{directory}: model.json is there but model.joblib is missing")
    import joblib

    model = joblib.load(path)
    if not isinstance(model, cls):
        raise ModelLoadError(f"{path}: holds a {type(model).__name__}, model.json says {cls.__name__}")
    return model


def load_model(directory: str | Path, task: str | None = None, trust_pickle: bool | None = None) -> Any:
    """Load a saved model; ``task`` (e.g. "reviews") rejects a model of another capability.

    ``trust_pickle``: allow a pickled model of an older niaga (default: ``NIAGA_TRUST_PICKLE``).
    """
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
        raise ModelLoadError(f"{directory}: model class {class_path!r} does not exist in niaga {__version__}; "
                             "retrain the model with this version") from exc
    trust = trust_pickle_default() if trust_pickle is None else trust_pickle
    try:
        if metadata["format_version"] < 2:
            model = _load_pickled(directory, cls, trust)
        else:
            check_artifacts(directory, metadata)
            model = cls.load_artifacts(directory, metadata)
    except ModelLoadError:
        raise
    except Exception as exc:  # a corrupt or version-mismatched artifact
        raise ModelLoadError(f"{directory}: artifacts cannot be loaded ({type(exc).__name__}: {exc})") from exc
    model.metadata_ = metadata
    return model
