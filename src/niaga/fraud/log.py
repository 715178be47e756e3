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

import datetime as dt
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
