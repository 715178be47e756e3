"""/api/v1/fraud: score one transaction in real time (score, decision, reasons), and the review queue."""

from __future__ import annotations

import asyncio
import atexit
import gc
import logging
import threading
import weakref
from typing import Literal

import pandas as pd
from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from niaga.fraud.checkpoint import journal_tables
from niaga.fraud.log import DecisionLog
from niaga.fraud.pipeline import load_scorer

router = APIRouter(prefix="/fraud", tags=["fraud"])
_score_lock = threading.Lock()  # the scorer carries one stream's state: one transaction at a time


class Transaction(BaseModel):
    transaction_id: str = Field(min_length=1, max_length=100)
    timestamp: str = Field(min_length=1, max_length=40, description="ISO date-time, e.g. 2018-10-01 10:00:00")
    customer_id: str = Field(min_length=1, max_length=100)
    amount: float = Field(ge=0, le=1e12)
    terminal_id: str | None = Field(None, max_length=100)
    device_id: str | None = Field(None, max_length=100)
    ip_address: float | None = Field(None, ge=0)
    source: str | None = Field(None, max_length=40)
    browser: str | None = Field(None, max_length=40)
    signup_time: str | None = Field(None, max_length=40)

    model_config = {"json_schema_extra": {"examples": [
        {"transaction_id": "demo-1", "timestamp": "2018-10-01 10:00:00", "customer_id": "17", "terminal_id": "4031",
         "amount": 1250.0}]}}


class Decision(BaseModel):
    transaction_id: str
    fraud_score: float | None
    decision: str
    reasons: str


class Case(BaseModel):
    transaction_id: str
    time: str
    customer_id: str | None
    amount: float | None
    fraud_score: float | None
    reasons: str
    resolution: str | None


class Resolution(BaseModel):
    label: Literal["fraud", "legit"]
    note: str = Field("", max_length=500)

    model_config = {"json_schema_extra": {"examples": [{"label": "legit", "note": "the card holder confirmed it"}]}}


def load_frozen(path):
    scorer = load_scorer(path)
    # the feature state is millions of long-lived small objects: out of the collector's full passes, which
    # would otherwise stall requests for tens of milliseconds each
    gc.freeze()
    return scorer


def scorer(services):
    return services.model("fraud", "transactions", load_frozen)


def decision_log(services) -> DecisionLog:
    """The decisions live in the warehouse file (tables ``decisions`` and ``resolutions``)."""
    return DecisionLog(services.settings.store)


class DecisionWriter:
    """Appends the served decisions to the log in batches, on a thread of its own, off the request path.

    Opening the log, building a frame and one insert cost tens of milliseconds per call, whatever the number of
    rows: per request they capped scoring at a few dozen requests per second. A decision is answered at once
    and logged within about ``PAUSE`` seconds, with the others that came meanwhile; the log stays open while
    decisions keep coming and is closed after ``IDLE_CLOSE`` seconds without any. Everything that reads the log
    in this process (the case queue, resolving) flushes first, so it always sees every decision answered."""

    PAUSE = 0.1
    IDLE_CLOSE = 2.0

    def __init__(self, services):
        self.services = weakref.proxy(services)
        self.path = services.settings.store
        self.pending: list = []  # FraudScorer.journal entries: (seq, parsed transaction, decision)
        self.lock = threading.Lock()  # guards pending
        self.flushing = threading.Lock()  # one flush at a time: a reader that flushes waits for a running one
        self.wake = threading.Event()
        self.log: DecisionLog | None = None
        threading.Thread(target=self._run, daemon=True, name="fraud-decision-log").start()
        atexit.register(self._last_flush)  # a clean exit logs what is pending

    def add(self, entry) -> None:
        with self.lock:
            self.pending.append(entry)
        self.wake.set()

    def flush(self) -> None:
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
            with self.services.writing():
                if self.log is None:
                    self.log = DecisionLog(self.path).__enter__()
                for canonical, results in frames:
                    self.log.append(canonical, results)

    def close_log(self) -> None:
        """Let go of the log file (idle, or the server closed)."""
        with self.flushing:
            if self.log is None:
                return
            try:
                with self.services.writing():
                    self.log.__exit__(None, None, None)
            except ReferenceError:  # the server is gone: nobody else writes through it
                self.log.__exit__(None, None, None)
            self.log = None

    def _last_flush(self) -> None:
        try:
            self.flush()
        except ReferenceError:  # the server was closed with nothing pending
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
            except ReferenceError:  # the server was closed
                self.close_log()
                return
            except Exception:  # noqa: BLE001 — keep logging later batches; this one is reported, not dropped silently
                logging.getLogger("niaga.serve").exception("could not append decisions to the decision log")


_writers: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_writers_lock = threading.Lock()


def decision_writer(services) -> DecisionWriter:
    with _writers_lock:
        writer = _writers.get(services)
        if writer is None:
            writer = _writers[services] = DecisionWriter(services)
        return writer


def score(services, record: dict) -> Decision:
    """Score, log and count one transaction: what the endpoint and the dashboard's replay call."""
    with _score_lock:
        served = scorer(services)
        if served.journal is None:  # score() then keeps what the log needs, parsed once
            served.journal = []
        result = served.score(record)
        entry = served.journal.pop()
    decision_writer(services).add(entry)
    services.metrics.decisions.labels(result["decision"]).inc()
    if result["fraud_score"] == result["fraud_score"]:  # not NaN (invalid input has no score)
        services.metrics.scores.labels("fraud").observe(result["fraud_score"])
    return Decision(transaction_id=str(result["transaction_id"]),
                    fraud_score=None if result["fraud_score"] != result["fraud_score"] else round(result["fraud_score"], 6),
                    decision=result["decision"], reasons=result["reasons"])


def next_transactions(services, count: int) -> list[dict]:
    """The warehouse's next ``count`` transactions after the served scorer's state, in time order."""
    until = scorer(services).until
    start = pd.Timestamp(until, unit="s") if until > float("-inf") else pd.Timestamp.min
    rows = services.read(lambda store: store.db.execute(
        "SELECT transaction_id, timestamp, customer_id, amount, terminal_id FROM transactions WHERE timestamp > ? "
        "ORDER BY timestamp, source_row LIMIT ?", [start.to_pydatetime(), count]).df())
    rows["timestamp"] = rows["timestamp"].astype(str)
    return [{k: v for k, v in record.items() if v is not None} for record in rows.to_dict("records")]


def cases(services, status: str = "open", limit: int = 50) -> list[Case]:
    decision_writer(services).flush()
    with services.writing(), decision_log(services) as log:
        table = log.cases(status, limit)
    return [Case(transaction_id=str(c.transaction_id), time=str(c.ts), customer_id=_text(c.customer_id),
                 amount=_number(c.amount), fraud_score=_number(c.fraud_score), reasons=c.reasons,
                 resolution=_text(c.resolution)) for c in table.itertuples()]


def _missing(value) -> bool:
    return value is None or value is pd.NA or value != value  # None, NA or NaN: pandas mixes them in a column


def _text(value) -> str | None:
    return None if _missing(value) else str(value)


def _number(value) -> float | None:
    return None if _missing(value) else float(value)


def open_count(services) -> int:
    decision_writer(services).flush()
    with services.writing(), decision_log(services) as log:
        return log.case_count("open")


def resolve(services, transaction_id: str, label: str, note: str = "") -> None:
    decision_writer(services).flush()
    with services.writing(), decision_log(services) as log:
        log.resolve(transaction_id, label, note)


@router.post("/score", summary="fraud score (0-1), decision (approve / challenge / review / block) and reasons")
async def score_endpoint(body: Transaction, request: Request) -> Decision:
    # on the event loop: scoring takes well under a millisecond (the log is written by DecisionWriter), less
    # than handing the request to a worker thread and back; asking the registry (every few seconds) or loading
    # the model may wait for the store, so that runs in a thread
    services = request.app.state.services
    if not services.model_ready("fraud", "transactions"):
        await asyncio.to_thread(scorer, services)
    return score(services, body.model_dump(exclude_none=True))


@router.get("/cases", summary="the review queue, highest score first")
def cases_endpoint(request: Request, status: Literal["open", "resolved", "all"] = "open",
                   limit: int = Query(50, ge=1, le=1000)) -> list[Case]:
    return cases(request.app.state.services, status, limit)


@router.post("/cases/{transaction_id}/resolve", summary="an investigator's verdict: the label for retraining")
def resolve_endpoint(body: Resolution, request: Request,
                     transaction_id: str = Path(max_length=100, examples=["demo-1"])) -> dict:
    resolve(request.app.state.services, transaction_id, body.label, body.note)
    return {"transaction_id": transaction_id, "label": body.label}
