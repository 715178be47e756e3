"""The functions the CLI calls (and an API will): train, evaluate, one user's list, a batch, "together".

Each takes plain values (paths, ids, a frame) and returns plain values, so a server can call the same ones
with a model it loaded once.

Models (``--model``), each a :class:`~niaga.recommend.blender.Blender` of sources:

- ``popularity``: popular items (recent when the data has dates; per segment with ``segments=``).
- ``repeat``: the customer's own past items, then popular ones (Online Retail's classic baseline).
- ``cooccurrence``: items bought together with (or right after) the user's items, then popular ones.
- ``als``: implicit's ALS, then popular ones.
- ``content``: items similar in attributes and name to the user's items.
- ``sasrec``: the SASRec transformer, blended with "bought next" co-occurrence, content similarity and ALS,
  weights tuned on the validation item (default for sequences).
- ``basket``: buy-again + co-occurrence + ALS + popular, weights tuned on the validation basket (default for
  invoices and baskets).
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np
import pandas as pd

from niaga.data.columns import ids_as_text, match_columns
from niaga.data.io import with_outputs
from niaga.errors import DataError, ModelLoadError, NiagaError
from niaga.recommend import MODELS
from niaga.recommend.als import ALSRecommender
from niaga.recommend.blender import Blender, Served
from niaga.recommend.content import ContentRecommender
from niaga.recommend.cooccurrence import CooccurrenceRecommender
from niaga.recommend.data import Interactions, read_interactions, read_segments
from niaga.recommend.evaluate import PROTOCOLS, evaluate_scores, split, write_report
from niaga.recommend.popularity import PopularityRecommender
from niaga.recommend.repeat import RepeatRecommender

TASK = "recommend"
DEFAULT_MODEL = {"sequences": "sasrec", "invoices": "basket", "baskets": "basket"}
DEFAULT_HOLDOUT = {"sequences": "leave-one-out", "invoices": "last-invoice", "baskets": "last-invoice"}
FILL = 0.01  # weight of popularity behind a main source: it only orders what the main source leaves at zero


def _cooccurrence(fmt: str) -> CooccurrenceRecommender:
    if fmt == "sequences":  # what follows the last items: P(next | item) within 10 steps, the last item first
        return CooccurrenceRecommender(unit="sequence", window=10, measure="confidence", half_life=1.0)
    return CooccurrenceRecommender()


def make_model(name: str, fmt: str) -> Blender:
    """The blend behind ``--model name`` for data of format ``fmt``."""
    popular = ("popularity", PopularityRecommender(mode="recent"))
    if name == "popularity":
        return Blender([popular])
    if name == "repeat":
        return Blender([("repeat", RepeatRecommender(half_life=None)), popular], weights={"popularity": FILL},
                       exclude="none")
    if name == "cooccurrence":
        return Blender([("cooccurrence", _cooccurrence(fmt)), popular], weights={"popularity": FILL})
    if name == "als":
        return Blender([("als", ALSRecommender()), popular], weights={"popularity": FILL})
    if name == "content":
        return Blender([("content", ContentRecommender()), popular], weights={"popularity": FILL})
    if name == "sasrec":
        from niaga.recommend.sasrec import SASRecRecommender  # PyTorch: imported only for the model that uses it

        return Blender([("sasrec", SASRecRecommender()), ("cooccurrence", _cooccurrence(fmt)),
                        ("content", ContentRecommender()), ("als", ALSRecommender()), popular],
                       weights={"cooccurrence": 0.5, "content": 0.05, "als": 0.1, "popularity": FILL}, tune=True,
                       tune_users=5000)
    if name == "basket":
        return Blender([("repeat", RepeatRecommender()), ("cooccurrence", _cooccurrence(fmt)),
                        ("als", ALSRecommender()), popular],
                       weights={"cooccurrence": 0.2, "als": 0.1, "popularity": FILL}, tune=True)
    raise NiagaError(f"--model {name}: unknown; valid: {', '.join(MODELS)}")


def apply_params(model: Blender, params: dict) -> Blender:
    """``--param``: ``SOURCE.NAME=VALUE`` sets a source's parameter, ``weights.SOURCE=W`` a weight,
    ``NAME=VALUE`` the blender's parameter or, when only one source has it, that source's."""
    sources = dict(model.sources)
    weights = dict(model.weights or {})
    blender_params = set(model.get_params(deep=False)) - {"sources", "weights"}
    for name, value in params.items():
        head, _, tail = name.partition(".")
        if head == "weights" and tail:
            if tail not in sources:
                raise NiagaError(f"--param {name}: no source {tail!r}; sources: {', '.join(sources)}")
            weights[tail] = float(value)
            continue
        if tail:
            if head not in sources:
                raise NiagaError(f"--param {name}: no source {head!r}; sources: {', '.join(sources)}")
            targets = [head]
            param = tail
        elif name in blender_params:
            model.set_params(**{name: value})
            continue
        else:
            targets = [s for s, est in sources.items() if name in est.get_params(deep=False)]
            param = name
            if len(targets) != 1:
                valid = sorted(blender_params | {f"{s}.{p}" for s, est in sources.items()
                                                  for p in est.get_params(deep=False)} | {f"weights.{s}" for s in sources})
                where = f"set by {', '.join(targets)}: say which, e.g. {targets[0]}.{name}" if targets else "unknown"
                raise NiagaError(f"--param {name}: {where}; valid: {', '.join(valid)}")
        source = sources[targets[0]]
        if param not in source.get_params(deep=False):
            raise NiagaError(f"--param {name}: {type(source).__name__} has no parameter {param!r}; valid: "
                             f"{', '.join(sorted(source.get_params(deep=False)))}")
        sources[targets[0]] = source.set_params(**{param: value})
    model.set_params(sources=list(sources.items()), weights=weights)
    return model


def load(directory: str | Path) -> Blender:
    from niaga.modeling import load_model

    model = load_model(directory, task=TASK)
    if not isinstance(model, Blender):
        raise ModelLoadError(f"{directory}: a recommend model of class {type(model).__name__}, not a niaga "
                             "recommend blend; train it with 'niaga recommend train'")
    return model


def _fingerprint(histories) -> str:
    from niaga.modeling import fingerprint

    return fingerprint(histories.users, histories.lengths, histories.items)


def read_data(data: str | Path, fmt: str | None = None, items: str | Path | None = None,
              segments: str | Path | None = None) -> Interactions:
    interactions = read_interactions(data, fmt, items)
    if segments:
        lookup = read_segments(segments)
        interactions.histories.segments = np.array([lookup.get(u, "") for u in interactions.histories.users.tolist()],
                                                   dtype=str)
    return interactions


def train(data: str | Path, out: str | Path, fmt: str | None = None, model_name: str | None = None,
          params: dict | None = None, holdout: str = "auto", items: str | Path | None = None,
          segments: str | Path | None = None, log=print) -> tuple[Blender, dict]:
    """Read ``data``, hold out the protocol's test items (so ``evaluate`` on the same file is honest), fit,
    serve from the whole data, save to ``out``. Returns the model and a summary."""
    from niaga.modeling import save_model

    start = time.perf_counter()
    interactions = read_data(data, fmt, items, segments)
    fmt = interactions.format
    model_name = model_name or DEFAULT_MODEL[fmt]
    model = apply_params(make_model(model_name, fmt), dict(params or {}))
    holdout = DEFAULT_HOLDOUT[fmt] if holdout == "auto" else holdout
    if holdout not in PROTOCOLS + ("none",):
        raise NiagaError(f"--holdout {holdout}: unknown; valid: auto, none, {', '.join(PROTOCOLS)}")
    train_histories, cutoff = interactions.histories, None
    if holdout != "none":
        held = split(interactions.histories, holdout)
        train_histories, cutoff = held.train, held.cutoff
    training = dataclasses.replace(interactions, histories=train_histories)
    try:
        model.fit(training)
    except ValueError as exc:
        raise NiagaError(f"{model_name}: {exc}") from exc
    model.set_histories(interactions.histories)
    seconds = round(time.perf_counter() - start, 1)
    summary = {"format": fmt, "model": model_name, "users": len(interactions.histories),
               "items": interactions.n_items, "interactions": int(len(interactions.histories.items)),
               "training_interactions": int(len(train_histories.items)), "holdout": holdout,
               "excluded_lines": interactions.excluded, "train_seconds": seconds, "weights": model.weights_}
    sources = dict(model.sources_)
    if "sasrec" in sources:
        sasrec = sources["sasrec"]
        summary["sasrec"] = {"best_epoch": sasrec.best_epoch_, "epochs": sasrec.epochs_,
                             "seconds": sasrec.train_seconds_, "history": sasrec.history_}
    if model.tuning_:
        summary["tuning"] = model.tuning_
    save_model(model, out, task=TASK, metrics=summary, data_sha256=_fingerprint(train_histories),
               data_rows=int(len(train_histories.items)),
               extra={"data_format": fmt, "holdout": holdout, "cutoff": cutoff, "data": str(data),
                      "full_data_sha256": _fingerprint(interactions.histories),
                      "item_attributes": interactions.catalogue.attribute_source})
    return model, summary


def evaluate(model_dir: str | Path, data: str | Path, protocol: str, report: str | Path, fmt: str | None = None,
             negatives: int = 0, max_users: int | None = None, progress: bool = True) -> dict:
    """Metrics of a saved model on ``data`` under ``protocol`` (see ``niaga.recommend.evaluate``), report written."""
    if protocol not in PROTOCOLS:
        raise NiagaError(f"--protocol {protocol}: unknown; valid: {', '.join(PROTOCOLS)}")
    model = load(model_dir)
    metadata = getattr(model, "metadata_", {})
    interactions = read_interactions(data, fmt or metadata.get("data_format"), None)
    catalogue_ids = model.item_ids_
    interactions = align(interactions, catalogue_ids)
    cutoff = metadata.get("cutoff") if protocol == "time" and metadata.get("holdout") == "time" else None
    held = split(interactions.histories, protocol, cutoff)
    trained_on = (metadata.get("training_data") or {}).get("sha256")
    note = "the model was trained on this data with the test items held out"
    if trained_on == metadata.get("full_data_sha256") and trained_on == _fingerprint(interactions.histories):
        raise NiagaError(f"{model_dir}: was trained on all of {data}, test items included (--holdout none); "
                         f"retrain with --holdout {protocol} to evaluate on it")
    if trained_on != _fingerprint(held.train):
        note = ("the model was trained on other data (or another split): the numbers are honest only if it never "
                "saw these test items")
    metrics = evaluate_scores(model.score_items, held, model.n_items_, n_negatives=negatives, max_users=max_users,
                              progress=progress)
    context = {"model": str(model_dir), "data": str(data), "protocol": protocol, "training": note,
               "sources": ", ".join(f"{n} × {w:g}" for n, w in model.weights_.items())}
    write_report(report, metrics, context, title=f"Recommendations: {Path(str(data)).name}, {protocol}")
    return {**metrics, "context": context}


def align(interactions: Interactions, item_ids: np.ndarray) -> Interactions:
    """Re-index ``interactions`` to a model's catalogue; items the model has never seen are dropped."""
    lookup = {item: i for i, item in enumerate(np.asarray(item_ids).tolist())}
    old_ids = interactions.catalogue.ids
    mapping = np.array([lookup.get(i, -1) for i in old_ids.tolist()], dtype=np.int64)
    h = interactions.histories
    known = mapping[h.items] >= 0
    kept = h.keep(known)
    kept.items = mapping[kept.items.astype(np.int64)].astype(np.int32) if len(kept.items) else kept.items
    catalogue = dataclasses.replace(interactions.catalogue, ids=np.asarray(item_ids, dtype=str), names=None,
                                    attributes=None)
    return dataclasses.replace(interactions, catalogue=catalogue, histories=kept)


def recommend_user(model: Blender, user: str, k: int = 10, segment: str | None = None) -> Served:
    return model.recommend_users([user], k=k, segments=[segment or ""])[0]


USER_COLUMNS = ("user_id", "user", "customer_id", "customer", "member_number", "reviewer_id")
OUTPUT_COLUMNS = ["user", "rank", "item", "item_name", "score", "source", "reason", "fallback", "error"]


def recommend_table(model: Blender, frame: pd.DataFrame, k: int = 10, user_col: str | None = None,
                    source: str = "input") -> tuple[pd.DataFrame, int]:
    """One row per (user, rank): the input row's columns kept, then user, rank, item, item_name, score, source,
    reason, fallback, error. A row without a user id is kept once, with the error. Returns the table and the bad rows."""
    if user_col is None:
        user_col = match_columns(frame.columns, {"user": USER_COLUMNS}).get("user")
        if user_col is None:
            raise DataError(f"{source}: no user column (one of user, user_id, customer_id, CustomerID, Customer ID); "
                            f"columns present: {', '.join(map(str, frame.columns[:20]))}")
    elif user_col not in frame.columns:
        raise DataError(f"{source}: missing column {user_col!r}; columns present: "
                        f"{', '.join(map(str, frame.columns[:20]))}")
    users = ids_as_text(frame[user_col])
    segment_col = match_columns(frame.columns, {"segment": ["segment"]}).get("segment")
    segments = frame[segment_col].astype("string").fillna("").tolist() if segment_col is not None else None
    good = np.flatnonzero(users.notna().to_numpy())
    served = model.recommend_users(users.iloc[good].tolist(), k=k,
                                   segments=None if segments is None else [segments[i] for i in good])
    by_row = dict(zip(good.tolist(), served))
    repeat, outputs, bad = [], [], 0
    for i in range(len(frame)):
        result = by_row.get(i)
        if result is None:
            bad += 1
            repeat.append(i)
            outputs.append({"user": "", "rank": pd.NA, "item": "", "item_name": "", "score": np.nan, "source": "",
                            "reason": "", "fallback": "", "error": f"row {i + 2}: empty user id"})
            continue
        for rank, rec in enumerate(result.items, start=1):
            repeat.append(i)
            outputs.append({"user": result.user, "rank": rank, "item": rec.item, "item_name": rec.name,
                            "score": rec.score, "source": rec.source, "reason": rec.reason,
                            "fallback": result.fallback, "error": ""})
    repeated = frame.iloc[repeat].reset_index(drop=True)
    table = with_outputs(repeated, pd.DataFrame(outputs, columns=OUTPUT_COLUMNS).astype({"rank": "Int64"}))
    return table, bad


def together(model: Blender, item: str, k: int = 10) -> Served:
    return model.together(str(item), k=k)
