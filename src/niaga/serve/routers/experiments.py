"""/api/v1/experiments and /api/v1/events: sticky assignment of a user to an experiment's arm, and the events the
shop's front end logs (recommendations shown, clicks, orders) in batches, validated as ``niaga ingest`` validates
a file: good events are stored, bad ones quarantined and listed by their position in the batch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field, StringConstraints

from niaga.analytics.experiment.pipeline import OUTPUT_COLUMNS, analyze, assign_user, plan
from niaga.serve import events as shown
from niaga.store.tracking import EVENT_TYPES, append_events, experiment_events, rates_by_arm, rates_by_source

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


class PlanResponse(BaseModel):
    baseline: float
    mde: float
    alpha: float
    power: float
    users_per_arm: int
    total_users: int


class Comparison(BaseModel):
    """One metric of one arm against the control (the columns of ``niaga experiment analyze``)."""
    experiment: str
    metric: str
    variant: str
    users: int
    rate: float | None
    lift: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    srm_p_value: float | None
    control_users: int
    control_rate: float | None
    p_value_adjusted: float | None
    sequential_p_value: float | None
    significant: bool
    srm: bool
    cuped_covariate: str
    variance_reduction: float | None


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


def results(services, experiment: str, control: str = "control", planned_users: int | None = None,
            alpha: float = 0.05) -> list[Comparison]:
    """The analysis of one experiment's logged events: clicked, converted and revenue per arm against control."""
    shown.flush(services)
    events = services.read(lambda store: experiment_events(store, experiment))
    if not events["experiment"].notna().any():
        return []  # nobody was shown this experiment yet
    table = analyze(events, control=control, alpha=alpha, planned_users=planned_users, source=f"events of {experiment}")
    return [Comparison(**row) for row in _records(table[OUTPUT_COLUMNS])]


def _records(frame) -> list[dict]:
    return frame.astype(object).where(frame.notna(), None).to_dict("records")  # JSON has no NaN


@router.get("/experiments/{name}/assign", summary="the user's arm: deterministic, sticky (a salted hash), any split")
def assign_endpoint(name: str = Path(min_length=1, max_length=100, examples=["reco-v2"]),
                    user: str = Query(min_length=1, max_length=100, examples=["12347"]),
                    arms: str = Query("control,treatment", max_length=500, description="arm names, comma-separated"),
                    split: str | None = Query(None, max_length=200, description="shares in the arms' order, e.g. "
                                              "90,10 (default: equal)")) -> Assignment:
    return Assignment(**assign_user(name, user, arms, split))


@router.get("/experiments/plan", summary="users per arm to detect a relative lift (as 'niaga experiment plan')")
def plan_endpoint(baseline: float = Query(gt=0, examples=[0.05], description="the control's conversion rate "
                                          "(or, with std, the metric's mean per user)"),
                  mde: float = Query(gt=-1, examples=[0.1], description="relative lift to detect, e.g. 0.1 for +10 %"),
                  alpha: float = Query(0.05, gt=0, lt=1), power: float = Query(0.8, gt=0, lt=1),
                  std: float | None = Query(None, gt=0, description="a continuous metric's standard deviation")
                  ) -> PlanResponse:
    found = plan(baseline, mde, alpha, power, std)
    return PlanResponse(baseline=baseline, mde=mde, alpha=alpha, power=power, users_per_arm=found.users_per_arm,
                        total_users=found.total_users)


@router.get("/experiments/{name}/results", summary="lift, interval, p-values and SRM of an experiment's logged events")
def results_endpoint(request: Request, name: str = Path(min_length=1, max_length=100, examples=["reco-v2"]),
                     control: str = Query("control", min_length=1, max_length=100),
                     planned_users: int | None = Query(None, ge=2, description="planned users per arm (tunes the "
                                                       "sequential p-value)"),
                     alpha: float = Query(0.05, gt=0, lt=1)) -> list[Comparison]:
    return results(request.app.state.services, name, control, planned_users, alpha)


@router.post("/events", summary="log recommendations shown, clicks and orders (batched; bad events quarantined)")
def events_endpoint(body: Events, request: Request) -> Logged:
    return log_events(request.app.state.services, body.events)


@router.get("/events/rates", summary="CTR and conversion per recommendation source and per experiment arm")
def rates_endpoint(request: Request) -> dict:
    return rates(request.app.state.services)
