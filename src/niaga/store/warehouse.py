"""The warehouse: one DuckDB file with the business tables and the ingest bookkeeping (the analytics engine),
and the operational tables (model registry, API keys, quarantine, events) in the same file by default or in
PostgreSQL (``store = "postgresql://…"``), all created and upgraded by the versioned migrations of ``schema``."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from pathlib import Path

import duckdb
import pandas as pd

from niaga.errors import DataError, NiagaError
from niaga.modeling import METADATA_FILE, read_metadata
from niaga.store.database import Database, DuckDatabase, PostgresDatabase, describe, postgres_url
from niaga.store.schema import MIGRATIONS, OPERATIONAL, POSTGRES_MIGRATIONS, TABLES

class Store:
    """``with Store(path) as store: ...``; the file and its parent folder are created on first use.

    ``path`` is the DuckDB file, or a PostgreSQL URL: the operational tables (``schema.OPERATIONAL``) then live
    there, shared by every process and machine, and the analytics tables in the DuckDB file ``warehouse``
    (default: the ``warehouse`` setting). ``db`` is the DuckDB warehouse connection; ``ops`` the operational
    tables' database (the same connection by default)."""

    def __init__(self, path: str | Path, read_only: bool = False, warehouse: str | Path | None = None):
        self.url = postgres_url(path)
        if self.url and warehouse is None:
            from niaga.config import settings

            warehouse = settings().warehouse
        self.path = Path(warehouse) if self.url else Path(path)
        self.read_only = read_only
        self.ops: Database | None = None
        self._db: duckdb.DuckDBPyConnection | None = None
        self._warehouse: Database | None = None

    def __enter__(self) -> "Store":
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def where(self) -> str:
        """The store for a message: the file, or the PostgreSQL URL (no password) and the warehouse file."""
        return f"{describe(self.url)} (analytics in {self.path})" if self.url else str(self.path)

    def open(self) -> "Store":
        if not self.url:
            self._open_warehouse()
            self.ops = self._warehouse
            return self
        # the DuckDB file waits until an analytics table is asked for: keys, models, decisions and events change
        # from any process (the CLI beside a running server) without touching the file the server holds
        self.ops = PostgresDatabase(self.url)
        if not self.read_only:
            try:
                _migrate(self.ops, POSTGRES_MIGRATIONS)
            except Exception:
                self.close()
                raise
        return self

    def _open_warehouse(self) -> None:
        if self.path.is_dir():
            raise DataError(f"{self.path}: is a directory; the store is a file (e.g. runs/niaga.duckdb)")
        if self.read_only and not self.path.exists():
            raise DataError(f"{self.path}: no store yet (ingest data or run 'niaga run' first)")
        self._warehouse = DuckDatabase.open(self.path, read_only=self.read_only)
        self._db = self._warehouse.db
        if not self.read_only:
            _migrate(self._warehouse, MIGRATIONS)

    def connection(self) -> "Store":
        """Another connection to this open store, for a thread of its own: its transactions run beside this
        one's (a server's long ingest does not hold up the requests' queries)."""
        other = Store(self.url or self.path, self.read_only, warehouse=self.path if self.url else None)
        other._db = self.db.cursor()
        other._warehouse = DuckDatabase(other._db, str(self.path))
        other.ops = PostgresDatabase(self.url) if self.url else other._warehouse
        return other

    def close(self) -> None:
        if self.ops is not None and self.url:
            self.ops.close()
        self.ops = self._warehouse = None
        if self._db is not None:
            self._db.close()
            self._db = None

    @property
    def db(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB warehouse connection (the analytics tables; everything when the store is a file)."""
        if self._db is None and self.ops is not None:
            self._open_warehouse()
        return self._db

    @property
    def warehouse(self) -> Database:
        return self._warehouse if self.db is not None else None

    def database(self, table: str) -> Database:
        """The database that holds ``table``."""
        return self.ops if table in OPERATIONAL else self.warehouse

    # -- schema -------------------------------------------------------------------------------------
    @property
    def version(self) -> int:
        """The warehouse's schema version (migrations run when the store opens)."""
        return _version(self.warehouse)

    # -- reading ------------------------------------------------------------------------------------
    def table(self, name: str, limit: int | None = None) -> pd.DataFrame:
        if name not in TABLES and name not in ("quarantine", "ingested_files", "models"):
            raise DataError(f"unknown table {name!r}; tables: {', '.join([*TABLES, 'quarantine', 'models'])}")
        return self.database(name).df(f"SELECT * FROM {name}" + (f" LIMIT {int(limit)}" if limit else ""))

    def count(self, name: str) -> int:
        return int(self.database(name).fetchone(f"SELECT count(*) FROM {name}")[0])

    def counts(self) -> dict[str, int]:
        """Rows per business table, and rows in quarantine."""
        return {name: self.count(name) for name in [*TABLES, "quarantine"]}

    def is_empty(self) -> bool:
        return not any(n for name, n in self.counts().items() if name != "quarantine")

    def add_quarantine(self, lines: pd.DataFrame) -> None:
        """Keep the lines of rows that could not be stored: table_name, source_file, source_row, field, reason, raw."""
        self.ops.insert("quarantine", lines[["table_name", "source_file", "source_row", "field", "reason", "raw"]])

    # -- model registry -----------------------------------------------------------------------------
    def register_model(self, capability: str, name: str, path: str | Path) -> dict:
        """Make the directory ``path`` the one that serves ``capability`` / ``name`` (the previous one of that name
        stays listed, inactive): a niaga model, or an output folder with a metrics.json (customer segments)."""
        path = Path(path)
        if not (path / METADATA_FILE).exists() and (path / "metrics.json").is_file():
            metadata = {"task": None, "metrics": json.loads((path / "metrics.json").read_text(encoding="utf-8"))}
        else:
            metadata = read_metadata(path)
        with self.ops.transaction():  # one active model per name, whoever registers at the same time
            self.ops.execute("UPDATE models SET active = FALSE WHERE capability = ? AND name = ?", [capability, name])
            self.ops.execute("INSERT INTO models (capability, name, path, task, metrics) VALUES (?, ?, ?, ?, ?)",
                             [capability, name, str(Path(path).resolve()), metadata.get("task"),
                              json.dumps(metadata.get("metrics", {}), ensure_ascii=False, default=str)])
        return {"capability": capability, "name": name, "path": str(path), "task": metadata.get("task")}

    def models(self, active_only: bool = True) -> pd.DataFrame:
        query = "SELECT * FROM models" + (" WHERE active" if active_only else "") + " ORDER BY capability, name"
        return self.ops.df(query)

    # -- API keys -----------------------------------------------------------------------------------
    def add_key(self, name: str) -> str:
        """A new API key; only its salted hash is stored, so the key is shown this once."""
        key_id = secrets.token_hex(4)
        secret = secrets.token_urlsafe(24)
        salt = secrets.token_hex(16)
        self.ops.execute("INSERT INTO api_keys (key_id, name, salt, hash) VALUES (?, ?, ?, ?)",
                         [key_id, name, salt, _hash(secret, salt)])
        return f"niaga_{key_id}_{secret}"

    def keys(self) -> pd.DataFrame:
        return self.ops.df("SELECT key_id, name, created_at, revoked_at FROM api_keys ORDER BY created_at")

    def revoke_key(self, key_id: str) -> None:
        found = self.ops.execute("UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL "
                                 "RETURNING key_id", [dt.datetime.now(), key_id])
        if not found:
            raise DataError(f"no active API key with id {key_id!r} (see 'niaga serve keys list')")

    def check_key(self, key: str | None) -> str | None:
        """The key's name when it is a valid, unrevoked key; else None."""
        if not key or not key.startswith("niaga_") or key.count("_") < 2:
            return None
        _, key_id, secret = key.split("_", 2)
        row = self.ops.fetchone("SELECT name, salt, hash FROM api_keys WHERE key_id = ? AND revoked_at IS NULL",
                                [key_id])
        if row is None or not secrets.compare_digest(_hash(secret, row[1]), row[2]):
            return None
        return row[0]


def _version(db: Database) -> int:
    if "schema_version" not in db.tables():
        return 0
    return int(db.fetchone("SELECT coalesce(max(version), 0) FROM schema_version")[0])


def _migrate(db: Database, migrations: list[tuple[str, list[str]]]) -> None:
    """Apply ``migrations`` not yet applied to ``db``, each in one transaction, under a lock on PostgreSQL (the API
    processes of several machines may start at once: the first applies it, the others find it applied)."""
    current = _version(db)
    if current > len(migrations):
        raise NiagaError(f"{db.where}: store schema version {current} is newer than this niaga knows "
                         f"({len(migrations)}): upgrade niaga")
    for number in range(current + 1, len(migrations) + 1):
        description, statements = migrations[number - 1]
        with db.migration_lock():
            db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER, description VARCHAR, "
                       "applied_at TIMESTAMP DEFAULT current_timestamp)")
            if _version(db) >= number:
                continue
            for statement in statements:
                db.execute(statement)
            db.execute("INSERT INTO schema_version (version, description) VALUES (?, ?)", [number, description])


def _hash(secret: str, salt: str) -> str:
    # A key holds 192 random bits, so a fast salted hash cannot be brute-forced; a slow password hash
    # (scrypt) would cost tens of milliseconds on every request.
    return hashlib.sha256(bytes.fromhex(salt) + secret.encode()).hexdigest()
