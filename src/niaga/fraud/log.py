"""The durable decision log: every decision appended, a review queue, and its resolutions.

It lives in a DuckDB file (a model's ``decisions.duckdb``, or the warehouse file the server writes to) or in
PostgreSQL when given a ``postgresql://`` URL (the ``store`` setting), which every API process shares; the
statements below read the same on both (``niaga.store.database``).

Two tables: ``decisions`` (one row per scored transaction, appended in bulk) and ``resolutions`` (an
investigator's verdict on a transaction). Open cases are ``review`` decisions without a resolution;
resolutions are exported as labels for retraining (``niaga fraud train --labels``).

A decision also keeps what the feature state needs to take its transaction in again (terminal, device, IP,
... and the exact time), the stream it belongs to and its position there (``seq``) and whether it entered
the state (``status``): a stream restarted from a snapshot re-applies the decisions logged after it
(``stream_decisions``) instead of scoring them twice.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import threading
import weakref
from pathlib import Path

import numpy as np
import pandas as pd

from niaga.errors import DataError
from niaga.store.database import connect, postgres_url

LOG_FILE = "decisions.duckdb"
SCHEMA = [
    """CREATE TABLE IF NOT EXISTS decisions (
    transaction_id VARCHAR, ts TIMESTAMP, customer_id VARCHAR, amount DOUBLE PRECISION, fraud_score DOUBLE PRECISION,
    decision VARCHAR, reasons VARCHAR, label DOUBLE PRECISION, file VARCHAR, logged_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS resolutions (
    transaction_id VARCHAR, label INTEGER, note VARCHAR, resolved_at TIMESTAMP)""",
]
#: columns added for resuming a stream (older logs gain them when opened; their old rows hold NULL)
RESUME_COLUMNS = {"input_row": "BIGINT", "stream": "VARCHAR", "seq": "BIGINT", "status": "VARCHAR",
                  "epoch": "DOUBLE PRECISION", "terminal_id": "VARCHAR", "signup_epoch": "DOUBLE PRECISION",
                  "device_id": "VARCHAR", "ip_address": "DOUBLE PRECISION", "source": "VARCHAR", "browser": "VARCHAR",
                  "sex": "VARCHAR", "age": "DOUBLE PRECISION"}
#: lookups a long log answers without reading it all (on PostgreSQL; DuckDB scans)
INDEXES = [("decisions", ("transaction_id",)), ("decisions", ("decision",)), ("decisions", ("stream", "seq")),
           ("resolutions", ("transaction_id",))]
LABELS = {"fraud": 1, "legit": 0, "1": 1, "0": 0, "genuine": 0}


class DecisionLog:
    """The decisions and resolutions in a DuckDB file or a PostgreSQL database (``postgresql://…``); open it
    with ``with DecisionLog(path) as log``."""

    def __init__(self, path: str | Path):
        self.path = postgres_url(path) or Path(path)

    def __enter__(self) -> "DecisionLog":
        self.db = connect(self.path, what="the decision log")
        try:
            missing = RESUME_COLUMNS.keys() - self.db.columns("decisions")
            if missing or not {"decisions", "resolutions"} <= self.db.tables():
                with self.db.migration_lock():  # API processes starting together add the columns once
                    for statement in SCHEMA:
                        self.db.execute(statement)
                    for name in RESUME_COLUMNS.keys() - self.db.columns("decisions"):
                        self.db.execute(f"ALTER TABLE decisions ADD COLUMN IF NOT EXISTS {name} {RESUME_COLUMNS[name]}")
                    for table, columns in INDEXES:
                        self.db.index(table, columns)
        except Exception:
            self.db.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.db.close()

    def append(self, canonical: pd.DataFrame, scored: pd.DataFrame, stream: str | None = None,
               seq: np.ndarray | None = None) -> int:
        """Append the decisions of ``scored`` (score_frame's output) with their transactions' context.

        ``stream``, ``seq``: the stream the decisions belong to and their positions in it (for resuming)."""
        def text(column: str) -> pd.Series:
            values = canonical[column] if column in canonical else pd.Series(None, index=canonical.index)
            return values.astype(object).where(values.notna(), None)

        reasons = scored["reasons"].astype(str)
        status = np.where(reasons.str.startswith("invalid input").to_numpy(), "invalid",
                          np.where(reasons.str.startswith("out of order").to_numpy(), "out_of_order", "scored"))
        rows = pd.DataFrame({
            "transaction_id": scored["transaction_id"].astype(object).where(scored["transaction_id"].notna(), None),
            "ts": canonical["timestamp"].to_numpy(),
            "customer_id": text("customer_id"),
            "amount": canonical["amount"].to_numpy(dtype=float),
            "fraud_score": scored["fraud_score"].to_numpy(dtype=float),
            "decision": scored["decision"].astype(str), "reasons": reasons,
            "label": canonical["label"].to_numpy(dtype=float),
            "file": canonical["file"].astype(str) if "file" in canonical else None,
            "logged_at": dt.datetime.now(dt.timezone.utc).replace(tzinfo=None),
            "input_row": canonical["row"].to_numpy(dtype=np.int64) if "row" in canonical else None,
            "stream": stream, "seq": np.asarray(seq, dtype=np.int64) if seq is not None else None,
            "status": status, "epoch": canonical["ts"].to_numpy(dtype=float),
            "terminal_id": text("terminal_id"), "signup_epoch": canonical["signup_ts"].to_numpy(dtype=float),
            "device_id": text("device_id"), "ip_address": canonical["ip_address"].to_numpy(dtype=float),
            "source": text("source"), "browser": text("browser"), "sex": text("sex"),
            "age": canonical["age"].to_numpy(dtype=float),
        }, index=canonical.index)
        return self.db.insert("decisions", rows)

    def stream_decisions(self, stream: str, after_seq: int = 0) -> pd.DataFrame:
        """The decisions of one stream after position ``after_seq``, in stream order, with what the feature
        state needs to take their transactions in again (``FraudScorer.resume``)."""
        return self.db.df("""
            SELECT transaction_id, epoch, amount, customer_id, terminal_id, label, signup_epoch, device_id,
                   ip_address, source, browser, sex, age, status, seq, fraud_score, decision, reasons, file, input_row
            FROM decisions WHERE stream = ? AND seq > ? ORDER BY seq""", [stream, int(after_seq)])

    def stream_rows(self, stream: str) -> pd.DataFrame:
        """Every decision of a stream, keyed by the input file and row it answered (to skip them on a rerun)."""
        return self.db.df("""
            SELECT file, input_row, transaction_id, fraud_score, decision, reasons FROM decisions
            WHERE stream = ? ORDER BY seq""", [stream])

    def _cases_query(self, status: str) -> str:
        where = {"open": "r.transaction_id IS NULL", "resolved": "r.transaction_id IS NOT NULL", "all": "TRUE"}[status]
        return f"""
            WITH latest AS ({_latest("decisions", "logged_at", "transaction_id IN "
                                 "(SELECT transaction_id FROM decisions WHERE decision = 'review')")}),
                 last_resolution AS ({_latest("resolutions", "resolved_at")})
            SELECT d.transaction_id, d.ts, d.customer_id, d.amount, d.fraud_score, d.reasons,
                   CASE r.label WHEN 1 THEN 'fraud' WHEN 0 THEN 'legit' END AS resolution, r.note
            FROM latest d LEFT JOIN last_resolution r USING (transaction_id)
            WHERE d.decision = 'review' AND {where}"""

    def cases(self, status: str = "open", limit: int | None = 50) -> pd.DataFrame:
        """Review-queue cases: ``open`` (unresolved), ``resolved`` or ``all``; highest score first."""
        query = self._cases_query(status) + " ORDER BY d.fraud_score DESC NULLS LAST, d.ts"
        return self.db.df(query + (f" LIMIT {int(limit)}" if limit else ""))

    def case_count(self, status: str = "open") -> int:
        """How many cases of that status the queue holds (``cases`` shows at most its limit)."""
        return int(self.db.fetchone(f"SELECT count(*) FROM ({self._cases_query(status)}) AS cases")[0])

    def resolve(self, transaction_id: str, label: str, note: str = "") -> None:
        value = LABELS.get(str(label).strip().lower())
        if value is None:
            raise DataError(f"label must be 'fraud' or 'legit', got {label!r}")
        found = self.db.fetchone("SELECT count(*) FROM decisions WHERE transaction_id = ?", [str(transaction_id)])[0]
        if not found:
            raise DataError(f"{self.db.where}: no decision logged for transaction {transaction_id!r}")
        self.db.execute("INSERT INTO resolutions VALUES (?, ?, ?, ?)",
                        [str(transaction_id), value, note, dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)])

    def resolved_labels(self) -> pd.DataFrame:
        """transaction_id, label (1 fraud / 0 legit): the latest resolution of each transaction."""
        return self.db.df(f"""SELECT transaction_id, label FROM ({_latest("resolutions", "resolved_at")}) AS latest
                              ORDER BY transaction_id""")

    def counts(self) -> dict:
        rows = self.db.execute("SELECT decision, count(*) FROM decisions GROUP BY decision")
        return {decision: int(n) for decision, n in rows}


def _latest(table: str, time_column: str, where: str = "TRUE") -> str:
    """Each transaction's latest row of ``table`` among those ``where`` picks (a subquery rather than DuckDB's
    QUALIFY, which PostgreSQL lacks)."""
    return (f"SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY transaction_id ORDER BY {time_column} DESC) "
            f"AS latest_rank FROM {table} WHERE {where}) AS ranked WHERE latest_rank = 1")
class DecisionWriter:
    """Appends served decisions to the log in batches, on a thread of its own, off the request path.

    Opening the log, building a frame and one insert cost tens of milliseconds per call, whatever the number of
    rows: per request they capped scoring at a few dozen requests per second. A decision is answered at once
    and logged within about ``PAUSE`` seconds, with the others that came meanwhile; the log stays open while
    decisions keep coming and is closed after ``IDLE_CLOSE`` seconds without any. Everything that reads the log
    in this process (the case queue, resolving) flushes first, so it always sees every decision answered.

    ``writing``: a bound method returning the lock to hold while writing to the file another connection of the
    process also uses (the server's store); held weakly, so the writer ends with its owner.
    """

    PAUSE = 0.1
    IDLE_CLOSE = 2.0

    def __init__(self, path, writing):
        self.path = path
        self._writing = weakref.WeakMethod(writing)
        self.pending: list = []  # FraudScorer.journal entries: (seq, parsed transaction, decision)
        self.lock = threading.Lock()  # guards pending
        self.flushing = threading.Lock()  # one flush at a time: a reader that flushes waits for a running one
        self.scoring = threading.Lock()  # the scorer carries one stream's state: one transaction at a time
        self.wake = threading.Event()
        self.log: DecisionLog | None = None
        threading.Thread(target=self._run, daemon=True, name="fraud-decision-log").start()
        atexit.register(self._last_flush)  # a clean exit logs what is pending

    def writing(self):
        writing = self._writing()
        if writing is None:
            raise ReferenceError("the decision log's owner is gone")
        return writing()

    def score(self, scorer, record: dict) -> dict:
        """Score one transaction with ``scorer`` (a FraudScorer) and queue its decision for the log."""
        with self.scoring:
            if scorer.journal is None:  # score() then keeps what the log needs, parsed once
                scorer.journal = []
            result = scorer.score(record)
            entry = scorer.journal.pop()
        self.add(entry)
        return result

    def add(self, entry) -> None:
        with self.lock:
            self.pending.append(entry)
        self.wake.set()

    def flush(self) -> None:
        from niaga.fraud.checkpoint import journal_tables  # the checkpoint module builds on this one

        with self.flushing:
            with self.lock:
                batch, self.pending = self.pending, []
            if not batch:
                return
            # a transaction answered twice (the repeat refused as a duplicate) goes into a later append: the case
            # queue takes each transaction's latest row by its logging time, which one append shares
            segments, ids = [[]], set()
            for entry in batch:
                if entry[2]["transaction_id"] in ids:
                    segments.append([])
                    ids.clear()
                ids.add(entry[2]["transaction_id"])
                segments[-1].append(entry)
            frames = [journal_tables(segment) for segment in segments]
            with self.writing():
                if self.log is None:
                    self.log = DecisionLog(self.path).__enter__()
                for canonical, results in frames:
                    self.log.append(canonical, results)

    def close_log(self) -> None:
        """Let go of the log file (idle, or the owner closed)."""
        with self.flushing:
            if self.log is None:
                return
            try:
                with self.writing():
                    self.log.__exit__(None, None, None)
            except ReferenceError:  # the owner is gone: nobody else writes through it
                self.log.__exit__(None, None, None)
            self.log = None

    def _last_flush(self) -> None:
        try:
            self.flush()
        except ReferenceError:  # the owner was closed with nothing pending
            pass
        self.close_log()

    def _run(self) -> None:
        while True:
            if not self.wake.wait(self.IDLE_CLOSE):
                self.close_log()
                self.wake.wait()
            threading.Event().wait(self.PAUSE)  # let the batch gather
            self.wake.clear()
            try:
                self.flush()
            except ReferenceError:  # the owner was closed
                self.close_log()
                return
            except Exception:  # noqa: BLE001 — keep logging later batches; this one is reported, not dropped silently
                logging.getLogger("niaga.serve").exception("could not append decisions to the decision log")


def decision_writer(owner, path, writing) -> DecisionWriter:
    """The one DecisionWriter of ``owner`` (a server's services), made on first use and kept on the owner."""
    with _WRITERS_LOCK:
        writer = getattr(owner, "fraud_decision_writer", None)
        if writer is None:
            writer = owner.fraud_decision_writer = DecisionWriter(path, writing)
        return writer


_WRITERS_LOCK = threading.Lock()
