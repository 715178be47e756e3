"""Reading user tables with errors that name the file and the column."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Iterable

import pandas as pd

from niaga.errors import DataError


def read_table(path: str | Path, **kwargs) -> pd.DataFrame:
    """Read a CSV, TSV (by extension), parquet or JSON-lines file into a frame.

    Any failure becomes a DataError that names the file, so the CLI can print one line.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: file not found")
    if path.is_dir():
        raise DataError(f"{path}: is a directory, expected a file")
    name = path.name.lower().removesuffix(".gz")
    try:
        if name.endswith(".parquet"):
            return pd.read_parquet(path, **kwargs)
        if name.endswith((".jsonl", ".ndjson")):
            return pd.read_json(path, lines=True, **kwargs)
        if name.endswith(".tsv"):
            kwargs.setdefault("sep", "\t")
        return pd.read_csv(path, **kwargs)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError, OSError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{path}: cannot be read as a table ({reason})") from exc


def require_columns(frame: pd.DataFrame, columns: Iterable[str], source: str | Path) -> None:
    """Raise DataError naming the source and each missing column, and listing what is there."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        have = ", ".join(map(str, frame.columns[:20]))
        raise DataError(f"{source}: missing column(s) {', '.join(map(repr, missing))}; columns present: {have}")


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a frame as CSV or parquet by extension, creating the parent directory."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.name.lower().endswith(".parquet"):
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False, quoting=csv.QUOTE_MINIMAL)
    return path
