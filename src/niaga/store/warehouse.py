"""The embedded warehouse: one DuckDB file with the business tables, the ingest bookkeeping, the model
registry and the API keys, created and upgraded by the versioned migrations of ``schema``."""

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
from niaga.store.schema import MIGRATIONS, TABLES


class Store:
    """``with Store(path) as store: ...``; the file and its parent folder are created on first use."""

    def __init__(self, path: str | Path, read_only: bool = False):
        self.path = Path(path)
        self.read_only = read_only
        self.db: duckdb.DuckDBPyConnection | None = None

    def __enter__(self) -> "Store":
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    def open(self) -> "Store":
        if self.path.is_dir():
            raise DataError(f"{self.path}: is a directory; the store is a file (e.g. runs/niaga.duckdb)")
        if self.read_only and not self.path.exists():
            raise DataError(f"{self.path}: no store yet (ingest data or run 'niaga run' first)")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = duckdb.connect(str(self.path), read_only=self.read_only)
        except duckdb.Error as exc:
            raise DataError(f"{self.path}: cannot open the store ({str(exc).splitlines()[0]})") from exc
        if not self.read_only:
            self.migrate()
        return self

    def connection(self) -> "Store":
        """Another connection to this open store, for a thread of its own: its transactions run beside this
        one's (a server's long ingest does not hold up the requests' queries)."""
        other = Store(self.path, self.read_only)
        other.db = self.db.cursor()
        return other

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None

    # -- schema -------------------------------------------------------------------------------------
    @property
    def version(self) -> int:
        self.db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER, description VARCHAR, "
                        "applied_at TIMESTAMP DEFAULT current_timestamp)")
        return int(self.db.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0])

    def migrate(self) -> int:
        """Apply the migrations not yet applied, each in one transaction; returns the schema version."""
        current = self.version
        if current > len(MIGRATIONS):
            raise NiagaError(f"{self.path}: store schema version {current} is newer than this niaga knows "
                             f"({len(MIGRATIONS)}): upgrade niaga")
        for number, (description, statements) in enumerate(MIGRATIONS[current:], start=current + 1):
            self.db.execute("BEGIN TRANSACTION")
            for statement in statements:
                self.db.execute(statement)
            self.db.execute("INSERT INTO schema_version (version, description) VALUES (?, ?)", [number, description])
            self.db.execute("COMMIT")
        return self.version

    # -- reading ------------------------------------------------------------------------------------
    def table(self, name: str, limit: int | None = None) -> pd.DataFrame:
        if name not in TABLES and name not in ("quarantine", "ingested_files", "models"):
            raise DataError(f"unknown table {name!r}; tables: {', '.join([*TABLES, 'quarantine', 'models'])}")
        return self.db.execute(f"SELECT * FROM {name}" + (f" LIMIT {int(limit)}" if limit else "")).df()

    def counts(self) -> dict[str, int]:
        """Rows per business table, and rows in quarantine."""
        return {name: int(self.db.execute(f"SELECT count(*) FROM {name}").fetchone()[0])
                for name in [*TABLES, "quarantine"]}

    def is_empty(self) -> bool:
        return not any(n for name, n in self.counts().items() if name != "quarantine")

    # -- model registry -----------------------------------------------------------------------------
    def register_model(self, capability: str, name: str, path: str | Path) -> dict:
        """Make the directory ``path`` the one that serves ``capability`` / ``name`` (the previous one of that name
        stays listed, inactive): a niaga model, or an output folder with a metrics.json (customer segments)."""
        path = Path(path)
        if not (path / METADATA_FILE).exists() and (path / "metrics.json").is_file():
            metadata = {"task": None, "metrics": json.loads((path / "metrics.json").read_text(encoding="utf-8"))}
        else:
            metadata = read_metadata(path)
        self.db.execute("UPDATE models SET active = FALSE WHERE capability = ? AND name = ?", [capability, name])
        self.db.execute("INSERT INTO models (capability, name, path, task, metrics) VALUES (?, ?, ?, ?, ?)",
                        [capability, name, str(Path(path).resolve()), metadata.get("task"),
                         json.dumps(metadata.get("metrics", {}), ensure_ascii=False, default=str)])
        return {"capability": capability, "name": name, "path": str(path), "task": metadata.get("task")}

    def models(self, active_only: bool = True) -> pd.DataFrame:
        query = "SELECT * FROM models" + (" WHERE active" if active_only else "") + " ORDER BY capability, name"
        return self.db.execute(query).df()

    # -- API keys -----------------------------------------------------------------------------------
    def add_key(self, name: str) -> str:
        """A new API key; only its salted hash is stored, so the key is shown this once."""
        key_id = secrets.token_hex(4)
        secret = secrets.token_urlsafe(24)
        salt = secrets.token_hex(16)
        self.db.execute("INSERT INTO api_keys (key_id, name, salt, hash) VALUES (?, ?, ?, ?)",
                        [key_id, name, salt, _hash(secret, salt)])
        return f"niaga_{key_id}_{secret}"

    def keys(self) -> pd.DataFrame:
        return self.db.execute("SELECT key_id, name, created_at, revoked_at FROM api_keys ORDER BY created_at").df()

    def revoke_key(self, key_id: str) -> None:
        found = self.db.execute("UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL "
                                "RETURNING key_id", [dt.datetime.now(), key_id]).fetchall()
        if not found:
            raise DataError(f"no active API key with id {key_id!r} (see 'niaga serve keys list')")

    def check_key(self, key: str | None) -> str | None:
        """The key's name when it is a valid, unrevoked key; else None."""
        if not key or not key.startswith("niaga_") or key.count("_") < 2:
            return None
        _, key_id, secret = key.split("_", 2)
        row = self.db.execute("SELECT name, salt, hash FROM api_keys WHERE key_id = ? AND revoked_at IS NULL",
                              [key_id]).fetchone()
        if row is None or not secrets.compare_digest(_hash(secret, row[1]), row[2]):
            return None
        return row[0]


def _hash(secret: str, salt: str) -> str:
    # A key holds 192 random bits, so a fast salted hash cannot be brute-forced; a slow password hash
    # (scrypt) would cost tens of milliseconds on every request.
    return hashlib.sha256(bytes.fromhex(salt) + secret.encode()).hexdigest()
