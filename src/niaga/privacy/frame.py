"""Personal data in tables: which columns hold it (``scan_frame``) and a copy with it replaced (``mask_frame``).

Both keep every row and every column. A cell is read as text: numbers stored as integers (a NIK column in a
Parquet file, a phone number written as 6281234567890) are scanned through their digits; empty cells stay empty.
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable, Mapping

import pandas as pd

from niaga.data.io import require_columns
from niaga.privacy.detect import KINDS, find_pii
from niaga.privacy.mask import PrivacyError, apply, check_policy, load_secret, partial


def cell_text(value) -> str | None:
    """The text of a cell, or None for an empty one. Whole floats (a NIK column with a gap is read as float)
    are written without the ".0"."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e19:
        return str(int(value))
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else str(value)


def column_policies(frame: pd.DataFrame, columns: Iterable[str] | Mapping[str, str] | None, policy: str,
                    source: str = "the table") -> dict[str, str]:
    """Column → policy: a mapping as given, a list of columns all with ``policy``, None for every column."""
    if columns is None:
        chosen = {c: policy for c in frame.columns}
    elif isinstance(columns, Mapping):
        chosen = {c: p or policy for c, p in columns.items()}
    else:
        chosen = {c: policy for c in columns}
    require_columns(frame, list(chosen), source)
    for p in chosen.values():
        check_policy(p)
    return chosen


def mask_frame(frame: pd.DataFrame, columns: Iterable[str] | Mapping[str, str] | None = None, policy: str = "mask",
               *, secret: str | bytes | None = None, kinds: tuple[str, ...] | list[str] | None = None,
               source: str = "the table") -> pd.DataFrame:
    """A copy of ``frame`` with the personal data in ``columns`` replaced; every row and column kept, in order.

    ``columns``: a list (all with ``policy``), a mapping column → policy (mask, partial, pseudonymize, drop) for
    a different treatment per column, or None for every column. Columns not named are copied unchanged. The
    count of replaced values per column and kind is in ``result.attrs["pii_replaced"]``.
    """
    chosen = column_policies(frame, columns, policy, source)
    key = load_secret(secret) if "pseudonymize" in chosen.values() else None
    result = frame.copy()
    replaced: dict[str, dict[str, int]] = {}
    for column, how in chosen.items():
        counts: Counter = Counter()
        cache: dict[str, tuple[str, Counter]] = {}  # a value repeated in many rows is searched once
        changed = False
        values = []
        for value in frame[column].tolist():
            text = cell_text(value)
            if text is None:
                values.append(value)
                continue
            if text not in cache:
                findings = find_pii(text, kinds)
                cache[text] = (apply(text, findings, how, key) if findings else text, Counter(f.kind for f in findings))
            new, found = cache[text]
            counts.update(found)
            changed |= new != text
            values.append(new if new != text else value)
        if changed:  # a column of numbers with a replaced value becomes a column of text, empty cells kept
            result[column] = pd.Series([cell_text(v) if v is not None else None for v in values], index=frame.index,
                                       dtype=object)
        replaced[str(column)] = {k: counts[k] for k in KINDS if counts[k]}
    result.attrs["pii_replaced"] = replaced
    return result


def find_in_frame(frame: pd.DataFrame, columns: Iterable[str] | None = None,
                  kinds: tuple[str, ...] | list[str] | None = None, source: str = "the table") -> pd.DataFrame:
    """One row per finding: row (0-based position), column, kind, start, end, and the value partially masked
    (``masked``); never the raw value."""
    columns = list(frame.columns) if columns is None else list(columns)
    require_columns(frame, columns, source)
    rows = []
    for column in columns:
        cache: dict[str, list] = {}
        for position, value in enumerate(frame[column].tolist()):
            text = cell_text(value)
            if text is None:
                continue
            if text not in cache:
                cache[text] = find_pii(text, kinds)
            for f in cache[text]:
                rows.append((position, str(column), f.kind, f.start, f.end, partial(f)))
    return pd.DataFrame(rows, columns=["row", "column", "kind", "start", "end", "masked"])


def scan_frame(frame: pd.DataFrame, columns: Iterable[str] | None = None,
               kinds: tuple[str, ...] | list[str] | None = None, examples: int = 2,
               source: str = "the table") -> pd.DataFrame:
    """Per column and kind: how many values were found, in how many rows (and their share), and up to
    ``examples`` examples, partially masked. Columns with nothing found are listed with kind "" and 0."""
    columns = list(frame.columns) if columns is None else list(columns)
    findings = find_in_frame(frame, columns, kinds, source)
    n = len(frame)
    rows = []
    for column in columns:
        mine = findings[findings["column"] == str(column)]
        if mine.empty:
            rows.append({"column": str(column), "kind": "", "found": 0, "rows": 0, "share_of_rows": 0.0,
                         "examples": ""})
            continue
        for kind in [k for k in KINDS if k in set(mine["kind"])]:
            part = mine[mine["kind"] == kind]
            rows_with = part["row"].nunique()
            shown = list(dict.fromkeys(part["masked"]))[:examples]
            rows.append({"column": str(column), "kind": kind, "found": len(part), "rows": rows_with,
                         "share_of_rows": round(rows_with / n, 4) if n else 0.0, "examples": " | ".join(shown)})
    return pd.DataFrame(rows, columns=["column", "kind", "found", "rows", "share_of_rows", "examples"])


__all__ = ["mask_frame", "scan_frame", "find_in_frame", "cell_text", "column_policies", "PrivacyError"]
