"""A resumable stream: a scorer whose decisions go to the decision log and whose state goes to a snapshot
file, so that a process killed at any moment restarts with no transaction lost or scored twice.

At a checkpoint (every ``every_seconds``, at the end, and when a stop is requested) the decisions made since
the previous checkpoint are appended to the log first, then the state is snapshotted. The snapshot is never
ahead of the log, so after a crash every transaction is in one of three places: in the snapshot; in the
log after the snapshot (``FraudScorer.resume`` takes it into the state again, unscored); or nowhere, and it
is scored when it arrives again. ``Checkpoint.open`` does the restart part.

The small API a stream consumer needs (``niaga.stream.consumer`` runs the scorer inside Redis / Kafka
consumers)::

    scorer = load_scorer(model_dir)                            # the model's carried state
    checkpoint = Checkpoint(scorer, "state/stream.npz", DecisionLog("decisions.duckdb").__enter__())
    checkpoint.open()                                          # restore + re-apply, or a first snapshot
    logged = {row.file: row for row in checkpoint.replayed.itertuples()}  # logged after the snapshot
    scorer.journal = []                                        # score() records what the log needs
    for batch in consumer:
        results = [logged.pop(m.id, None) or scorer.score(m.record) for m in batch]  # (sources: the ids scored)
        checkpoint.log_journal(sources)                        # log first ...
        consumer.emit_and_acknowledge(results)                 # ... then output + acknowledgement, atomically
        if checkpoint.due():
            checkpoint.snapshot()                              # never ahead of what was acknowledged
"""

from __future__ import annotations

import contextlib
import signal
import time
from pathlib import Path

import numpy as np
import pandas as pd

from niaga.fraud.log import DecisionLog
from niaga.fraud.schema import CANONICAL
from niaga.fraud.scorer import FraudScorer


JOURNAL_FIELDS = ["transaction_id", "ts", "amount", "customer_id", "terminal_id", "label", "signup_ts", "device_id",
                  "ip_address", "source", "browser", "sex", "age"]


def journal_tables(journal: list, sources: list[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(transactions, decisions) of ``FraudScorer.journal`` entries, as ``DecisionLog.append`` takes them: built
    from what ``score`` already parsed, far cheaper than normalizing the records again."""
    canonical = pd.DataFrame([dict(zip(JOURNAL_FIELDS, args)) for _, args, _ in journal]).reindex(
        columns=[c for c in CANONICAL if c not in ("row", "error")])
    canonical["timestamp"] = pd.to_datetime(canonical["ts"], unit="s", errors="coerce")
    if sources is not None:
        canonical["file"] = list(sources)
    return canonical, pd.DataFrame([result for _, _, result in journal])


class Checkpoint:
    """Keeps one scorer's stream resumable through ``snapshot_path`` and an open ``DecisionLog``."""

    def __init__(self, scorer: FraudScorer, snapshot_path: str | Path, log: DecisionLog, every_seconds: float = 60.0):
        self.scorer = scorer
        self.path = Path(snapshot_path)
        self.log = log
        self.every_seconds = every_seconds
        self.stop_requested = False
        self._next = time.monotonic() + every_seconds
        self.commits = 0
        self.replayed = pd.DataFrame()  # decisions logged after the restored snapshot (taken in again by open)

    def open(self) -> pd.DataFrame:
        """Resume the stream when the snapshot exists (restore it, re-apply the decisions logged after it);
        else start a new stream from the scorer's current state and write a first snapshot. Returns every
        decision the stream has made (file, input_row, transaction_id, fraud_score, decision, reasons)."""
        if self.path.exists():
            self.scorer.restore(self.path)
            if not self.scorer.stream_id:
                raise ValueError(f"{self.path}: a feature state without a stream id (a model's state?): "
                                 "give a new snapshot path")
            self.replayed = self.scorer.resume(self.log.stream_decisions(self.scorer.stream_id, self.scorer.seq))
            self.resumed = True
            return self.log.stream_rows(self.scorer.stream_id)
        self.resumed = False
        self.scorer.stream_id = None
        self.scorer.seq = 0
        self.scorer.snapshot(self.path)
        return pd.DataFrame(columns=["file", "input_row", "transaction_id", "fraud_score", "decision", "reasons"])

    def due(self) -> bool:
        return self.stop_requested or time.monotonic() >= self._next

    def commit(self, canonical: pd.DataFrame, positions: np.ndarray, first_seq: int, scores, decisions,
               reasons) -> None:
        """Log the decisions of ``canonical``'s rows at ``positions`` (stream positions from ``first_seq``),
        then snapshot the state (``scorer.seq`` must already count them)."""
        if len(positions):
            scored = pd.DataFrame({"transaction_id": canonical["transaction_id"].to_numpy(dtype=object)[positions],
                                   "fraud_score": np.round(scores[positions], 6), "decision": decisions[positions],
                                   "reasons": reasons[positions]})
            self.log.append(canonical.iloc[positions].reset_index(drop=True), scored, self.scorer.stream_id,
                            np.arange(first_seq, first_seq + len(positions)))
        self._snapshot()

    def commit_journal(self, sources: list[str] | None = None) -> None:
        """Log the decisions ``scorer.score`` recorded in ``scorer.journal`` since the last commit, then
        snapshot the state."""
        self.log_journal(sources)
        self._snapshot()

    def log_journal(self, sources: list[str] | None = None) -> None:
        """Log the journal's decisions without snapshotting (a consumer logs every batch before it
        acknowledges it, and snapshots only when ``due``). ``sources``: one label per journal entry kept
        in the log's ``file`` column (a consumer's message id, to answer a redelivered message from the log)."""
        journal = self.scorer.journal or []
        if journal:
            if sources is not None and len(sources) != len(journal):
                raise ValueError(f"{len(sources)} sources for {len(journal)} journal entries")
            canonical, scored = journal_tables(journal, sources)
            self.log.append(canonical, scored, self.scorer.stream_id, np.array([seq for seq, _, _ in journal]))
            journal.clear()

    def snapshot(self) -> None:
        """Snapshot the state now (after the logged decisions it includes were acknowledged downstream)."""
        self._snapshot()

    def _snapshot(self) -> None:
        self.scorer.snapshot(self.path)
        self.commits += 1
        self._next = time.monotonic() + self.every_seconds

    def request_stop(self, *_) -> None:
        """Ask the stream to stop at its next safe point (after a checkpoint): a signal handler."""
        self.stop_requested = True

    @contextlib.contextmanager
    def stop_on_signals(self):
        """While inside: SIGTERM and SIGINT (Ctrl-C) stop the stream at a safe point instead of killing it."""
        previous = {}
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                previous[sig] = signal.signal(sig, self.request_stop)
            except ValueError:  # not the main thread: signals stay as they are
                pass
        try:
            yield self
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
