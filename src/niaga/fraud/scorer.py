"""The in-process real-time scorer: online feature state → rules → model → calibrated score → decision.

``score`` takes one transaction (a dict) and answers at once. ``score_frame`` streams a table through the
same state in timestamp order and scores in micro-batches: each transaction's features (and rules) are
computed, one at a time, before any later transaction is seen, and labels reach the state only after their
delay, so the features are exactly those of one-at-a-time scoring; only the model runs on a batch of rows
(a test checks that both give the same output). Bad input never raises: the row gets the decision ``review``, no
score, and the reason ``invalid input: …``.
"""

from __future__ import annotations

import gc
import math
from dataclasses import replace
from operator import itemgetter

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from niaga.fraud.features import OnlineFeatureState, stream_columns
from niaga.fraud.model import FraudModel
from niaga.fraud.rules import RuleSet
from niaga.fraud.schema import column_mapping, parse_label, record_seconds

INVALID_DECISION = "review"
OUTPUT_COLUMNS = ["fraud_score", "decision", "reasons"]


def _text(value):
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _number(value) -> float:
    try:
        return float(value) if value is not None and value is not pd.NA else math.nan
    except (TypeError, ValueError):
        return math.nan


def parse_record(record: dict) -> tuple[list, str]:
    """One transaction given as a dict (any of the schema's column names) → (update() arguments, error).

    The scalar twin of ``schema.normalize``, for the real-time path where building a DataFrame per
    transaction would cost more than the whole scoring budget; both produce the same reason texts.
    """
    mapping = column_mapping(record.keys())
    get = lambda field: record.get(mapping[field]) if field in mapping else None  # noqa: E731
    problems = []
    tx_id, customer, terminal = _text(get("transaction_id")), _text(get("customer_id")), _text(get("terminal_id"))
    for field, value in (("transaction_id", tx_id), ("customer_id", customer)):
        if value is None:
            problems.append(f"{field}: missing")
    if "terminal_id" in mapping and terminal is None:
        problems.append("terminal_id: missing")
    raw_ts = get("timestamp")
    ts = record_seconds(raw_ts)
    if _text(raw_ts) is None:
        problems.append("timestamp: missing")
    elif ts != ts:
        problems.append(f"timestamp: cannot parse {raw_ts!r}")
    raw_amount = get("amount")
    amount = _number(raw_amount)
    if _text(raw_amount) is None:
        problems.append("amount: missing")
    elif amount != amount:
        problems.append(f"amount: not a number {raw_amount!r}")
    elif amount < 0:
        problems.append(f"amount: negative {amount}")
    elif math.isinf(amount):
        problems.append("amount: not finite")
    args = [tx_id, ts, amount, customer, terminal, parse_label(get("label")), record_seconds(get("signup_time")),
            _text(get("device_id")), _number(get("ip_address")), _text(get("source")), _text(get("browser")),
            _text(get("sex")), _number(get("age"))]
    return args, "; ".join(problems)


#: the transaction fields rules may name (rules.RECORD_FIELDS order), taken from the update() arguments
rule_fields = itemgetter(0, 3, 4, 7, 8)


class FraudScorer:
    """Keeps the online feature state of one stream and scores its transactions."""

    def __init__(self, model: FraudModel, rules: RuleSet, label_delay_days: float | None = None):
        config = model.feature_config
        if label_delay_days is not None and label_delay_days != config.label_delay_days:
            config = replace(config, label_delay_days=label_delay_days)
        self.config = config
        self.model = model.bind(config.names)
        self.state = OnlineFeatureState(config, getattr(model, "ip_countries_", None))
        self.rules = rules.compile(config.names)
        self.seen_ids: set = set()

    def feedback(self, transaction_id, label: float) -> None:
        """An investigator's label for a transaction; the state uses it once the label delay has passed."""
        self.state.add_label(str(transaction_id), label)

    def _admit(self, args, error: str) -> str:
        """The reason a parsed transaction cannot enter the state ("" when it can); remembers its id."""
        if error:
            return error
        tx_id, ts = args[0], args[1]
        if tx_id in self.seen_ids:
            return f"transaction_id: duplicate of an earlier transaction ({tx_id})"
        if ts < self.state.clock:
            return "timestamp: earlier than the last transaction already scored"
        self.seen_ids.add(tx_id)
        return ""

    def _enter(self, args) -> tuple[list, list[int]]:
        """Update the state with one admitted transaction: its feature row and the rules it fires."""
        row = self.state.update(*args)
        return row, self.rules.fire(row, rule_fields(args))

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

    def score(self, record: dict) -> dict:
        """Score one transaction now: {transaction_id, fraud_score, decision, reasons}."""
        args, error = parse_record(record)
        error = self._admit(args, error)
        if error:
            return {"transaction_id": args[0], "fraud_score": math.nan, "decision": INVALID_DECISION,
                    "reasons": f"invalid input: {error}"}
        row, fired = self._enter(args)
        scores, decisions, reasons = self._decide([row], [fired])
        return {"transaction_id": args[0], "fraud_score": float(scores[0]), "decision": decisions[0],
                "reasons": reasons[0]}

    def score_frame(self, canonical: pd.DataFrame, batch_size: int = 2048, progress: bool = False,
                    desc: str = "scoring") -> pd.DataFrame:
        """Stream a canonical table (``schema.normalize``) through the scorer in timestamp order.

        Returns ``transaction_id``, ``fraud_score``, ``decision``, ``reasons`` for every row, in the input's
        row order and index; rows with an ``error`` are answered without touching the state.
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
                self._stream(canonical, order, errors, scores, decisions, reasons, batch_size, bar)
        finally:
            if collecting:
                gc.enable()
        bar.close()
        return pd.DataFrame({"transaction_id": canonical["transaction_id"].to_numpy(dtype=object),
                             "fraud_score": np.round(scores, 6), "decision": decisions, "reasons": reasons},
                            index=canonical.index)

    def _stream(self, canonical, order, errors, scores, decisions, reasons, batch_size, bar) -> None:
        """score_frame's loop: features and rules one transaction at a time, the model per micro-batch."""
        admit, enter = self._admit, self._enter
        batch_pos, batch_rows, batch_fired = [], [], []

        def flush() -> None:
            positions = np.array(batch_pos, dtype=np.int64)
            scores[positions], decisions[positions], reasons[positions] = self._decide(batch_rows, batch_fired)
            bar.update(len(positions))
            batch_pos.clear(), batch_rows.clear(), batch_fired.clear()

        for pos, args in zip(order.tolist(), zip(*stream_columns(canonical, order))):
            error = admit(args, errors[pos])
            if error:
                reasons[pos] = f"invalid input: {error}"
                bar.update(1)
                continue
            row, fired = enter(args)
            batch_pos.append(pos)
            batch_rows.append(row)
            batch_fired.append(fired)
            if len(batch_rows) >= batch_size:
                flush()
        if batch_rows:
            flush()
