"""The online feature state as a file: versioned, data only (numpy arrays in an ``.npz``, read with
``allow_pickle=False``; nothing in it can run code), written atomically.

One format serves both uses: the state a model carries from its training data (``feature_state.npz`` in
the model directory, listed in model.json with its sha256), and a running scorer's snapshots. Besides the
feature state a snapshot holds what the scorer needs to resume a stream: the transaction ids it saw within
the horizon (to refuse a duplicate), the stream id and the number of decisions made (``seq``).

Layout: ``meta`` (UTF-8 JSON: format, version, feature config, clock, sizes, the scorer's fields) and, per
kind of entity, its keys, the offsets of each entity's entries in flat ``times`` / ``values`` arrays, and
the windows' start indices and running sums (kept exactly, so a restored stream continues bit for bit).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from collections import deque
from pathlib import Path

import numpy as np

from niaga import __version__
from niaga.errors import DataError
from niaga.fraud.features import FeatureConfig, IpCountries, OnlineFeatureState, _Account, _Terminal, _Windows

STATE_FORMAT = "niaga-fraud-state"
STATE_VERSION = 1
STATE_FILE = "feature_state.npz"


def _text(values) -> np.ndarray:
    """Ids as a unicode array (ids are text everywhere in the scorer)."""
    values = [str(v) for v in values]
    return np.array(values, dtype=str) if values else np.zeros(0, dtype="<U1")


def _ragged(lists, dtype) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.zeros(len(lists) + 1, dtype=np.int64)
    np.cumsum([len(v) for v in lists], out=offsets[1:])
    flat = [x for v in lists for x in v]
    return (_text(flat) if dtype is str else np.array(flat, dtype=dtype)), offsets


def _split(flat: np.ndarray, offsets: np.ndarray) -> list[list]:
    values = flat.tolist()
    bounds = offsets.tolist()
    return [values[bounds[i]:bounds[i + 1]] for i in range(len(bounds) - 1)]


def _pack_windows(prefix: str, windows: list[_Windows], n_windows: int) -> dict[str, np.ndarray]:
    """Windows trimmed to what the longest one still holds: entries, starts and sums (exact)."""
    times, values, starts, sums = [], [], [], []
    for w in windows:
        first = w.starts[-1]
        times.append(w.times[first:])
        values.append(w.values[first:])
        starts.append([s - first for s in w.starts])
        sums.append(w.sums)
    flat_times, offsets = _ragged(times, np.float64)
    return {f"{prefix}_offsets": offsets, f"{prefix}_times": flat_times,
            f"{prefix}_values": _ragged(values, np.float64)[0],
            f"{prefix}_starts": np.array(starts, dtype=np.int64).reshape(len(windows), n_windows),
            f"{prefix}_sums": np.array(sums, dtype=np.float64).reshape(len(windows), n_windows)}


def _unpack_windows(arrays, prefix: str, n_windows: int) -> list[_Windows]:
    times = _split(arrays[f"{prefix}_times"], arrays[f"{prefix}_offsets"])
    values = _split(arrays[f"{prefix}_values"], arrays[f"{prefix}_offsets"])
    starts, sums = arrays[f"{prefix}_starts"].tolist(), arrays[f"{prefix}_sums"].tolist()
    out = []
    for i in range(len(times)):
        w = _Windows(n_windows)
        w.times, w.values, w.starts, w.sums = times[i], values[i], starts[i], sums[i]
        out.append(w)
    return out


def state_arrays(state: OnlineFeatureState) -> dict[str, np.ndarray]:
    """Every part of the feature state as numpy arrays (no object arrays)."""
    n_cw, n_tw, n_dw = len(state._cw), len(state._tw), len(state._dw)
    arrays = {"customer_keys": _text(state.customers)}
    arrays.update(_pack_windows("customer", list(state.customers.values()), n_cw))
    arrays["terminal_keys"] = _text(state.terminals)
    terminals = list(state.terminals.values())
    arrays.update(_pack_windows("terminal", [t.windows for t in terminals], n_tw))
    arrays["terminal_frauds"], arrays["terminal_fraud_offsets"] = _ragged([list(t.fraud_times) for t in terminals],
                                                                          np.float64)
    pending = list(state.pending)
    arrays["pending_ts"] = np.array([p[0] for p in pending], dtype=np.float64)
    arrays["pending_terminal"] = _text(p[1] for p in pending)
    arrays["pending_transaction"] = _text(p[2] for p in pending)
    arrays["pending_label"] = np.array([p[3] for p in pending], dtype=np.float64)
    arrays["feedback_transaction"] = _text(state.labels)
    arrays["feedback_label"] = np.array(list(state.labels.values()), dtype=np.float64)
    for kind, mapping in (("device", state.devices), ("ip", state.ips)):
        accounts = list(mapping.values())
        arrays[f"{kind}_keys"] = (_text(mapping) if kind == "device"
                                  else np.array(list(mapping), dtype=np.float64))
        arrays.update(_pack_windows(kind, [a.windows for a in accounts], n_dw))
        arrays[f"{kind}_last"] = np.array([a.last for a in accounts], dtype=np.float64)
        arrays[f"{kind}_accounts"], arrays[f"{kind}_account_offsets"] = _ragged(
            [sorted(map(str, a.customers)) for a in accounts], str)
        arrays[f"{kind}_signups"], arrays[f"{kind}_signup_offsets"] = _ragged(
            [sorted(a.signups) for a in accounts], np.float64)
        arrays[f"{kind}_signup_range"] = np.array([[a.signup_lo, a.signup_hi] for a in accounts],
                                                  dtype=np.float64).reshape(len(accounts), 2)
        arrays[f"{kind}_countries"], arrays[f"{kind}_country_offsets"] = _ragged(
            [sorted(map(str, a.countries)) for a in accounts], str)
    arrays["source_keys"] = _text(state.sources)
    arrays.update(_pack_windows("source", list(state.sources.values()), 1))
    return arrays


def restore_state(arrays, config: FeatureConfig, ip_countries: IpCountries | None,
                  clock: float, next_prune: float) -> OnlineFeatureState:
    """The OnlineFeatureState written by ``state_arrays``."""
    state = OnlineFeatureState(config, ip_countries)
    n_cw, n_tw, n_dw = len(state._cw), len(state._tw), len(state._dw)
    state.customers = dict(zip(arrays["customer_keys"].tolist(), _unpack_windows(arrays, "customer", n_cw)))
    frauds = _split(arrays["terminal_frauds"], arrays["terminal_fraud_offsets"])
    for key, windows, fraud_times in zip(arrays["terminal_keys"].tolist(), _unpack_windows(arrays, "terminal", n_tw),
                                         frauds):
        terminal = state.terminals[key] = _Terminal(n_tw)
        terminal.windows, terminal.fraud_times = windows, deque(fraud_times)
    state.pending = deque(zip(arrays["pending_ts"].tolist(), arrays["pending_terminal"].tolist(),
                              arrays["pending_transaction"].tolist(), arrays["pending_label"].tolist()))
    state.labels = dict(zip(arrays["feedback_transaction"].tolist(), arrays["feedback_label"].tolist()))
    for kind, mapping in (("device", state.devices), ("ip", state.ips)):
        windows = _unpack_windows(arrays, kind, n_dw)
        customers = _split(arrays[f"{kind}_accounts"], arrays[f"{kind}_account_offsets"])
        signups = _split(arrays[f"{kind}_signups"], arrays[f"{kind}_signup_offsets"])
        countries = _split(arrays[f"{kind}_countries"], arrays[f"{kind}_country_offsets"])
        ranges = arrays[f"{kind}_signup_range"].tolist()
        for i, (key, last) in enumerate(zip(arrays[f"{kind}_keys"].tolist(), arrays[f"{kind}_last"].tolist())):
            account = mapping[key] = _Account(n_dw)
            account.windows, account.last = windows[i], last
            account.customers, account.signups = set(customers[i]), set(signups[i])
            account.countries = set(countries[i])
            account.signup_lo, account.signup_hi = ranges[i]
    state.sources = dict(zip(arrays["source_keys"].tolist(), _unpack_windows(arrays, "source", 1)))
    state.clock, state.next_prune = clock, next_prune
    return state


def _finite(value: float):
    return value if math.isfinite(value) else None


def write_state(path: str | Path, state: OnlineFeatureState, extra: dict | None = None,
                arrays: dict[str, np.ndarray] | None = None) -> Path:
    """Write the state (plus the scorer's ``extra`` metadata and ``arrays``) to ``path``, atomically: a
    reader, or a process killed meanwhile, sees the old file or the new one, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = state_arrays(state)
    data.update({f"scorer_{k}": v for k, v in (arrays or {}).items()})
    meta = {"format": STATE_FORMAT, "version": STATE_VERSION, "niaga_version": __version__,
            "written": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "config": state.config.to_dict(), "clock": _finite(state.clock), "next_prune": _finite(state.next_prune),
            "size": state.size(), **(extra or {})}
    data["meta"] = np.frombuffer(json.dumps(meta, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)
    temporary = path.with_name(path.name + ".partial")
    with open(temporary, "wb") as fh:
        np.savez(fh, **data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(temporary, path)
    return path


def read_meta(path: str | Path) -> dict:
    """The metadata of a state file, checked for format and version (the arrays are not read)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no feature state file")
    try:
        with np.load(path, allow_pickle=False) as npz:
            meta = json.loads(npz["meta"].tobytes().decode("utf-8"))
    except (OSError, ValueError, KeyError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a niaga feature state file ({type(exc).__name__}: {exc})") from exc
    if not isinstance(meta, dict) or meta.get("format") != STATE_FORMAT:
        raise DataError(f"{path}: not a niaga feature state file")
    if meta.get("version") != STATE_VERSION:
        raise DataError(f"{path}: feature state format {meta.get('version')} (written by niaga "
                        f"{meta.get('niaga_version')}); this niaga reads format {STATE_VERSION}: start "
                        "with --fresh or --history, or retrain")
    return meta


def read_state(path: str | Path, config: FeatureConfig, ip_countries: IpCountries | None
               ) -> tuple[OnlineFeatureState, dict, dict[str, np.ndarray]]:
    """(state, meta, the scorer's arrays) from a state file; the state must have been built with ``config``."""
    path = Path(path)
    meta = read_meta(path)
    if FeatureConfig.from_dict(meta["config"]) != config:
        saved = FeatureConfig.from_dict(meta["config"])
        raise DataError(f"{path}: the state was built with a {saved.label_delay_days:g}-day label delay and its own "
                        f"windows; this scorer uses a {config.label_delay_days:g}-day delay: start with --fresh or "
                        "--history instead")
    with np.load(path, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    clock = meta.get("clock")
    next_prune = meta.get("next_prune")
    state = restore_state(arrays, config, ip_countries, -math.inf if clock is None else clock,
                          -math.inf if next_prune is None else next_prune)
    extra = {k.removeprefix("scorer_"): v for k, v in arrays.items() if k.startswith("scorer_")}
    return state, meta, extra
