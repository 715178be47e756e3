"""/api/v1/fraud: score one transaction in real time (score, decision, reasons), and the review queue."""

from __future__ import annotations

import asyncio
import gc
from typing import Literal

import pandas as pd
from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from niaga.fraud.log import DecisionLog, DecisionWriter
from niaga.fraud.log import decision_writer as fraud_decision_writer
from niaga.fraud.pipeline import load_scorer
from niaga.store.queries import transactions_after

router = APIRouter(prefix="/fraud", tags=["fraud"])


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


def decision_writer(services) -> DecisionWriter:
    return fraud_decision_writer(services, services.settings.store, services.writing)


def score(services, record: dict) -> Decision:
    """Score, log and count one transaction: what the endpoint and the dashboard's replay call."""
    result = decision_writer(services).score(scorer(services), record)
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
    rows = services.read(lambda store: transactions_after(store, start.to_pydatetime(), count))
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
