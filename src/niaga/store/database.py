"""One small interface over the two databases the operational tables can live in: DuckDB (the embedded
default: one file, one writing process) and PostgreSQL (``postgresql://…``: many processes on many machines).

The repositories (``Store``'s keys, registry, quarantine and events; the fraud decision log) write their SQL
once, with ``?`` placeholders and what both engines read alike (``row_number() OVER``, ``RETURNING``,
``ALTER TABLE … ADD COLUMN IF NOT EXISTS``, ``DOUBLE PRECISION``), and move frames in and out through
``insert`` / ``df``. DuckDB's own postgres extension cannot be installed everywhere (it is downloaded on
first use), so analytics that need an operational table read it through this layer, not through DuckDB.
"""

from __future__ import annotations

import contextlib
import re
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Iterator, Sequence
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import pandas as pd

from niaga.errors import DataError

# "postgresql://h/db" that went through pathlib (an argparse type, a Path setting) reads "postgresql:/h/db"
_URL = re.compile(r"^(postgresql|postgres):/+")


def postgres_url(target: str | Path | None) -> str | None:
    """The PostgreSQL URL ``target`` names (also after a ``Path`` folded its ``//``), or None for a file."""
    if target is None:
        return None
    text = str(target)
    match = _URL.match(text)
    if not match:
        return None
    return f"{match.group(1)}://{text[match.end():]}"


def describe(target: str | Path) -> str:
    """``target`` fit for a message or a log line: a URL loses its password."""
    url = postgres_url(target)
    if url is None:
        return str(target)
    parts = urlsplit(url)
    query = re.sub(r"(^|&)password=[^&]*", r"\1password=***", parts.query)
    netloc = parts.netloc
    if parts.password is not None:
        netloc = f"{parts.username}:***@{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc, query=query))


class Database(ABC):
    """A connection to one of the engines; ``?`` placeholders in every statement."""

    where: str  # the file or (password-less) URL, for messages

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Run one statement; its rows (none for most writes)."""

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> tuple | None:
        rows = self.execute(sql, params)
        return rows[0] if rows else None

    @abstractmethod
    def df(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        """A query's rows as a pandas frame."""

    @abstractmethod
    def insert(self, table: str, frame: pd.DataFrame) -> int:
        """Append ``frame``'s rows to ``table``, column by name (NaN and NaT as NULL)."""

    @abstractmethod
    def existing(self, table: str, column: str, values: Sequence[str]) -> set:
        """Which of ``values`` ``table.column`` already holds."""

    @abstractmethod
    def transaction(self) -> contextlib.AbstractContextManager:
        """Everything inside lands together or not at all."""

    def migration_lock(self) -> contextlib.AbstractContextManager:
        """A transaction that one process at a time holds: schema changes of processes starting together."""
        return self.transaction()

    def tables(self) -> set[str]:
        return {name for (name,) in self.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")}

    def index(self, table: str, columns: Sequence[str]) -> None:
        """An index for lookups by ``columns`` where the engine needs one: PostgreSQL. DuckDB needs none (its scans
        skip blocks by their min / max), and an index would slow its bulk appends."""

    def columns(self, table: str) -> set[str]:
        return {name for (name,) in self.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = ? AND table_schema = current_schema()", [table])}

    def close(self) -> None:
        pass


class DuckDatabase(Database):
    """A DuckDB connection (opened here from a file, or one the caller already holds)."""

    def __init__(self, connection, where: str = "DuckDB"):
        self.db = connection
        self.where = where

    @classmethod
    def open(cls, path: str | Path, read_only: bool = False, what: str = "the store") -> "DuckDatabase":
        import duckdb

        path = Path(path)
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            return cls(duckdb.connect(str(path), read_only=read_only), str(path))
        except duckdb.Error as exc:
            raise DataError(f"{path}: cannot open {what} ({str(exc).splitlines()[0]})") from exc

    def execute(self, sql, params=()):
        cursor = self.db.execute(sql, list(params))
        return cursor.fetchall() if cursor.description else []

    def df(self, sql, params=()):
        return self.db.execute(sql, list(params)).df()

    def insert(self, table, frame):
        if frame.empty:
            return 0
        view = f"_new_{table}"
        columns = ", ".join(f'"{c}"' for c in frame.columns)
        self.db.register(view, frame)
        try:
            self.db.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {view}")
        finally:
            self.db.unregister(view)
        return len(frame)

    def existing(self, table, column, values):
        if not len(values):
            return set()
        self.db.register("_candidates", pd.DataFrame({"value": list(values)}))
        try:
            return {v for (v,) in self.db.execute(
                f'SELECT "{column}" FROM {table} WHERE "{column}" IN (SELECT value FROM _candidates)').fetchall()}
        finally:
            self.db.unregister("_candidates")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def close(self):
        self.db.close()


class PostgresDatabase(Database):
    """A psycopg (v3) connection in autocommit: a statement outside ``transaction()`` lands at once."""

    def __init__(self, url: str):
        try:
            import psycopg
        except ImportError:
            raise DataError("the store is a PostgreSQL URL but psycopg is not installed: "
                            "pip install 'psycopg[binary]'") from None
        self.where = describe(url)
        self._psycopg = psycopg
        # UTC (beside any options the URL gives): a TIMESTAMP one machine writes is the same instant on another
        self._params = psycopg.conninfo.conninfo_to_dict(postgres_url(url))
        self._params["options"] = (self._params.get("options", "") + " -c TimeZone=UTC").strip()
        self._params.setdefault("connect_timeout", 10)
        self._params.setdefault("client_encoding", "UTF8")  # text as str even from a SQL_ASCII database
        self._transactions = 0
        self._connect()

    def _connect(self) -> None:
        try:
            self.db = self._psycopg.connect(autocommit=True, **self._params)
        except self._psycopg.Error as exc:
            raise DataError(f"{self.where}: cannot connect to PostgreSQL ({str(exc).strip().splitlines()[0]})") from exc

    def _cursor(self):
        # PostgreSQL restarted or the network dropped the connection: a long-lived server goes on with a new one
        # (never inside a transaction, whose statements must not land apart)
        if self.db.broken and not self._transactions:
            self._connect()
        return self.db.cursor()

    @staticmethod
    def _sql(sql: str, params) -> str:
        # psycopg's placeholders are %s (so a literal % doubles); the statements here hold no '?' in literals
        return sql.replace("%", "%%").replace("?", "%s") if params else sql

    def execute(self, sql, params=()):
        with self._cursor() as cursor:
            cursor.execute(self._sql(sql, params), list(params) or None)
            return cursor.fetchall() if cursor.description else []

    def df(self, sql, params=()):
        with self._cursor() as cursor:
            cursor.execute(self._sql(sql, params), list(params) or None)
            names = [column.name for column in cursor.description]
            return pd.DataFrame.from_records(cursor.fetchall(), columns=names, coerce_float=True)

    def insert(self, table, frame):
        if frame.empty:
            return 0
        columns = ", ".join(f'"{c}"' for c in frame.columns)
        with self._cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for start in range(0, len(frame), COPY_ROWS):
                copy.write(_copy_text(frame.iloc[start:start + COPY_ROWS]))
        return len(frame)

    def index(self, table, columns):
        self.execute(f"CREATE INDEX IF NOT EXISTS {table}_{'_'.join(columns)} ON {table} ({', '.join(columns)})")

    def existing(self, table, column, values):
        if not len(values):
            return set()
        return {v for (v,) in self.execute(f'SELECT "{column}" FROM {table} WHERE "{column}" = ANY(?)',
                                           [list(values)])}

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        if self.db.broken and not self._transactions:
            self._connect()
        self._transactions += 1
        try:
            with self.db.transaction():
                yield
        finally:
            self._transactions -= 1

    @contextlib.contextmanager
    def migration_lock(self) -> Iterator[None]:
        with self.transaction():
            self.execute("SELECT pg_advisory_xact_lock(?)", [0x6E69616761])  # "niaga"
            yield

    def close(self):
        self.db.close()


COPY_ROWS = 50_000  # rows per chunk of COPY text: bounded memory for a large ingest


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(frame: pd.DataFrame) -> str:
    """The rows in COPY's text format: tab-separated, ``\\N`` for NaN / NaT / None, whole floats written as
    integers (a BIGINT column takes them, as DuckDB does). Built with numpy and ``str`` methods, a column at a
    time: pandas' per-call overhead would cost more than the rows for the decision writer's small batches."""
    columns = []
    for name in frame.columns:
        values = frame[name].to_numpy()
        missing = pd.isna(values)
        if values.dtype == bool:
            text = np.where(values, "t", "f").astype(object)
        elif values.dtype.kind == "M":
            text = np.datetime_as_string(values, unit="us").astype(object)  # ISO 8601
        elif values.dtype.kind == "f":
            whole = ~missing & np.isfinite(values) & (np.mod(values, 1) == 0) & (np.abs(values) <= 2.0 ** 62)
            text = values.astype(str).astype(object)  # the shortest digits that read back the same number
            text[whole] = values[whole].astype(np.int64).astype(str)
        elif values.dtype.kind in "iu":
            text = values.astype(str).astype(object)
        else:  # text, or Python objects: their str(), with COPY's special characters escaped
            text = np.array([None if gone else str(v).translate(_COPY_ESCAPES) for v, gone in zip(values, missing)],
                            dtype=object)
        text[missing] = "\\N"
        columns.append(text.tolist())
    return "".join("\t".join(row) + "\n" for row in zip(*columns))


def connect(target: str | Path, read_only: bool = False, what: str = "the store") -> Database:
    """The database ``target`` names: a PostgreSQL URL, or a DuckDB file (created unless ``read_only``)."""
    url = postgres_url(target)
    return PostgresDatabase(url) if url else DuckDatabase.open(target, read_only=read_only, what=what)
