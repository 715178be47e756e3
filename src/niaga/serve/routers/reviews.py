"""/api/v1/reviews: emotion and sentiment of reviews, with the models the registry names."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel

from niaga.modeling import load_model
from niaga.reviews.pipeline import TASK
from niaga.serve.routers.schemas import Texts

router = APIRouter(prefix="/reviews", tags=["reviews"])


class ClassifyRequest(Texts):
    task: Literal["emotion", "sentiment"] = "emotion"

    model_config = {"json_schema_extra": {"examples": [
        {"texts": ["barangnya bagus bgt, makasih seller", "kecewa, barang rusak"], "task": "emotion"}]}}


class Label(BaseModel):
    label: str
    confidence: float
    probabilities: dict[str, float]


class ClassifyResponse(BaseModel):
    model: str
    results: list[Label]


def classify(services, texts: list[str], task: str) -> ClassifyResponse:
    """What the endpoint and the dashboard both call."""
    model = services.model("reviews", task, lambda path: load_model(path, task=TASK))
    labels, proba = model.predict_and_proba(texts)
    results = [Label(label=str(label), confidence=round(float(row.max()), 4),
                     probabilities={str(c): round(float(p), 4) for c, p in zip(model.classes_, row)})
               for label, row in zip(labels, proba)]
    for result in results:
        services.metrics.scores.labels("reviews").observe(result.confidence)
    return ClassifyResponse(model=f"reviews/{task}", results=results)


@router.post("/classify", summary="emotion or sentiment of each review")
def classify_endpoint(body: ClassifyRequest, request: Request) -> ClassifyResponse:
    return classify(request.app.state.services, body.texts, body.task)
