"""The in-process real-time scorer: online feature state → rules → model → calibrated score → decision.

``score`` takes one transaction (a dict) and answers at once. ``score_frame`` streams a table through the
same state in timestamp order and scores in micro-batches: each transaction's features (and rules) are
computed, one at a time, before any later transaction is seen, and labels reach the state only after their
delay, so the features are exactly those of one-at-a-time scoring; only the model runs on a batch of rows
(a test checks that both give the same output). Bad input never raises: the row gets the decision ``review``, no
score, and the reason ``invalid input: …``. A transaction older than the state's latest one is scored from
the history up to its time and flagged "out of order"; it does not enter the state.
"""

from __future__ import annotations

import gc
import math
import time
import uuid
from collections import deque
from dataclasses import replace
from operator import itemgetter
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from niaga.fraud.features import OnlineFeatureState, stream_columns
from niaga.fraud.model import FraudModel
from niaga.fraud.rules import RuleSet
from niaga.fraud.schema import TransactionRecord, parse_record, sort_stream

INVALID_DECISION = "review"
OUTPUT_COLUMNS = ["fraud_score", "decision", "reasons"]


#: the transaction fields rules may name (rules.RECORD_FIELDS order): transaction_id, customer_id, terminal_id,
#: device_id, ip_address of a TransactionRecord (by position: itemgetter is the cheapest per transaction)
rule_fields = itemgetter(*(TransactionRecord._fields.index(f) for f in ("transaction_id", "customer_id", "terminal_id",
                                                                       "device_id", "ip_address")))
#: what _admit answers for a transaction older than the state's latest: scored, flagged, not added
OUT_OF_ORDER = "out of order"
#: the status of a decision in the log: entered the state, scored from the past without entering, refused
STATUSES = ("scored", "out_of_order", "invalid")


class StreamInterrupted(Exception):
    """A stop was requested (SIGTERM, Ctrl-C) and honoured at a safe point, after a checkpoint."""

    def __init__(self, processed: int):
        super().__init__(f"stopped after {processed:,} transactions")
        self.processed = processed


def when(ts: float) -> str:
    """Epoch seconds as a readable UTC time (for messages)."""
    if ts is None or not math.isfinite(ts):
        return "-"
    return str(pd.Timestamp(ts, unit="s").floor("s"))


class FraudScorer:
    """Keeps the online feature state of one stream and scores its transactions.

    The state can be saved and restored (``snapshot`` / ``restore``: a versioned data file, see
    ``niaga.fraud.state``), and a stream resumed after a crash from its last snapshot plus the decisions
    logged after it (``resume``), so that no transaction is lost or scored twice.
    """

    def __init__(self, model: FraudModel, rules: RuleSet, label_delay_days: float | None = None,
                 state: OnlineFeatureState | None = None):
        config = model.feature_config
        if label_delay_days is not None and label_delay_days != config.label_delay_days:
            config = replace(config, label_delay_days=label_delay_days)
        self.config = config
        self.model = model.bind(config.names)
        self.state = state if state is not None else OnlineFeatureState(config, getattr(model, "ip_countries_", None))
        self.rules = rules.compile(config.names)
        self.seen: set = set()  # ids of the horizon's transactions, to refuse a duplicate
        self._seen_horizon = config.horizon["customer"]
        self._reset_seen([], [], [])
        self.seq = 0  # decisions made in this stream (invalid ones included): the position of the next is seq + 1
        self.stream_id: str | None = None
        self.start: dict = {"kind": "fresh", "description": "an empty state"}
        self.journal: list | None = None  # when a list: score() appends what the decision log needs

    # -- stream position and feedback -----------------------------------------------------------------
    @property
    def until(self) -> float:
        """Epoch seconds of the latest transaction in the state (-inf when empty)."""
        return self.state.clock

    def feedback(self, transaction_id, label: float) -> None:
        """An investigator's label for a transaction; the state uses it once the label delay has passed."""
        self.state.add_label(str(transaction_id), label)

    def _admit(self, tx: TransactionRecord, error: str) -> str:
        """"" when a parsed transaction enters the state, OUT_OF_ORDER when it is older than the state's
        latest (scored, not added), else why it is refused; remembers its id."""
        if error:
            return error
        tx_id, ts = tx.transaction_id, tx.ts
        if tx_id in self.seen:
            return f"transaction_id: duplicate of an earlier transaction ({tx_id})"
        if ts >= self._next_seen_day:
            self._new_seen_day(ts)
        self.seen.add(tx_id)
        self._seen_today.append(tx_id)
        return OUT_OF_ORDER if ts < self.state.clock else ""

    def _reset_seen(self, starts: list[float], ids: list, offsets: list[int]) -> None:
        """The remembered ids, in one bucket per day of stream time (``starts``: each day's first time)."""
        self._seen_days = deque((start, ids[offsets[i]:offsets[i + 1]]) for i, start in enumerate(starts))
        if not self._seen_days:
            self._seen_days.append((-math.inf, []))
        self._seen_today = self._seen_days[-1][1]
        self.seen = set(ids)
        self._next_seen_day = self._seen_days[-1][0] + 86400.0

    def _new_seen_day(self, now: float) -> None:
        """Open the next day's bucket of ids and forget the days wholly beyond the horizon (a duplicate that
        late is not recognised)."""
        days, edge = self._seen_days, now - self._seen_horizon
        days.append((now, []))
        self._seen_today = days[-1][1]
        while len(days) > 1 and days[1][0] <= edge:
            self.seen.difference_update(days.popleft()[1])
        self._next_seen_day = now + 86400.0

    def _enter(self, tx: TransactionRecord) -> tuple[list, list[int]]:
        """Update the state with one admitted transaction: its feature row and the rules it fires."""
        row = self.state.update(*tx)
        return row, self.rules.fire(row, rule_fields(tx))

    def _peek(self, tx: TransactionRecord) -> tuple[list, list[int]]:
        """The feature row and rules of an out-of-order transaction, from the state, which it does not enter."""
        row = self.state.peek(*tx)
        return row, self.rules.fire(row, rule_fields(tx))

    def _late_reason(self, ts: float) -> str:
        return (f"out of order: {when(ts)} is before the state's latest transaction ({when(self.state.clock)}); "
                "scored from the history up to its time, not added to the state")

    def _decide(self, rows: list[list], fired: list[list[int]]) -> tuple[np.ndarray, list[str], list[str]]:
        """Scores, decisions and reasons of transactions that entered the state."""
        M = self.model.rows_matrix(rows)
        scores = self.model.calibrate(self.model.raw_score_matrix(M))
        decide, describe = self.rules.decide, self.rules.describe
        decisions = [decide(score, hits) for score, hits in zip(scores.tolist(), fired)]
        reasons = [describe(hits) if hits else [] for hits in fired]
        flagged = np.flatnonzero(scores >= self.rules.thresholds["challenge"])
        if len(flagged):  # the features that pushed the score up: only for flagged transactions (costly)
            columns = self.model.columns_
            categorical = {j: self.config.names.index(c) for j, c in enumerate(columns) if c in self.model.categories_}
            shown = [[rows[i][categorical[j]] if j in categorical else M[i, j] for j in range(len(columns))]
                     for i in flagged]
            for i, top in zip(flagged, self.model.top_reasons(M[flagged], shown, self.rules.top_features)):
                reasons[i] = reasons[i] + top
        return scores, decisions, ["; ".join(r) for r in reasons]

    # -- one transaction ------------------------------------------------------------------------------
    def score(self, record: dict) -> dict:
        """Score one transaction now: {transaction_id, fraud_score, decision, reasons}.

        A transaction older than the state's latest is scored from the history up to its time and flagged
        "out of order"; it does not enter the state. An invalid one gets ``review`` and the reason."""
        tx, error = parse_record(record)
        status = self._admit(tx, error)
        self.seq += 1
        if status and status is not OUT_OF_ORDER:
            result = {"transaction_id": tx.transaction_id, "fraud_score": math.nan, "decision": INVALID_DECISION,
                      "reasons": f"invalid input: {status}"}
        else:
            row, fired = self._enter(tx) if not status else self._peek(tx)
            scores, decisions, reasons = self._decide([row], [fired])
            reason = reasons[0]
            if status:
                reason = self._late_reason(tx.ts) + (f"; {reason}" if reason else "")
            result = {"transaction_id": tx.transaction_id, "fraud_score": float(scores[0]), "decision": decisions[0],
                      "reasons": reason}
        if self.journal is not None:
            self.journal.append((self.seq, tx, result))
        return result

    # -- a table --------------------------------------------------------------------------------------
    def warm(self, canonical: pd.DataFrame, progress: bool = False, desc: str = "history") -> dict:
        """Stream a table through the state without deciding anything (``--history``): its valid rows at or
        after the state's latest time enter it; older and invalid rows are counted and skipped."""
        order = sort_stream(canonical)
        ts = canonical["ts"].to_numpy(dtype=float)[order]
        older = ts < self.state.clock
        order = order[~older]
        collecting = gc.isenabled()
        gc.disable()
        try:
            update = self.state.update
            for args in tqdm(zip(*stream_columns(canonical, order)), total=len(order), desc=desc, unit="tx",
                             disable=not progress, mininterval=0.5):
                update(*args)
        finally:
            if collecting:
                gc.enable()
        return {"entered": int(len(order)), "older": int(older.sum()),
                "invalid": int((canonical["error"] != "").sum())}

    def score_frame(self, canonical: pd.DataFrame, batch_size: int = 2048, progress: bool = False,
                    desc: str = "scoring", checkpoint=None, pace: float | None = None) -> pd.DataFrame:
        """Stream a canonical table (``schema.normalize``) through the scorer in timestamp order.

        Returns ``transaction_id``, ``fraud_score``, ``decision``, ``reasons`` for every row, in the input's
        row order and index; rows with an ``error`` are answered without touching the state.

        ``checkpoint`` (see ``niaga.fraud.checkpoint``): asked at safe points whether it is due; then the
        decisions made so far are committed (logged) and the state snapshotted, and, when a stop was requested,
        ``StreamInterrupted`` is raised. ``pace``: at most this many transactions per second (a live feed).
        """
        from threadpoolctl import threadpool_limits

        n = len(canonical)
        scores = np.full(n, np.nan)
        decisions = np.full(n, INVALID_DECISION, dtype=object)
        reasons = np.full(n, "", dtype=object)
        errors = canonical["error"].to_numpy(dtype=object)
        ts = canonical["ts"].to_numpy(dtype=float)
        # invalid rows (no usable time) first, then every row in time order: ties keep the input order
        order = np.argsort(np.where(errors == "", ts, -np.inf), kind="stable")
        bar = tqdm(total=n, desc=desc, unit="tx", disable=not progress, mininterval=0.5)
        # one BLAS thread: the autoencoder's small products are several times slower split over threads.
        # No cyclic garbage collection meanwhile: the state holds millions of small lists that every full
        # collection would rescan (a quarter of the time), and this loop creates no reference cycles.
        collecting = gc.isenabled()
        gc.disable()
        try:
            with threadpool_limits(1, user_api="blas"):
                self._stream(canonical, order, errors, scores, decisions, reasons, batch_size, bar, checkpoint,
                             pace)
        finally:
            if collecting:
                gc.enable()
            bar.close()
        return pd.DataFrame({"transaction_id": canonical["transaction_id"].to_numpy(dtype=object),
                             "fraud_score": np.round(scores, 6), "decision": decisions, "reasons": reasons},
                            index=canonical.index)

    def _stream(self, canonical, order, errors, scores, decisions, reasons, batch_size, bar, checkpoint,
                pace) -> None:
        """score_frame's loop: features and rules one transaction at a time, the model per micro-batch."""
        admit, peek = self._admit, self._peek
        update, fire = self.state.update, self.rules._fire  # _enter, without two calls per transaction
        batch_pos, batch_rows, batch_fired, late = [], [], [], []
        base = self.seq
        committed = 0
        started = time.monotonic()

        def flush() -> None:
            if batch_rows:
                positions = np.array(batch_pos, dtype=np.int64)
                scores[positions], decisions[positions], reasons[positions] = self._decide(batch_rows, batch_fired)
                for pos in late:
                    reasons[pos] = self._late_reason(canonical["ts"].iat[pos]) + (
                        f"; {reasons[pos]}" if reasons[pos] else "")
                bar.update(len(positions))
                batch_pos.clear(), batch_rows.clear(), batch_fired.clear(), late.clear()

        def commit(upto: int) -> None:
            nonlocal committed
            flush()
            self.seq = base + upto
            checkpoint.commit(canonical, order[committed:upto], base + committed + 1, scores, decisions, reasons)
            committed = upto

        records = map(TransactionRecord._make, zip(*stream_columns(canonical, order)))
        for k, (pos, args) in enumerate(zip(order.tolist(), records)):
            if checkpoint is not None and not k & 63 and k and checkpoint.due():
                commit(k)
                if checkpoint.stop_requested:
                    raise StreamInterrupted(k)
            if pace and k & 15 == 0:
                wait = started + k / pace - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
            status = admit(args, errors[pos])
            if status:
                if status is not OUT_OF_ORDER:
                    reasons[pos] = f"invalid input: {status}"
                    bar.update(1)
                    continue
                row, fired = peek(args)
                late.append(pos)
            else:
                row = update(*args)
                fired = fire(row, rule_fields(args))
            batch_pos.append(pos)
            batch_rows.append(row)
            batch_fired.append(fired)
            if len(batch_rows) >= batch_size:
                flush()
        flush()
        self.seq = base + len(order)
        if checkpoint is not None:
            commit(len(order))

    # -- snapshot, restore, resume --------------------------------------------------------------------
    def snapshot(self, path: str | Path) -> Path:
        """Write the whole stream state (features, ids seen within the horizon, stream id, decisions made) to
        ``path`` atomically; ``restore`` reads it back. Data only: numpy arrays and JSON, no pickle."""
        from niaga.fraud.state import write_state

        if self.stream_id is None:
            self.stream_id = uuid.uuid4().hex[:16]
        ids = [tx for _, day in self._seen_days for tx in day]
        offsets = np.cumsum([0] + [len(day) for _, day in self._seen_days])
        return write_state(path, self.state, extra={
            "stream": self.stream_id, "seq": self.seq, "start": self.start,
            "label_delay_days": self.config.label_delay_days},
            arrays={"seen_ids": np.array(ids, dtype=str) if ids else np.zeros(0, dtype="<U1"),
                    "seen_day_starts": np.array([start for start, _ in self._seen_days], dtype=np.float64),
                    "seen_day_offsets": offsets.astype(np.int64)})

    def restore(self, path: str | Path) -> dict:
        """Replace the state with the one in ``path`` (a snapshot, or a model's carried state); returns its
        metadata. The file must have been built with this scorer's windows and label delay."""
        from niaga.fraud.state import read_state

        state, meta, extra = read_state(path, self.config, self.state.ip_countries)
        self.state = state
        if "seen_ids" in extra:
            self._reset_seen(extra["seen_day_starts"].tolist(), extra["seen_ids"].tolist(),
                             extra["seen_day_offsets"].tolist())
        else:  # a model's carried state: no transaction decided yet
            self._reset_seen([], [], [])
        self.seq = int(meta.get("seq", 0))
        self.stream_id = meta.get("stream")
        self.start = meta.get("start") or {"kind": "snapshot", "description": str(path)}
        return meta

    def resume(self, decisions: pd.DataFrame) -> pd.DataFrame:
        """Re-apply decisions made after the restored snapshot (``DecisionLog.stream_decisions``, seq order):
        each transaction that entered the state enters it again, without being scored; every id is
        remembered. Returns those decisions, so a caller can answer a redelivered transaction from them."""
        decisions = decisions[decisions["seq"] > self.seq].sort_values("seq", kind="stable")
        update, seen = self.state.update, self.seen
        for record in decisions.itertuples(index=False):
            args = (record.transaction_id, record.epoch, record.amount, record.customer_id, record.terminal_id,
                    record.label, record.signup_epoch, record.device_id, record.ip_address, record.source,
                    record.browser, record.sex, record.age)
            args = tuple(None if v is None or v is pd.NA or (isinstance(v, float) and v != v and i in NULLABLE)
                         else v for i, v in enumerate(args))
            if record.status == "scored":
                update(*args)
            if record.status != "invalid" and args[0] is not None and args[0] not in seen:
                if args[1] >= self._next_seen_day:
                    self._new_seen_day(args[1])
                seen.add(args[0])
                self._seen_today.append(args[0])
            self.seq = int(record.seq)
        return decisions


#: update() arguments that are ids or categories: a missing value is None, never NaN
NULLABLE = {0, 3, 4, 7, 9, 10, 11}
