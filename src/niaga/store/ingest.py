"""``niaga ingest TABLE FILE...``: load files into the warehouse with validation.

Good rows land in the table; a bad row goes to ``quarantine`` with its line number (header = 1), the field
and the reason, and the rest of the file still lands; a row already stored (same key, or the same content
for tables without a key) is counted as a duplicate and not stored again; a file already ingested into the
table (same sha256) adds nothing. Personal data is masked on the way in (the ``pii_policy`` setting).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from niaga.data.columns import match_columns, require_fields
from niaga.data.io import note, read_table
from niaga.errors import DataError
from niaga.modeling import sha256_file
from niaga.privacy import load_secret, mask_frame
from niaga.privacy.mask import check_policy
from niaga.store.database import DuckDatabase
from niaga.store.schema import TABLES, Column, Table
from niaga.store.warehouse import Store

CHUNK_ROWS = 100_000


@dataclass
class IngestResult:
    table: str
    file: str
    rows: int = 0
    stored: int = 0
    quarantined: int = 0
    duplicates: int = 0
    already_ingested: bool = False

    def summary(self) -> str:
        if self.already_ingested:
            return f"{self.file}: already ingested into {self.table}: nothing added"
        return (f"{self.file}: {self.rows:,} rows → {self.stored:,} stored in {self.table}, "
                f"{self.quarantined:,} quarantined, {self.duplicates:,} duplicates skipped")


def convert(values: pd.Series, column: Column) -> tuple[pd.Series, pd.Series]:
    """The column's values in its type, and per row why a value could not be used ("" when fine)."""
    present = values.notna() & values.astype("string").str.strip().ne("").fillna(False)
    problems = pd.Series("", index=values.index, dtype=object)
    if column.type in ("text", "label"):
        typed = values.astype("string").str.strip().where(present, None).astype(object)
    elif column.type in ("number", "integer"):
        typed = pd.to_numeric(values, errors="coerce")
        problems[present & typed.isna()] = "not a number: " + values[present & typed.isna()].astype(str).str.slice(0, 30)
        if column.minimum is not None:
            low = typed < column.minimum
            problems[low] = f"below {column.minimum:g}: " + typed[low].astype(str)
    else:  # timestamp: text dates, datetimes, or epoch seconds
        if pd.api.types.is_numeric_dtype(values):
            typed = pd.to_datetime(values, unit="s", errors="coerce")
        else:
            typed = pd.to_datetime(values, errors="coerce", format="mixed")
        bad = present & typed.isna()
        problems[bad] = "cannot parse as a date/time: " + values[bad].astype(str).str.slice(0, 30)
    if column.required:
        problems[~present] = "missing"
    return typed, problems


def validate(frame: pd.DataFrame, table: Table, source: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows in the table's layout with ``extra``, ``source_row`` and the problems per row,
    quarantine lines: source_row, field, reason, raw)."""
    mapping = match_columns(frame.columns, table.aliases)
    require_fields(mapping, [c.name for c in table.columns if c.required], table.aliases, frame.columns, source,
                   what=f"'{table.name}' table")
    out = pd.DataFrame(index=frame.index)
    issues = []
    for column in table.columns:
        if column.name in mapping:
            out[column.name], problems = convert(frame[mapping[column.name]], column)
            issues += [(i, column.name, why) for i, why in problems[problems != ""].items()]
        else:
            out[column.name] = None
    others = [c for c in frame.columns if c not in mapping.values()]
    out["extra"] = (frame[others].to_json(orient="records", lines=True, force_ascii=False, date_format="iso")
                    .splitlines() if others else None)
    out["source_row"] = frame.index.to_numpy() + 2  # the line in the file, header = 1
    quarantine = pd.DataFrame(issues, columns=["index", "field", "reason"])
    if len(quarantine):
        quarantine["source_row"] = quarantine["index"] + 2
        quarantine["raw"] = [json.dumps(frame.loc[i].astype(str).to_dict(), ensure_ascii=False)
                             for i in quarantine["index"]]
    return out, quarantine.drop(columns="index") if len(quarantine) else quarantine


def row_hashes(rows: pd.DataFrame, table: Table, seen: Counter) -> pd.Series:
    """The row's identity: its key when the table has one; else its content and how many identical rows came
    before it in the file (``seen`` carries the count across chunks). So two customers' identical
    "barang bagus" reviews are both kept, while the same file exported again (CSV, then Parquet) adds nothing."""
    columns = list(table.key) or [c.name for c in table.columns]
    content = pd.util.hash_pandas_object(rows[columns].astype("string").fillna("\x00"), index=False).astype(str)
    if table.key:
        return content
    occurrence = []
    for value in content:
        occurrence.append(seen[value])
        seen[value] += 1
    return content + "#" + pd.Series(occurrence, index=content.index).astype(str)


def ingest(store: Store, table_name: str, paths: Iterable[str | Path], pii_policy: str = "mask",
           log: Callable[[str], None] = note, progress: bool = True) -> list[IngestResult]:
    """Load each file into ``table_name``. Personal data in the table's personal columns (names, phones,
    emails, addresses; review and post texts) is replaced by ``pii_policy`` (mask, partial, pseudonymize,
    drop) before anything is stored; "off" stores it as given."""
    if pii_policy != "off":
        check_policy(pii_policy)
        if pii_policy == "pseudonymize":
            load_secret()  # refuse before any work when there is no secret to key the pseudonyms
    table = TABLES.get(table_name)
    if table is None:
        raise DataError(f"unknown table {table_name!r}; tables: {', '.join(TABLES)}")
    results = []
    for path in map(Path, paths):
        if not path.is_file():
            raise DataError(f"{path}: file not found")
        sha = sha256_file(path)
        seen = store.database(table.name).fetchone(
            "SELECT ingested_at FROM ingested_files WHERE sha256 = ? AND table_name = ?", [sha, table.name])
        result = IngestResult(table.name, str(path))
        if seen:
            result.already_ingested = True
        else:
            _ingest_file(store, table, path, sha, result, pii_policy, progress)
        log(result.summary())
        results.append(result)
    return results


def _ingest_file(store: Store, table: Table, path: Path, sha: str, result: IngestResult, pii_policy: str,
                 progress: bool) -> None:
    frame = read_table(path)
    result.rows = len(frame)
    columns = [c.name for c in table.columns]
    db = store.database(table.name)
    seen: Counter = Counter()
    quarantined = []
    with db.transaction():  # a file lands whole or not at all
        for start in tqdm(range(0, max(len(frame), 1), CHUNK_ROWS), desc=f"ingesting {path.name}", unit="chunk",
                          disable=not progress or len(frame) <= CHUNK_ROWS):
            rows, quarantine = validate(frame.iloc[start:start + CHUNK_ROWS], table, path)
            bad = rows["source_row"].isin(quarantine["source_row"]) if len(quarantine) else np.zeros(len(rows), bool)
            good = rows[~np.asarray(bad)].copy()
            if pii_policy != "off" and table.pii and len(good):
                good = mask_frame(good, list(table.pii), pii_policy, source=str(path))
            good["row_hash"] = row_hashes(good, table, seen)
            fresh = ~good["row_hash"].duplicated()
            if len(good):
                fresh &= ~good["row_hash"].isin(db.existing(table.name, "row_hash", good["row_hash"].tolist()))
            new = good[fresh].assign(source_file=str(path))
            result.duplicates += int((~fresh).sum())
            db.insert(table.name, new[columns + ["extra", "row_hash", "source_file", "source_row"]])
            if len(quarantine):
                quarantined.append(quarantine.assign(table_name=table.name, source_file=str(path)))
            result.stored += len(new)
            result.quarantined += int(np.asarray(bad).sum())  # rows; quarantine has a line per problem
        # last before the commit: when the quarantine lives in PostgreSQL and the table in DuckDB, a failed commit
        # of the rows then leaves (repeatable) quarantine lines at worst, never rows whose reasons are lost
        if quarantined:
            store.add_quarantine(pd.concat(quarantined, ignore_index=True))
        db.execute("INSERT INTO ingested_files (sha256, table_name, source_file, rows_stored, rows_quarantined, "
                   "rows_duplicate) VALUES (?, ?, ?, ?, ?, ?)",
                   [sha, table.name, str(path), result.stored, result.quarantined, result.duplicates])


# -- ingest beside a running server: the Python work in another process, the store's part in SQL ----------------
def prepare_file(table_name: str, path: str | Path, folder: str | Path, pii_policy: str = "mask") -> dict:
    """Read, validate, mask and hash one file, writing its good rows (``good.parquet``, in the table's layout
    with ``row_hash``) and its quarantine lines (``quarantine.parquet``) into ``folder``; touches no store.

    Run in a process of its own (``ProcessPoolExecutor``) by a server that holds the store, so that this part
    (pandas and Python, seconds per 100,000 rows) does not take the serving process's GIL; ``load_prepared``
    then stores the result with SQL alone."""
    table, path, folder = TABLES[table_name], Path(path), Path(folder)
    frame = read_table(path)
    rows, quarantine = validate(frame, table, path)
    bad = rows["source_row"].isin(quarantine["source_row"]) if len(quarantine) else np.zeros(len(rows), bool)
    good = rows[~np.asarray(bad)].copy()
    if pii_policy != "off" and table.pii and len(good):
        good = mask_frame(good, list(table.pii), pii_policy, source=str(path))
    good["row_hash"] = row_hashes(good, table, Counter())
    repeated = good["row_hash"].duplicated()
    good = good[~repeated].assign(source_file=str(path))
    good[[c.name for c in table.columns] + ["extra", "row_hash", "source_file", "source_row"]].to_parquet(
        folder / "good.parquet")
    lines = (quarantine.assign(table_name=table.name, source_file=str(path)) if len(quarantine) else
             pd.DataFrame(columns=["table_name", "source_file", "source_row", "field", "reason", "raw"]))
    lines[["table_name", "source_file", "source_row", "field", "reason", "raw"]].astype(
        {"source_row": "int64"}).to_parquet(folder / "quarantine.parquet")
    return {"rows": len(frame), "quarantined": int(np.asarray(bad).sum()), "repeated": int(repeated.sum())}


def load_prepared(store: Store, table_name: str, path: str | Path, sha: str, folder: str | Path,
                  counts: dict) -> IngestResult:
    """Store what ``prepare_file`` wrote, in one transaction: the rows whose hash the table does not hold yet,
    the quarantine lines, and the file's entry. On the DuckDB warehouse the rows move in SQL alone (DuckDB runs
    it without Python's GIL); a table in PostgreSQL (an operational one) takes them through pandas."""
    table, folder = TABLES[table_name], Path(folder)
    result = IngestResult(table.name, str(path), rows=counts["rows"], quarantined=counts["quarantined"])
    columns = [c.name for c in table.columns] + ["extra", "row_hash", "source_file", "source_row"]
    good, lines = str(folder / "good.parquet"), pd.read_parquet(folder / "quarantine.parquet")
    db = store.database(table.name)
    with db.transaction():
        if db.fetchone("SELECT 1 FROM ingested_files WHERE sha256 = ? AND table_name = ?", [sha, table.name]):
            result.already_ingested = True
            return result
        if isinstance(db, DuckDatabase):
            quoted = ", ".join(f'"{c}"' for c in columns)
            new = f"FROM read_parquet(?) WHERE row_hash NOT IN (SELECT row_hash FROM {table.name})"
            candidates = db.fetchone("SELECT count(*) FROM read_parquet(?)", [good])[0]
            result.stored = int(db.fetchone(f"SELECT count(*) {new}", [good])[0])
            db.execute(f"INSERT INTO {table.name} ({quoted}) SELECT {quoted} {new}", [good])
        else:
            rows = pd.read_parquet(good)
            candidates = len(rows)
            fresh = rows[~rows["row_hash"].isin(db.existing(table.name, "row_hash", rows["row_hash"].tolist()))]
            db.insert(table.name, fresh[columns])
            result.stored = len(fresh)
        result.duplicates = counts["repeated"] + int(candidates) - result.stored
        if len(lines):
            store.add_quarantine(lines)
        db.execute("INSERT INTO ingested_files (sha256, table_name, source_file, rows_stored, rows_quarantined, "
                   "rows_duplicate) VALUES (?, ?, ?, ?, ?, ?)",
                   [sha, table.name, str(path), result.stored, result.quarantined, result.duplicates])
    return result
