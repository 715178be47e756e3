"""One transaction schema for every fraud dataset, the column names it accepts, and per-row validation.

Required: transaction id, timestamp, customer id, amount. Optional: terminal (merchant) id, label, scenario,
signup time, device id, IP address, source, browser, sex, age. A table is mapped by column name (aliases
below, case-insensitive); validation never drops a row: each bad row gets the field and the reason.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from niaga.data.io import read_table
from niaga.errors import DataError

#: canonical field → the column names it is read from, in order of preference. The e-commerce data has one
#: purchase per user and no transaction id, so ``user_id`` serves as both the transaction and the customer id.
ALIASES: dict[str, tuple[str, ...]] = {
    "transaction_id": ("transaction_id", "tx_id", "id", "order_id", "user_id"),
    "timestamp": ("timestamp", "tx_datetime", "purchase_time", "datetime", "event_time", "time"),
    "customer_id": ("customer_id", "user_id", "card_id", "account_id"),
    "amount": ("amount", "tx_amount", "purchase_value", "value"),
    "terminal_id": ("terminal_id", "merchant_id", "seller_id", "shop_id"),
    "label": ("label", "tx_fraud", "is_fraud", "fraud", "class"),
    "scenario": ("scenario", "tx_fraud_scenario"),
    "signup_time": ("signup_time", "signup_datetime"),
    "device_id": ("device_id", "device"),
    "ip_address": ("ip_address", "ip"),
    "source": ("source", "channel"),
    "browser": ("browser",),
    "sex": ("sex", "gender"),
    "age": ("age",),
}
REQUIRED = ("transaction_id", "timestamp", "customer_id", "amount")
ID_FIELDS = ("transaction_id", "customer_id", "terminal_id", "device_id")
CATEGORY_FIELDS = ("source", "browser", "sex")
LABEL_WORDS = {"1": 1.0, "0": 0.0, "true": 1.0, "false": 0.0, "fraud": 1.0, "legit": 0.0, "genuine": 0.0,
               "yes": 1.0, "no": 0.0}
#: the canonical frame: ``ts``/``signup_ts`` are seconds since 1970 (UTC when the input had a time zone).
CANONICAL = ["row", "transaction_id", "timestamp", "ts", "customer_id", "terminal_id", "amount", "label",
             "scenario", "signup_ts", "device_id", "ip_address", "source", "browser", "sex", "age", "error"]


def column_mapping(columns) -> dict[str, str]:
    """canonical field → input column, for the fields the table has (first alias that matches, any case)."""
    by_lower = {}
    for column in columns:
        by_lower.setdefault(str(column).strip().lower(), column)
    mapping = {}
    for field, names in ALIASES.items():
        found = next((by_lower[n] for n in names if n in by_lower), None)
        if found is not None:
            mapping[field] = found
    return mapping


def _seconds(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Parse timestamps to epoch seconds (NaN where unparseable) and return the parsed datetimes too."""
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values
    else:
        parsed = pd.to_datetime(values.astype("string").str.strip(), errors="coerce", format="mixed")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    parsed = parsed.astype("datetime64[us]")
    seconds = parsed.to_numpy().astype("datetime64[us]").astype("int64") / 1e6
    seconds[parsed.isna().to_numpy()] = np.nan
    return seconds, parsed


def id_text(values: pd.Series) -> pd.Series:
    """Ids as text (object dtype, None when blank); whole-number floats (ids read next to blanks) lose their ".0"."""
    if values.dtype.kind in "iu":  # the common case, and much faster than a pandas string conversion
        return pd.Series(values.to_numpy().astype(str).astype(object), index=values.index, dtype=object)
    if values.dtype.kind == "f" and values.dropna().eq(values.dropna().round()).all():
        values = values.astype("Int64")
    text = values.astype("string").str.strip()
    return text.mask(text == "", pd.NA).astype(object).where(text.notna() & (text != ""), None)


def blank(values: pd.Series) -> pd.Series:
    if values.dtype.kind in "biufcmM":
        return values.isna()
    return values.isna() | values.astype("string").str.strip().eq("").fillna(True)


def parse_label(value) -> float:
    """1.0 fraud, 0.0 legitimate, NaN unknown (blank or unreadable)."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return math.nan
    if isinstance(value, (bool, np.bool_)):
        return float(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value) if value in (0, 1) else math.nan
    return LABEL_WORDS.get(str(value).strip().lower(), math.nan)


def parse_labels(values: pd.Series) -> np.ndarray:
    if values.dtype.kind in "biuf":
        numbers = values.astype(float).to_numpy()
        return np.where(np.isin(numbers, (0.0, 1.0)), numbers, np.nan)
    return values.map(parse_label).astype(float).to_numpy()


def normalize(frame: pd.DataFrame, source: str | Path = "input") -> pd.DataFrame:
    """The canonical frame (columns ``CANONICAL``, same rows and order) with a per-row ``error`` ("" when valid).

    Raises DataError only when a required column is absent altogether; bad values are per-row errors.
    """
    mapping = column_mapping(frame.columns)
    missing = [f for f in REQUIRED if f not in mapping]
    if missing:
        wanted = "; ".join(f"{f}: one of {', '.join(ALIASES[f])}" for f in missing)
        raise DataError(f"{source}: no column for {wanted}; columns present: {', '.join(map(str, frame.columns[:20]))}")
    n = len(frame)
    out = pd.DataFrame({"row": np.arange(2, n + 2)}, index=frame.index)  # the file's line: header = 1
    error = np.full(n, "", dtype=object)

    def flag(mask, text, values: pd.Series | None = None) -> None:
        """Add ``text`` (followed by the row's value, when given) to the error of the rows in ``mask``."""
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            messages = np.full(int(mask.sum()), text, dtype=object)
            if values is not None:  # formatted for the bad rows only: formatting every row is slow
                messages = messages + np.asarray([repr(v) if isinstance(v, str) else str(v) for v in values[mask]],
                                                 dtype=object)
            error[mask] = np.where(error[mask] == "", messages, error[mask] + "; " + messages)

    for field in ID_FIELDS:
        if field in mapping:
            out[field] = id_text(frame[mapping[field]])
            if field != "device_id":
                flag(out[field].isna(), f"{field}: missing")
        else:
            out[field] = pd.Series(None, index=frame.index, dtype=object)
    raw_ids = frame[mapping["transaction_id"]]
    ids = raw_ids if raw_ids.dtype.kind in "iu" else out["transaction_id"]  # integers: faster duplicate check
    dup = out["transaction_id"].notna() & ids.duplicated(keep="first")
    if dup.any():
        first_row = out.drop_duplicates("transaction_id").set_index("transaction_id")["row"]
        flag(dup, "transaction_id: duplicate of row ", out["transaction_id"].map(first_row).fillna(0).astype(int))

    raw_ts = frame[mapping["timestamp"]]
    out["ts"], out["timestamp"] = _seconds(raw_ts)
    blank_ts = blank(raw_ts)
    flag(blank_ts, "timestamp: missing")
    flag(out["ts"].isna() & ~blank_ts, "timestamp: cannot parse ", raw_ts)

    raw_amount = frame[mapping["amount"]]
    out["amount"] = pd.to_numeric(raw_amount, errors="coerce").astype(float)
    blank_amount = blank(raw_amount)
    flag(blank_amount, "amount: missing")
    flag(out["amount"].isna() & ~blank_amount, "amount: not a number ", raw_amount)
    flag(out["amount"] < 0, "amount: negative ", out["amount"])
    flag(np.isinf(out["amount"]), "amount: not finite")

    out["label"] = parse_labels(frame[mapping["label"]]) if "label" in mapping else np.nan
    out["scenario"] = pd.to_numeric(frame[mapping["scenario"]], errors="coerce") if "scenario" in mapping else np.nan
    out["signup_ts"] = _seconds(frame[mapping["signup_time"]])[0] if "signup_time" in mapping else np.nan
    out["ip_address"] = (pd.to_numeric(frame[mapping["ip_address"]], errors="coerce") if "ip_address" in mapping
                         else np.nan)
    for field in CATEGORY_FIELDS:
        out[field] = id_text(frame[mapping[field]]) if field in mapping else pd.Series(None, index=frame.index,
                                                                                          dtype=object)
    out["age"] = pd.to_numeric(frame[mapping["age"]], errors="coerce") if "age" in mapping else np.nan
    out["error"] = error
    out.attrs["mapping"] = mapping
    return out[CANONICAL]


def problems_table(canonical: pd.DataFrame) -> pd.DataFrame:
    """One line per problem: row (the line in the file, header = 1, as everywhere in niaga), field, reason."""
    bad = canonical.loc[canonical["error"] != "", ["row", "transaction_id", "error"]]
    lines = [(row, tx, part.split(":", 1)[0], part.split(":", 1)[1].strip())
             for row, tx, error in bad.itertuples(index=False) for part in error.split("; ")]
    return pd.DataFrame(lines, columns=["row", "transaction_id", "field", "reason"])


def read_transactions(paths, log=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read and normalize one or more tables; returns (canonical frame, the raw rows) with ``row`` per file.

    Each canonical row keeps ``file`` (where it was read) so an error can be traced to file and row.
    """
    canon_parts, raw_parts = [], []
    for path in [paths] if isinstance(paths, (str, Path)) else paths:
        raw = read_table(path)
        canon = normalize(raw, path)
        canon.insert(0, "file", str(path))
        canon_parts.append(canon)
        raw_parts.append(raw)
        if log:
            bad = int((canon["error"] != "").sum())
            log(f"{path}: {len(canon):,} rows" + (f", {bad:,} invalid" if bad else ""))
    canon = pd.concat(canon_parts, ignore_index=True)
    if len(canon_parts) > 1:  # a transaction id repeated across files is a duplicate too
        dup = canon["transaction_id"].notna() & canon["transaction_id"].duplicated(keep="first") & (canon["error"] == "")
        canon.loc[dup, "error"] = "transaction_id: duplicate of an earlier file's row"
    return canon, pd.concat(raw_parts, ignore_index=True)


def record_seconds(value) -> float:
    """One timestamp (datetime, pandas/numpy time, epoch seconds or text) as epoch seconds; NaN if unreadable."""
    if value is None or value is pd.NA:
        return math.nan
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, dt.datetime) and not isinstance(value, pd.Timestamp):
        value = pd.Timestamp(value)
    try:
        stamp = value if isinstance(value, pd.Timestamp) else pd.Timestamp(value)
    except (ValueError, TypeError):
        return math.nan
    if stamp is pd.NaT:
        return math.nan
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.value / 1e9


class TransactionRecord(NamedTuple):
    """One transaction as the real-time path carries it: the canonical fields, parsed, in the order of
    ``OnlineFeatureState.update``'s arguments (a tuple, so ``update(*record)`` costs nothing more)."""

    transaction_id: str | None
    ts: float
    amount: float
    customer_id: str | None
    terminal_id: str | None
    label: float
    signup_ts: float
    device_id: str | None
    ip_address: float
    source: str | None
    browser: str | None
    sex: str | None
    age: float


def _text(value):
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _number(value) -> float:
    try:
        return float(value) if value is not None and value is not pd.NA else math.nan
    except (TypeError, ValueError):
        return math.nan


def parse_record(record: dict) -> tuple[TransactionRecord, str]:
    """One transaction given as a dict (any of the schema's column names) → (TransactionRecord, error).

    The scalar twin of ``normalize``, for the real-time path where building a DataFrame per transaction would
    cost more than the whole scoring budget; both produce the same reason texts.
    """
    mapping = column_mapping(record.keys())
    get = lambda field: record.get(mapping[field]) if field in mapping else None  # noqa: E731
    problems = []
    tx_id, customer, terminal = _text(get("transaction_id")), _text(get("customer_id")), _text(get("terminal_id"))
    for field, value in (("transaction_id", tx_id), ("customer_id", customer)):
        if value is None:
            problems.append(f"{field}: missing")
    if "terminal_id" in mapping and terminal is None:
        problems.append("terminal_id: missing")
    raw_ts = get("timestamp")
    ts = record_seconds(raw_ts)
    if _text(raw_ts) is None:
        problems.append("timestamp: missing")
    elif ts != ts:
        problems.append(f"timestamp: cannot parse {raw_ts!r}")
    raw_amount = get("amount")
    amount = _number(raw_amount)
    if _text(raw_amount) is None:
        problems.append("amount: missing")
    elif amount != amount:
        problems.append(f"amount: not a number {raw_amount!r}")
    elif amount < 0:
        problems.append(f"amount: negative {amount}")
    elif math.isinf(amount):
        problems.append("amount: not finite")
    record = TransactionRecord(tx_id, ts, amount, customer, terminal, parse_label(get("label")),
                               record_seconds(get("signup_time")), _text(get("device_id")), _number(get("ip_address")),
                               _text(get("source")), _text(get("browser")), _text(get("sex")), _number(get("age")))
    return record, "; ".join(problems)


def sort_stream(canonical: pd.DataFrame) -> np.ndarray:
    """Positions of the valid rows in stream order: by timestamp, ties in input order."""
    valid = np.flatnonzero((canonical["error"] == "").to_numpy())
    return valid[np.argsort(canonical["ts"].to_numpy()[valid], kind="stable")]
