"""/api/v1/experiments and /api/v1/events: sticky assignment of a user to an experiment's arm, and the events the
shop's front end logs (recommendations shown, clicks, orders) in batches, validated as ``niaga ingest`` validates
a file: good events are stored, bad ones quarantined and listed by their position in the batch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field, StringConstraints

from niaga.analytics.experiment.pipeline import assign_user
from niaga.serve import events as shown
from niaga.store.tracking import EVENT_TYPES, append_events, rates_by_arm, rates_by_source

router = APIRouter(tags=["experiments"])
MAX_EVENTS = 1000
Name = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Value = Annotated[str, StringConstraints(max_length=500)] | float | int | bool | None


class Assignment(BaseModel):
    experiment: str
    user: str
    variant: str
    arms: list[str]
    split: list[float]


class Events(BaseModel):
    events: list[dict[Name, Value]] = Field(
        min_length=1, max_length=MAX_EVENTS,
        description=f"1 to {MAX_EVENTS} events: event ({', '.join(EVENT_TYPES)}), user_id, item_id, and as known "
                    "request_id (from the recommendation response), timestamp, source, experiment, variant, position, "
                    "value (an order's amount)")

    model_config = {"json_schema_extra": {"examples": [{"events": [
        {"event": "click", "user_id": "12347", "item_id": "85123A", "request_id": "4f1c0d9e8a2b4c6d"},
        {"event": "order", "user_id": "12347", "item_id": "85123A", "request_id": "4f1c0d9e8a2b4c6d",
         "value": 125000}]}]}}


class Problem(BaseModel):
    row: int
    field: str
    reason: str


class Logged(BaseModel):
    stored: int
    quarantined: int
    problems: list[Problem]


def log_events(services, records: list[dict]) -> Logged:
    """Store a batch of events (what the endpoint calls)."""
    shown.flush(services)  # keep the log in the order things happened
    stored, problems = services.read(lambda store: append_events(store, records))
    return Logged(stored=stored, quarantined=len({p["row"] for p in problems}), problems=problems)


def rates(services) -> dict:
    """CTR and conversion per recommendation source and per experiment arm (the dashboard and the API)."""
    shown.flush(services)
    by_source, by_arm = services.read(lambda store: (rates_by_source(store), rates_by_arm(store)))
    return {"by_source": _records(by_source), "by_arm": _records(by_arm)}


def _records(frame) -> list[dict]:
    return frame.astype(object).where(frame.notna(), None).to_dict("records")  # JSON has no NaN


@router.get("/experiments/{name}/assign", summary="the user's arm: deterministic, sticky (a salted hash), any split")
def assign_endpoint(name: str = Path(min_length=1, max_length=100, examples=["reco-v2"]),
                    user: str = Query(min_length=1, max_length=100, examples=["12347"]),
                    arms: str = Query("control,treatment", max_length=500, description="arm names, comma-separated"),
                    split: str | None = Query(None, max_length=200, description="shares in the arms' order, e.g. "
                                              "90,10 (default: equal)")) -> Assignment:
    return Assignment(**assign_user(name, user, arms, split))


@router.post("/events", summary="log recommendations shown, clicks and orders (batched; bad events quarantined)")
def events_endpoint(body: Events, request: Request) -> Logged:
    return log_events(request.app.state.services, body.events)


@router.get("/events/rates", summary="CTR and conversion per recommendation source and per experiment arm")
def rates_endpoint(request: Request) -> dict:
    return rates(request.app.state.services)
