"""The durable decision log (DuckDB): every decision appended, a review queue, and its resolutions.

Two tables: ``decisions`` (one row per scored transaction, appended in bulk) and ``resolutions`` (an
investigator's verdict on a transaction). Open cases are ``review`` decisions without a resolution;
resolutions are exported as labels for retraining (``niaga fraud train --labels``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from niaga.errors import DataError

LOG_FILE = "decisions.duckdb"
SCHEMA = """
CREATE TABLE IF NOT EXISTS decisions (
    transaction_id VARCHAR, ts TIMESTAMP, customer_id VARCHAR, amount DOUBLE, fraud_score DOUBLE,
    decision VARCHAR, reasons VARCHAR, label DOUBLE, file VARCHAR, logged_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS resolutions (
    transaction_id VARCHAR, label INTEGER, note VARCHAR, resolved_at TIMESTAMP);
"""
LABELS = {"fraud": 1, "legit": 0, "1": 1, "0": 0, "genuine": 0}


class DecisionLog:
    """A DuckDB file holding the decisions and resolutions; open it with ``with DecisionLog(path) as log``."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def __enter__(self) -> "DecisionLog":
        import duckdb

        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = duckdb.connect(str(self.path))
        except duckdb.Error as exc:
            raise DataError(f"{self.path}: cannot open the decision log ({str(exc).splitlines()[0]})") from exc
        self.db.execute(SCHEMA)
        return self

    def __exit__(self, *exc) -> None:
        self.db.close()

    def append(self, canonical: pd.DataFrame, scored: pd.DataFrame) -> int:
        """Append the decisions of ``scored`` (score_frame's output) with their transactions' context."""
        rows = pd.DataFrame({
            "transaction_id": scored["transaction_id"].astype(object).where(scored["transaction_id"].notna(), None),
            "ts": canonical["timestamp"].to_numpy(),
            "customer_id": canonical["customer_id"].astype(object).where(canonical["customer_id"].notna(), None),
            "amount": canonical["amount"].to_numpy(dtype=float),
            "fraud_score": scored["fraud_score"].to_numpy(dtype=float),
            "decision": scored["decision"].astype(str), "reasons": scored["reasons"].astype(str),
            "label": canonical["label"].to_numpy(dtype=float),
            "file": canonical["file"].astype(str) if "file" in canonical else "",
            "logged_at": dt.datetime.now(dt.timezone.utc).replace(tzinfo=None),
        })
        self.db.register("new_decisions", rows)
        self.db.execute("INSERT INTO decisions SELECT * FROM new_decisions")
        self.db.unregister("new_decisions")
        return len(rows)

    def _cases_query(self, status: str) -> str:
        where = {"open": "r.transaction_id IS NULL", "resolved": "r.transaction_id IS NOT NULL", "all": "TRUE"}[status]
        return f"""
            WITH latest AS (SELECT * FROM decisions QUALIFY row_number() OVER
                            (PARTITION BY transaction_id ORDER BY logged_at DESC) = 1),
                 last_resolution AS (SELECT * FROM resolutions QUALIFY row_number() OVER
                            (PARTITION BY transaction_id ORDER BY resolved_at DESC) = 1)
            SELECT d.transaction_id, d.ts, d.customer_id, d.amount, d.fraud_score, d.reasons,
                   CASE r.label WHEN 1 THEN 'fraud' WHEN 0 THEN 'legit' END AS resolution, r.note
            FROM latest d LEFT JOIN last_resolution r USING (transaction_id)
            WHERE d.decision = 'review' AND {where}"""

    def cases(self, status: str = "open", limit: int | None = 50) -> pd.DataFrame:
        """Review-queue cases: ``open`` (unresolved), ``resolved`` or ``all``; highest score first."""
        query = self._cases_query(status) + " ORDER BY d.fraud_score DESC NULLS LAST, d.ts"
        return self.db.execute(query + (f" LIMIT {int(limit)}" if limit else "")).df()

    def case_count(self, status: str = "open") -> int:
        """How many cases of that status the queue holds (``cases`` shows at most its limit)."""
        return int(self.db.execute(f"SELECT count(*) FROM ({self._cases_query(status)})").fetchone()[0])

    def resolve(self, transaction_id: str, label: str, note: str = "") -> None:
        value = LABELS.get(str(label).strip().lower())
        if value is None:
            raise DataError(f"label must be 'fraud' or 'legit', got {label!r}")
        found = self.db.execute("SELECT count(*) FROM decisions WHERE transaction_id = ?",
                                [str(transaction_id)]).fetchone()[0]
        if not found:
            raise DataError(f"{self.path}: no decision logged for transaction {transaction_id!r}")
        self.db.execute("INSERT INTO resolutions VALUES (?, ?, ?, ?)",
                        [str(transaction_id), value, note, dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)])

    def resolved_labels(self) -> pd.DataFrame:
        """transaction_id, label (1 fraud / 0 legit): the latest resolution of each transaction."""
        return self.db.execute("""
            SELECT transaction_id, label FROM resolutions QUALIFY row_number() OVER
            (PARTITION BY transaction_id ORDER BY resolved_at DESC) = 1 ORDER BY transaction_id""").df()

    def counts(self) -> dict:
        rows = self.db.execute("SELECT decision, count(*) FROM decisions GROUP BY decision").fetchall()
        return {decision: int(n) for decision, n in rows}
