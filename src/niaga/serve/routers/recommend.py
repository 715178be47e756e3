"""/api/v1/recommend: one user's list ("Produk untuk Anda") and the items bought together with one item, each
item with its source and the reason that can be shown; an unknown user or item gets a fallback, said in
``fallback``, never an error.

Each response carries a ``request_id``, and its items are logged as ``shown`` events (with their source and
position) so that clicks and orders sent to ``POST /api/v1/events`` with that request id give CTR and conversion
per source. With ``experiment=NAME`` the user is assigned an arm (sticky, as ``/experiments/NAME/assign``),
stamped on the response and the events; an arm named like a registered recommend model is served by that model,
which makes a model-against-model A/B test."""

from __future__ import annotations

import asyncio
import uuid

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel

from niaga.analytics.experiment.pipeline import assign_user
from niaga.recommend.pipeline import load, recommend_user, together
from niaga.serve.events import shown_log
from niaga.store.tracking import shown_events

router = APIRouter(prefix="/recommend", tags=["recommend"])
MODEL_NAME = "orders"  # the registry name of the served recommender (trained on the warehouse's orders)
MAX_K = 100
EXPERIMENT_HELP = ("an experiment the user takes part in: the response says the user's arm; an arm named like a "
                   "registered recommend model is served by it")


class Item(BaseModel):
    item: str
    name: str = ""
    score: float
    source: str
    reason: str


class Recommendations(BaseModel):
    request_id: str = ""
    user: str | None = None
    item: str | None = None
    experiment: str | None = None
    variant: str | None = None
    fallback: str = ""
    items: list[Item]


class Arm(BaseModel):
    """The experiment a request takes part in: the user's arm, and the model that serves it."""
    experiment: str | None = None
    variant: str | None = None
    model: str = MODEL_NAME


def arm(services, user: str | None, experiment: str | None, arms: str | None = None,
        split: str | None = None) -> Arm:
    if not experiment or not user:
        return Arm()
    variant = assign_user(experiment, user, arms, split)["variant"]
    served = {r["name"] for r in services.registered() if r["capability"] == "recommend"}
    return Arm(experiment=experiment, variant=variant, model=variant if variant in served else MODEL_NAME)


def _served(services, served, chosen: Arm, log: bool, **who) -> Recommendations:
    response = Recommendations(request_id=uuid.uuid4().hex, fallback=served.fallback, experiment=chosen.experiment,
                               variant=chosen.variant, **who,
                               items=[Item(item=r.item, name=r.name, score=r.score, source=r.source, reason=r.reason)
                                      for r in served.items])
    viewer = who.get("user")
    if log and viewer and response.items:  # a shown event needs the viewer: anonymous lists are not logged
        shown_log(services).add(shown_events(response.request_id, viewer, [i.item for i in response.items],
                                             [i.source for i in response.items], chosen.experiment, chosen.variant))
    return response


def model(services, name: str = MODEL_NAME):
    return services.model("recommend", name, load)


def for_user(services, user: str, k: int = 10, segment: str | None = None, chosen: Arm = Arm(),
             log: bool = False) -> Recommendations:
    """What the endpoint (``log=True``: the items are logged as shown) and the dashboard both call."""
    return _served(services, recommend_user(model(services, chosen.model), user, k=k, segment=segment), chosen, log,
                   user=user)


def bought_together(services, item: str, k: int = 10, user: str | None = None, chosen: Arm = Arm(),
                    log: bool = False) -> Recommendations:
    return _served(services, together(model(services, chosen.model), item, k=k), chosen, log, item=item, user=user)


async def answer(services, name: str, function, *args) -> Recommendations:
    """On the event loop when the model is in memory (a list takes a millisecond or two: less than handing the
    request to a worker thread, whose threads then fight over the GIL); in a thread when the registry must be
    asked or the model loaded."""
    if services.model_ready("recommend", name):
        return function(services, *args)
    return await asyncio.to_thread(function, services, *args)


@router.get("/users/{user_id}", summary="a user's top-k items, each with its source and reason")
async def user_endpoint(request: Request, user_id: str = Path(min_length=1, max_length=100, examples=["12347"]),
                  k: int = Query(10, ge=1, le=MAX_K, description="how many items"),
                  segment: str | None = Query(None, max_length=40, description="the user's segment, for "
                                              "popular-in-segment items when the user is new"),
                  experiment: str | None = Query(None, max_length=100, description=EXPERIMENT_HELP),
                  arms: str | None = Query(None, max_length=500, description="the experiment's arms (default "
                                           "control,treatment)"),
                  split: str | None = Query(None, max_length=200, description="the arms' shares (default equal)")
                  ) -> Recommendations:
    services = request.app.state.services
    chosen = arm(services, user_id, experiment, arms, split)
    return await answer(services, chosen.model, for_user, user_id, k, segment, chosen, True)


@router.get("/items/{item_id}/together", summary="items bought together with one item (cross-sell), or similar")
async def together_endpoint(request: Request, item_id: str = Path(min_length=1, max_length=100, examples=["85123A"]),
                      k: int = Query(10, ge=1, le=MAX_K, description="how many items"),
                      user: str | None = Query(None, max_length=100, description="who is looking (for the shown "
                                               "events and the experiment arm)"),
                      experiment: str | None = Query(None, max_length=100, description=EXPERIMENT_HELP),
                      arms: str | None = Query(None, max_length=500, description="the experiment's arms"),
                      split: str | None = Query(None, max_length=200, description="the arms' shares")
                      ) -> Recommendations:
    services = request.app.state.services
    chosen = arm(services, user, experiment, arms, split)
    return await answer(services, chosen.model, bought_together, item_id, k, user, chosen, True)
