"""/api/v1/recommend: one user's list ("Produk untuk Anda") and the items bought together with one item, each
item with its source and the reason that can be shown; an unknown user or item gets a fallback, said in
``fallback``, never an error."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel

from niaga.recommend.service import load, recommend_user, together

router = APIRouter(prefix="/recommend", tags=["recommend"])
MODEL_NAME = "orders"  # the registry name of the served recommender (trained on the warehouse's orders)
MAX_K = 100


class Item(BaseModel):
    item: str
    name: str = ""
    score: float
    source: str
    reason: str


class Recommendations(BaseModel):
    user: str | None = None
    item: str | None = None
    fallback: str = ""
    items: list[Item]


def _served(served, **who) -> Recommendations:
    return Recommendations(fallback=served.fallback, **who,
                           items=[Item(item=r.item, name=r.name, score=r.score, source=r.source, reason=r.reason)
                                  for r in served.items])


def model(services):
    return services.model("recommend", MODEL_NAME, load)


def for_user(services, user: str, k: int = 10, segment: str | None = None) -> Recommendations:
    """What the endpoint and the dashboard both call."""
    return _served(recommend_user(model(services), user, k=k, segment=segment), user=user)


def bought_together(services, item: str, k: int = 10) -> Recommendations:
    return _served(together(model(services), item, k=k), item=item)


async def answer(services, function, *args) -> Recommendations:
    """On the event loop when the model is in memory (a list takes a millisecond or two: less than handing the
    request to a worker thread, whose threads then fight over the GIL); in a thread when the registry must be
    asked or the model loaded."""
    if services.model_ready("recommend", MODEL_NAME):
        return function(services, *args)
    return await asyncio.to_thread(function, services, *args)


@router.get("/users/{user_id}", summary="a user's top-k items, each with its source and reason")
async def user_endpoint(request: Request, user_id: str = Path(min_length=1, max_length=100, examples=["12347"]),
                  k: int = Query(10, ge=1, le=MAX_K, description="how many items"),
                  segment: str | None = Query(None, max_length=40, description="the user's segment, for "
                                              "popular-in-segment items when the user is new")) -> Recommendations:
    return await answer(request.app.state.services, for_user, user_id, k, segment)


@router.get("/items/{item_id}/together", summary="items bought together with one item (cross-sell), or similar")
async def together_endpoint(request: Request, item_id: str = Path(min_length=1, max_length=100, examples=["85123A"]),
                      k: int = Query(10, ge=1, le=MAX_K, description="how many items")) -> Recommendations:
    return await answer(request.app.state.services, bought_together, item_id, k)
