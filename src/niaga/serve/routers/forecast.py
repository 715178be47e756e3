"""/api/v1/forecast: one item's demand forecast with its intervals, the top items' forecasts, and the demand and
revenue at a price (or "unknown" where the item's price never varied)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Path, Query, Request
from pydantic import BaseModel

from niaga.analytics.forecast import pipeline

router = APIRouter(prefix="/forecast", tags=["forecast"])
MODEL_NAME = "orders"  # the registry name of the served demand model (trained on the warehouse's orders)
MAX_HORIZON = 52


class Period(BaseModel):
    period: str
    forecast: float
    lo_80: float | None = None
    hi_80: float | None = None
    lo_95: float | None = None
    hi_95: float | None = None


class ItemForecast(BaseModel):
    item: str
    model: str
    freq: str
    periods: list[Period]


class WhatIf(BaseModel):
    item: str
    price: float
    answer: str
    reason: str | None = None
    period: str | None = None
    demand: float | None = None
    demand_low: float | None = None
    demand_high: float | None = None
    revenue: float | None = None
    revenue_low: float | None = None
    revenue_high: float | None = None
    elasticity: float | None = None
    elasticity_low: float | None = None
    elasticity_high: float | None = None
    elasticity_source: str | None = None
    reference_price: float | None = None
    reference_demand: float | None = None
    note: str | None = None


def model(services):
    return services.model("forecast", MODEL_NAME, pipeline.load_model)


def _known(served, item: str) -> None:
    if item not in set(served.items.tolist()):
        raise HTTPException(status_code=404, detail=f"item {item!r} is not in the demand model's training data")


def item_forecast(services, item: str, horizon: int | None = None) -> ItemForecast:
    """What the endpoint and the dashboard both call."""
    served = model(services)
    _known(served, item)
    frame = pipeline.item_forecast(served, item, horizon).astype(object)
    rows = [{k: (None if v != v else v) for k, v in row.items()} for row in frame.drop(columns="item").to_dict("records")]
    return ItemForecast(item=item, model=served.kind_, freq=served.freq_, periods=[Period(**r) for r in rows])


@router.get("/items/{item_id}", summary="an item's demand per period ahead, with 80 % and 95 % intervals")
def item_endpoint(request: Request, item_id: str = Path(min_length=1, max_length=100, examples=["85123A"]),
                  horizon: int | None = Query(None, ge=1, le=MAX_HORIZON, description="periods (default: the "
                                              "model's)")) -> ItemForecast:
    return item_forecast(request.app.state.services, item_id, horizon)


@router.get("/items/{item_id}/whatif", summary="demand and revenue of the next period at a price, or unknown")
def whatif_endpoint(request: Request, item_id: str = Path(min_length=1, max_length=100, examples=["85123A"]),
                    price: float | None = Query(None, gt=0, le=1e12, description="the unit price to ask about "
                                                "(default: the last price paid)")) -> WhatIf:
    served = model(request.app.state.services)
    _known(served, item_id)
    if price is None:
        price = float(served.price_.reference_price_[served.price_.items_.tolist().index(item_id)])
    answer = pipeline.whatif(served, item_id, price)
    answer.pop("observed_prices", None)
    return WhatIf(**answer)
