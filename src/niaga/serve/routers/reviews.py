"""/api/v1/reviews: emotion and sentiment of reviews, with the models the registry names."""

from __future__ import annotations

import asyncio
import weakref
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


def model_of(services, task: str):
    return services.model("reviews", task, lambda path: load_model(path, task=TASK))


class MicroBatcher:
    """One model call for the texts of every request that arrives while the previous call runs.

    A linear model classifies 32 texts in less than twice the time of one, so under concurrent load the model
    runs once per batch instead of once per request. The requests wait on the event loop, and the model runs
    there too (a few milliseconds; handing each call to a worker thread cost more than it saved, the threads
    fighting over the GIL); getting the model, which may query the registry or load it, runs in a worker
    thread, once per batch. The requests that come in meanwhile form the next batch. Idle, a request waits
    only ``GATHER`` for company."""

    GATHER = 0.003  # seconds: a few event-loop turns, for requests read from the sockets to reach the batch

    def __init__(self, model, run):
        self.model = model  # () → the model (may block: the registry, a first load)
        self.run = run  # (model, texts) → (labels, probabilities, the model's classes), in order
        self.pending: list[tuple[list[str], asyncio.Future]] = []
        self.running = False

    async def __call__(self, texts: list[str]):
        future = asyncio.get_running_loop().create_future()
        self.pending.append((texts, future))
        if not self.running:
            self.running = True
            asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self.pending:
                await asyncio.sleep(self.GATHER)  # let the requests already read reach the batch
                batch, self.pending = self.pending, []
                try:
                    model = await asyncio.to_thread(self.model)
                    labels, proba, classes = self.run(model, [text for texts, _ in batch for text in texts])
                except Exception as exc:  # noqa: BLE001 — every request of the batch gets the error
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                start = 0
                for texts, future in batch:
                    if not future.done():  # a client that went away cancelled its future
                        future.set_result((labels[start:start + len(texts)], proba[start:start + len(texts)],
                                           classes))
                    start += len(texts)
        finally:
            self.running = False


_batchers: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def predict(model, texts: list[str]):
    labels, proba = model.predict_and_proba(texts)
    return labels, proba, model.classes_


def batcher(services, task: str) -> MicroBatcher:
    per_task = _batchers.setdefault(services, {})
    if task not in per_task:
        per_task[task] = MicroBatcher(lambda: model_of(services, task), predict)
    return per_task[task]


def respond(labels, proba, classes, task: str, services) -> ClassifyResponse:
    results = [Label(label=str(label), confidence=round(float(row.max()), 4),
                     probabilities={str(c): round(float(p), 4) for c, p in zip(classes, row)})
               for label, row in zip(labels, proba)]
    for result in results:
        services.metrics.scores.labels("reviews").observe(result.confidence)
    return ClassifyResponse(model=f"reviews/{task}", results=results)


def classify(services, texts: list[str], task: str) -> ClassifyResponse:
    """What the dashboard calls (the endpoint the same, through the batcher)."""
    model = model_of(services, task)
    labels, proba = model.predict_and_proba(texts)
    return respond(labels, proba, model.classes_, task, services)


@router.post("/classify", summary="emotion or sentiment of each review")
async def classify_endpoint(body: ClassifyRequest, request: Request) -> ClassifyResponse:
    services = request.app.state.services
    labels, proba, classes = await batcher(services, body.task)(body.texts)
    return respond(labels, proba, classes, body.task, services)
