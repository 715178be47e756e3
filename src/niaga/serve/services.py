"""What the server holds while it runs: the settings, the store, the models of the registry (loaded once,
on first use), the API keys it has checked, and the Prometheus metrics. The routers and the dashboard call
capability functions through it; no capability knows it exists."""

from __future__ import annotations

import gc
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from prometheus_client import CollectorRegistry, Counter, Histogram

from niaga.config import Settings
from niaga.errors import NiagaError
from niaga.store import Store
from niaga.store.owner import Owner

KEY_CACHE_SECONDS = 5.0  # a checked key is checked again (in the background) when it is older than this
# the registry is read again (in the background) after this long: not a query on every request; a model
# registered or re-registered by another process serves within it, one registered through this server at once
REGISTRY_SECONDS = 5.0
VIEW_SECONDS = 30.0  # a dashboard summary of the warehouse is computed again when older than this
VIEWS_KEPT = 16


class NotServed(NiagaError):
    """No model of that capability is registered: the endpoint answers 404 and says how to add one."""


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self):
        self.requests = Counter("niaga_requests", "HTTP requests", ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("niaga_request_seconds", "HTTP request latency", ["method", "route"],
                                 buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10),
                                 registry=self.registry)
        self.scores = Histogram("niaga_model_score", "Scores and confidences the models returned", ["capability"],
                                buckets=tuple(i / 10 for i in range(1, 11)), registry=self.registry)
        self.decisions = Counter("niaga_fraud_decisions", "Fraud decisions by type", ["decision"],
                                 registry=self.registry)


class Services:
    def __init__(self, settings: Settings, owner: Path | None = None):
        """``owner``: the socket of the process that holds the store, for the other workers of
        ``niaga serve --workers N``, which serve the stateless endpoints and ask it for keys and the registry."""
        self.settings = settings
        self.owner = Owner(owner) if owner is not None else None
        self.store = Store(settings.store, warehouse=settings.warehouse).open() if owner is None else None
        self.metrics = Metrics()
        self._models: dict[tuple[str, str], Any] = {}
        self._keys: dict[str, tuple[str, float]] = {}
        self._registry: tuple[float, list[dict]] | None = None  # (read again after, rows)
        self._lock = threading.Lock()
        self._ingesting = threading.Lock()
        self._refreshing: set[str] = set()  # what is being read again in the background (registry, keys)
        self._refreshing_lock = threading.Lock()
        self._views: dict[tuple, tuple[float, Any]] = {}  # page parts computed from the warehouse, by key

    def close(self) -> None:
        if self.store is not None:
            self.store.close()

    def forget(self) -> None:
        """Ask the store again at the next request: a key revoked or a model registered through this server
        counts at once, not after the caches' few seconds."""
        self._keys.clear()
        self._registry = None
        self._views.clear()

    def view(self, key: tuple, compute: Callable[[], Any], seconds: float = VIEW_SECONDS) -> Any:
        """``compute()``, or what it gave for ``key`` less than ``seconds`` ago: a dashboard page summarises the
        whole warehouse (a quarter of a second of queries and charts), which changes by ingests, not by the
        second; the few most recent keys are kept."""
        now = time.monotonic()
        hit = self._views.get(key)
        if hit is not None and now - hit[0] < seconds:
            return hit[1]
        value = compute()
        if len(self._views) >= VIEWS_KEPT:
            self._views.pop(next(iter(self._views)), None)
        self._views[key] = (now, value)
        return value

    def ingest(self, table: str, paths: list, pii_policy: str | None = None) -> tuple[list, int]:
        """(the files' ``IngestResult``s, rows the table now holds): the validated, idempotent ingest with
        quarantine, while requests keep being served. Reading, validating, masking and hashing (pandas, seconds
        per 100,000 rows) run in a process of their own, so they do not take this process's GIL from the
        requests; storing is SQL on a connection of its own. One ingest at a time: "was this file ingested?"
        and its insert must not interleave with another's."""
        import tempfile
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import get_context

        from niaga.errors import DataError
        from niaga.modeling import sha256_file
        from niaga.privacy import load_secret
        from niaga.privacy.mask import check_policy
        from niaga.store.ingest import IngestResult, load_prepared, prepare_file
        from niaga.store.schema import TABLES

        policy = pii_policy or self.settings.pii_policy
        if table not in TABLES:
            raise DataError(f"unknown table {table!r}; tables: {', '.join(TABLES)}")
        if policy != "off":
            check_policy(policy)
            if policy == "pseudonymize":
                load_secret()  # refuse before any work when there is no secret to key the pseudonyms
        for path in map(Path, paths):
            if not path.is_file():
                raise DataError(f"{path}: file not found")
        results = []
        with self._ingesting, ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
            store = self.store.connection()
            try:
                for path in map(Path, paths):
                    sha = sha256_file(path)
                    if store.database(table).fetchone("SELECT 1 FROM ingested_files WHERE sha256 = ? AND "
                                                      "table_name = ?", [sha, table]):
                        results.append(IngestResult(table, str(path), already_ingested=True))
                        continue
                    with tempfile.TemporaryDirectory(prefix="niaga-ingest-") as folder:
                        counts = pool.submit(prepare_file, table, path, folder, policy).result()
                        results.append(load_prepared(store, table, path, sha, folder, counts))
                return results, store.counts()[table]
            finally:
                store.close()

    def writing(self):
        """Hold the store's lock while another connection of this process writes to the same file."""
        return self._lock

    def read(self, query: Callable[[Store], Any]) -> Any:
        """``query(store)`` under the lock: one DuckDB connection serves requests on several threads."""
        with self._lock:
            return query(self.store)

    # -- models of the registry ---------------------------------------------------------------------
    def registered(self) -> list[dict]:
        """The active models. Read once and then again every ``REGISTRY_SECONDS``, in the background: a request
        gets the rows read last and never waits for the store (which a long ingest or a decision-log flush may
        hold for seconds); after ``forget`` the next request reads them itself."""
        if self._registry is None:
            self._read_registry()
        elif not self.registry_fresh():
            self._in_background("registry", self._read_registry)
        return self._registry[1]

    def _read_registry(self) -> None:
        if self.owner is not None:
            rows = self.owner.call("GET", "/admin/models")
        else:
            rows = self.read(lambda store: store.models().to_dict("records"))
        self._registry = (time.monotonic() + REGISTRY_SECONDS, rows)

    def _in_background(self, name: str, work: Callable[[], Any]) -> None:
        """``work()`` on a thread, unless one for ``name`` already runs."""
        with self._refreshing_lock:
            if name in self._refreshing:
                return
            self._refreshing.add(name)

        def run():
            try:
                work()
            except Exception:  # noqa: BLE001 — the last value keeps serving; the next expiry tries again
                logging.getLogger("niaga.serve").exception("could not refresh %s", name.split(":")[0])
            finally:
                with self._refreshing_lock:
                    self._refreshing.discard(name)

        threading.Thread(target=run, daemon=True, name=f"niaga-refresh-{name.split(':')[0]}").start()

    def registry_fresh(self) -> bool:
        return self._registry is not None and time.monotonic() <= self._registry[0]

    def model_ready(self, capability: str, name: str) -> bool:
        """Whether ``model(capability, name, ...)`` answers from memory (no store query, no load): an async
        endpoint calls it directly then, and in a worker thread otherwise."""
        return self._registry is not None and (capability, name) in self._models

    def path(self, capability: str, name: str) -> Path:
        rows = [r for r in self.registered() if r["capability"] == capability and r["name"] == name]
        if not rows:
            raise NotServed(f"no {capability} model '{name}' is registered: train one and add it with "
                            f"'niaga serve models add {capability} {name} MODEL_DIR' (or run 'niaga run')")
        return Path(rows[0]["path"])

    def model(self, capability: str, name: str, load: Callable[[Path], Any]) -> Any:
        """The loaded model (``load(path)``, once per path: re-registering a new directory reloads it)."""
        path = self.path(capability, name)
        cached = self._models.get((capability, name))
        if cached is None or cached[0] != path:
            cached = self._models[(capability, name)] = (path, load(path))
            # a model is many long-lived objects: out of the collector's full passes, which would otherwise
            # walk them all and stall the requests of the moment for tens of milliseconds
            gc.freeze()
        return cached[1]

    # -- API keys -----------------------------------------------------------------------------------
    def cached_key_name(self, key: str | None) -> str | None:
        """The key's name when it was checked before (None: ask ``key_name``). Checked more than
        ``KEY_CACHE_SECONDS`` ago, it is checked again in the background while this request goes on: a revoked
        key stops working within about that long (at once when revoked through this server), and no request
        waits for the store."""
        hit = self._keys.get(key) if key else None
        if hit is None:
            return None
        if time.monotonic() - hit[1] >= KEY_CACHE_SECONDS:
            self._in_background(f"key:{key}", lambda: self._check_key(key))
        return hit[0]

    def key_name(self, key: str | None) -> str | None:
        """The key's name when it is valid (asks the store unless it was checked before)."""
        if not key:
            return None
        return self.cached_key_name(key) or self._check_key(key)

    def _check_key(self, key: str) -> str | None:
        if self.owner is not None:
            name = self.owner.call("POST", "/admin/keys/check", {"key": key})["name"]
        else:
            name = self.read(lambda store: store.check_key(key))
        if name is None:
            self._keys.pop(key, None)
        else:
            self._keys[key] = (name, time.monotonic())
        return name
