"""/api/v1/social: transaction posts, their activity, and price / payment / product extraction with spans."""

from __future__ import annotations

import dataclasses

import pandas as pd
from fastapi import APIRouter, Request
from pydantic import BaseModel

from niaga.serve.routers.schemas import Texts
from niaga.social.extract import extract
from niaga.social.pipeline import label_posts, load_models

router = APIRouter(prefix="/social", tags=["social"])
EXAMPLE = {"texts": ["sudah bayar Rp150rb pakai GoPay tapi status pesanan masih belum dibayar"]}


class Extraction(BaseModel):
    price: list[int]
    price_spans: list[tuple[int, int]]
    payment_methods: list[str]
    payment_spans: list[tuple[int, int]]
    quantity: int | None
    quantity_span: tuple[int, int] | None
    product: str | None
    product_span: tuple[int, int] | None
    other_amounts: list[tuple[str, int, tuple[int, int]]]


class ExtractResponse(BaseModel):
    results: list[Extraction]


class Post(BaseModel):
    label: str
    confidence: float
    activity: str
    extraction: Extraction


class ClassifyResponse(BaseModel):
    results: list[Post]


class PostsRequest(Texts):
    model_config = {"json_schema_extra": {"examples": [EXAMPLE]}}


def extraction(text: str) -> Extraction:
    return Extraction(**dataclasses.asdict(extract(text)))


@router.post("/extract", summary="price, other amounts with their role, payment method, quantity, product, with spans")
def extract_endpoint(body: PostsRequest) -> ExtractResponse:
    return ExtractResponse(results=[extraction(text) for text in body.texts])


def classify(services, texts: list[str]) -> ClassifyResponse:
    models = services.model("social", "posts", load_models)
    labelled = label_posts(models, pd.DataFrame({"text": texts}), "text", extract=False)
    posts = [Post(label=row.label, confidence=float(row.confidence), activity=row.activity, extraction=extraction(text))
             for row, text in zip(labelled.itertuples(), texts)]
    for post in posts:
        services.metrics.scores.labels("social").observe(post.confidence)
    return ClassifyResponse(results=posts)


@router.post("/classify", summary="transaction or not, the activity of a transaction post, and the extraction")
def classify_endpoint(body: PostsRequest, request: Request) -> ClassifyResponse:
    return classify(request.app.state.services, body.texts)
