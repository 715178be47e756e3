"""/api/v1/customers: segments, one customer's profile with the offers that apply."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel

from niaga.customers.profile import customer_profile, load_segments
from niaga.serve.services import NotServed

router = APIRouter(prefix="/customers", tags=["customers"])


class Segment(BaseModel):
    segment: str
    customers: int
    median_recency: float
    median_frequency: float
    median_monetary: float


class SegmentsResponse(BaseModel):
    customers: int
    segments: list[Segment]


class Profile(BaseModel):
    customer_id: str
    segment: str
    cluster: Any = None
    cluster_name: str | None = None
    rfm: dict[str, Any]
    country: str | None = None
    promotion_preference: dict[str, Any]
    offers: list[dict[str, str]]


def segments_summary(services) -> SegmentsResponse:
    table = load_segments(services.path("customers", "segments"))
    by_segment = table.groupby("segment").agg(customers=("customer_id", "size"), median_recency=("recency", "median"),
                                              median_frequency=("frequency", "median"),
                                              median_monetary=("monetary", "median"))
    rows = by_segment.sort_values("customers", ascending=False).reset_index().to_dict("records")
    return SegmentsResponse(customers=len(table), segments=[Segment(**r) for r in rows])


def profile(services, customer_id: str, attributes: dict[str, str]) -> Profile:
    try:
        promotion = services.path("customers", "promotion")
    except NotServed:
        promotion = None  # the profile falls back to Naive Bayes on seed 003's Table 1
    return Profile(**customer_profile(services.path("customers", "segments"), customer_id, model_dir=promotion,
                                      attributes=attributes))


@router.get("/segments", summary="customers per RFM segment, with median recency, frequency and spend")
def segments_endpoint(request: Request) -> SegmentsResponse:
    return segments_summary(request.app.state.services)


@router.get("/{customer_id}/profile", summary="segment, RFM, predicted promotion preference and the offers that apply")
def profile_endpoint(request: Request, customer_id: str = Path(max_length=100, examples=["12347"]),
                     age: str | None = Query(None, max_length=20, description="e.g. 19 (survey attribute)"),
                     gender: str | None = Query(None, max_length=20, description="e.g. female")) -> Profile:
    given = {k: v for k, v in {"age": age, "gender": gender}.items() if v}
    return profile(request.app.state.services, customer_id, given)
