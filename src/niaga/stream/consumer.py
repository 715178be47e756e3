"""The stream consumer: transactions in, fraud decisions out, at least once with idempotent decisions.

One ``FraudScorer`` per owned partition (each customer's feature state lives in exactly one), kept
resumable by the fraud capability's ``Checkpoint``: a snapshot file and a decision log per partition under
``STATE_DIR/GROUP/``. Each batch goes through four steps, in this order:

1. score the batch's messages (a message that is no transaction gets the decision ``invalid input``, with the
   reason after it: ``invalid input: …``);
2. append the decisions to the partition's decision log (each with its message's label);
3. one atomic broker step: the decisions to the output stream, the invalid ones to the dead-letter stream,
   and the messages acknowledged;
4. when due (``--snapshot-seconds``), snapshot the state: it never includes a decision not yet acknowledged.

A crash (SIGKILL) at any point leaves each message in one of three places. Acknowledged: its decision is on
the output and it is never delivered again. Logged, not acknowledged: the restart restores the snapshot and
takes the logged decisions in again (``FraudScorer.resume``), and when the message comes back its decision is
answered from the log, not scored again. Neither: it comes back and is scored against a state that has
everything before it. So nothing is lost, nothing is decided twice on the output, and the decisions are
those of an uninterrupted run.
"""

from __future__ import annotations

import gc
import math
import re
import signal
import sys
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from niaga.fraud.checkpoint import Checkpoint
from niaga.fraud.log import DecisionLog
from niaga.fraud.pipeline import load_scorer
from niaga.fraud.scorer import INVALID_DECISION, FraudScorer, when
from niaga.stream.backend import Backend, Message, StreamError, decode, parse_partitions
from niaga.stream.metrics import StreamMetrics

INVALID = "invalid input"


@dataclass
class Partition:
    number: int
    scorer: FraudScorer
    checkpoint: Checkpoint
    sources: list = field(default_factory=list)  # the message label of each entry in scorer.journal
    redelivered: dict = field(default_factory=dict)  # message label → its logged decision (not yet on the output)


def state_paths(state_dir: str | Path, group: str, stream: str, partition: int) -> tuple[Path, Path]:
    """(snapshot, decision log) of one partition: the consumer that owns it next finds them here."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", stream)
    base = Path(state_dir) / re.sub(r"[^A-Za-z0-9._-]", "_", group)
    return base / f"{safe}-p{partition}.npz", base / f"{safe}-p{partition}.duckdb"


def logged_decision(row) -> dict:
    score = row.fraud_score
    return {"transaction_id": row.transaction_id, "fraud_score": None if score != score else float(score),
            "decision": row.decision, "reasons": row.reasons}


class StreamConsumer:
    """Owns some partitions of a stream for one consumer group and decides their transactions."""

    def __init__(self, model_dir: str | Path, backend: Backend, in_stream: str, out_stream: str,
                 group: str = "niaga", name: str = "consumer-1", partitions: int | None = None,
                 own: str | list[int] | None = None, state_dir: str | Path = "runs/stream", batch: int = 500,
                 snapshot_seconds: float = 60.0, metrics: StreamMetrics | None = None,
                 log: Callable | None = print):
        self.backend, self.in_stream, self.out_stream = backend, in_stream, out_stream
        self.group, self.name, self.batch = group, name, batch
        self.metrics = metrics or StreamMetrics()
        self.say = log or (lambda _: None)
        known = backend.partition_count(in_stream)
        if partitions is not None and known is not None and partitions != known:
            raise StreamError(f"{in_stream}: published with {known} partitions, not --partitions {partitions}")
        self.count = partitions or known or 1
        backend.publish(in_stream, [], self.count)  # records the count, so a publisher cannot change it
        owned = own if isinstance(own, list) else parse_partitions(own, self.count)
        self.stack = ExitStack()
        self.parts: dict[int, Partition] = {}
        # ownership first: the partitions' state is read only once no other live consumer can be writing it
        self.consumer = backend.consumer(in_stream, group, name, owned, self.count, out=out_stream)
        try:
            for number in owned:
                self.parts[number] = self._open(model_dir, state_dir, number, snapshot_seconds)
        except BaseException:
            self.stack.close()
            self.consumer.close()
            raise
        self.stop_requested = False
        self.between_steps = False
        self.counts: Counter = Counter()
        gc.freeze()  # the states' millions of small objects are long-lived: keep them out of every collection

    def _open(self, model_dir, state_dir, number: int, snapshot_seconds: float) -> Partition:
        snapshot, log_path = state_paths(state_dir, self.group, self.in_stream, number)
        scorer = load_scorer(model_dir)
        decision_log = self.stack.enter_context(DecisionLog(log_path))
        checkpoint = Checkpoint(scorer, snapshot, decision_log, snapshot_seconds)
        checkpoint.open()
        scorer.journal = []
        part = Partition(number, scorer, checkpoint)
        replayed = checkpoint.replayed
        if len(replayed):
            part.redelivered = {row.file: logged_decision(row) for row in replayed.itertuples(index=False)
                                if isinstance(row.file, str)}
        if checkpoint.resumed:
            self.say(f"partition {number}: resumed from {snapshot} plus {len(replayed):,} decisions logged after it "
                     f"(the state reaches {when(scorer.until)})")
        return part

    # -- one batch ------------------------------------------------------------------------------------
    def _decide(self, part: Partition, message: Message) -> tuple[dict, str]:
        """(decision, dead-letter reason or "") of one message."""
        known = part.redelivered.pop(message.source, None)
        if known is not None:  # decided and logged before a crash, not yet on the output
            self.counts["answered from the log"] += 1
            return known, known["reasons"] if str(known["reasons"]).startswith(INVALID) else ""
        record, problem = decode(message.payload)
        if record is None:  # not a transaction at all: nothing for the state, nothing to log
            reason = f"{INVALID}: {problem}"
            return {"transaction_id": None, "fraud_score": None, "decision": INVALID_DECISION, "reasons": reason}, reason
        result = part.scorer.score(record)
        part.sources.append(message.source)
        return result, result["reasons"] if result["reasons"].startswith(INVALID) else ""

    def handle(self, messages: list[Message]) -> int:
        self.between_steps = True  # until the batch is acknowledged, a snapshot would be ahead of the output
        decisions, dead = [], []
        for message in messages:
            result, reason = self._decide(self.parts[message.partition], message)
            score = result["fraud_score"]
            decisions.append((message, {
                "transaction_id": "" if result["transaction_id"] is None else str(result["transaction_id"]),
                "fraud_score": None if score is None or (isinstance(score, float) and math.isnan(score)) else score,
                # a poison message's decision says so, as the issue names it (the scorer's own is "review")
                "decision": INVALID if reason else result["decision"], "reasons": result["reasons"],
                "partition": message.partition,
                "message": message.id, "consumer": self.name}))
            if reason:
                dead.append((message, reason))
        for part in self.parts.values():  # step 2: the log first, so a decision acknowledged is always logged
            if part.sources:
                part.checkpoint.log_journal(part.sources)
                part.sources = []
        now = time.time()
        for message, decision in decisions:
            decision["latency_ms"] = round((now - message.published) * 1000, 3)
        self.consumer.emit(self.out_stream, decisions, dead)
        self.between_steps = False
        self.metrics.decided([d for _, d in decisions], len(dead))
        self.counts.update(d["decision"] for _, d in decisions)
        self.counts["dead letters"] += len(dead)
        for part in self.parts.values():
            if part.checkpoint.due():
                part.checkpoint.snapshot()
        return len(decisions)

    # -- the loop -------------------------------------------------------------------------------------
    def request_stop(self, *_) -> None:
        self.stop_requested = True

    def run(self, until_idle: float | None = None, poll_seconds: float = 0.2) -> dict:
        """Decide until stopped (SIGTERM, Ctrl-C) or, with ``until_idle``, until no message came for that long."""
        from threadpoolctl import threadpool_limits

        previous = {}
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                previous[sig] = signal.signal(sig, self.request_stop)
            except ValueError:  # not the main thread
                pass
        started = last = time.monotonic()
        next_lag = 0.0
        decided = 0
        try:
            with threadpool_limits(1, user_api="blas"):  # small products are slower split over threads
                redelivered = self.consumer.pending()
                if redelivered:
                    self.say(f"{len(redelivered):,} messages read before a stop and not acknowledged: deciding them "
                             "first")
                    for start in range(0, len(redelivered), self.batch):
                        decided += self.handle(redelivered[start:start + self.batch])
                while not self.stop_requested:
                    timeout = poll_seconds if until_idle is None else max(0.01, min(poll_seconds, until_idle))
                    messages = self.consumer.poll(self.batch, timeout)
                    now = time.monotonic()
                    if messages:
                        decided += self.handle(messages)
                        last = now
                    else:
                        self.metrics.tick()
                        for part in self.parts.values():
                            if part.checkpoint.due():
                                part.checkpoint.snapshot()
                        if until_idle is not None and now - last >= until_idle:
                            break
                    if now >= next_lag:
                        self.metrics.set_lag(self.consumer.lag())
                        next_lag = now + 1.0
                self.metrics.set_lag(self.consumer.lag())
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.close()
        seconds = time.monotonic() - started
        return {"decisions": decided, "by_decision": {k: v for k, v in self.counts.items()
                                                      if k not in ("dead letters", "answered from the log")},
                "dead_letters": self.counts["dead letters"], "answered_from_log": self.counts["answered from the log"],
                "partitions": sorted(self.parts), "seconds": round(seconds, 2),
                "stopped": "signal" if self.stop_requested else "idle"}

    def close(self) -> None:
        """Snapshot every partition (a clean stop restarts without re-applying anything) and let go of them.
        After an error inside a batch nothing is written: the restart goes on from the last snapshot and the
        log, and the batch's messages come back."""
        try:
            if not self.between_steps:
                for part in self.parts.values():
                    part.checkpoint.snapshot()
        finally:
            try:
                self.consumer.close()
            finally:
                self.stack.close()


def run(model_dir, backend: Backend, in_stream: str, out_stream: str, until_idle: float | None = None,
        metrics_port: int | None = None, **options) -> dict:
    """Build a consumer (``StreamConsumer`` options), serve its metrics when asked, and run it."""
    metrics = StreamMetrics()
    if metrics_port:
        metrics.serve(metrics_port)
        print(f"metrics at http://127.0.0.1:{metrics_port}/metrics", file=sys.stderr, flush=True)
    consumer = StreamConsumer(model_dir, backend, in_stream, out_stream, metrics=metrics, **options)
    return consumer.run(until_idle)
