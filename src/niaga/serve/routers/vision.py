"""/api/v1/vision: product labels (master > sub > article, gender) of an uploaded photo, and the most similar
catalogue products ("search with camera")."""

from __future__ import annotations

from pathlib import Path as FilePath

from fastapi import APIRouter, File, Query, Request, UploadFile
from pydantic import BaseModel

from niaga.errors import DataError
from niaga.serve.services import NotServed
from niaga.vision.dataset import decode_image
from niaga.vision.deploy import Runner
from niaga.vision.pipeline import INDEX_DIR, load_search, search

router = APIRouter(prefix="/vision", tags=["vision"])
MODEL_NAME = "products"
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_K = 100


class Labels(BaseModel):
    labels: dict[str, str]
    confidences: dict[str, float]
    runtime: str


class SimilarItem(BaseModel):
    rank: int
    catalogue_row: int
    score: float
    image: str
    labels: dict[str, str]


class SimilarResponse(BaseModel):
    predicted: Labels
    items: list[SimilarItem]
    milliseconds: float
    index_items: int


def load_served(path: FilePath):
    """(model, runner, index or None): recognition works without a catalogue index, search does not."""
    if (path / INDEX_DIR).exists():
        return load_search(path)
    from niaga.modeling import load_model

    model = load_model(path, task="vision")
    return model, Runner(model), None


def _pixels(model, data: bytes, name: str):
    if len(data) > MAX_IMAGE_BYTES:
        raise DataError(f"{name}: {len(data):,} bytes; an image may have at most {MAX_IMAGE_BYTES:,}")
    try:
        return decode_image(data, tuple(model.image_size_))
    except ValueError as exc:
        raise DataError(f"{name}: {exc}") from None


def _labels(decoded: dict, runtime: str) -> Labels:
    return Labels(labels={k: str(v) for k, v in decoded.items() if not k.endswith("_confidence") and v != ""},
                  confidences={k.removesuffix("_confidence"): round(float(v), 4) for k, v in decoded.items()
                               if k.endswith("_confidence") and v == v},
                  runtime=runtime)


def served(services):
    """(model, runner, index or None) of the registered product model; 404 saying how to make one (the main job
    does not: training takes minutes to hours)."""
    try:
        return services.model("vision", MODEL_NAME, load_served)
    except NotServed:
        raise NotServed(f"no product-image model is served: train one with 'niaga vision train --data DIR --out "
                        f"runs/vision' (20 minutes by default) and add it with 'niaga serve models add vision "
                        f"{MODEL_NAME} runs/vision'") from None


def recognize(services, data: bytes, name: str = "image") -> Labels:
    """What the endpoint and the dashboard both call."""
    model, runner, _ = served(services)
    pixels = _pixels(model, data, name)
    proba, _ = runner.run(pixels[None])
    result = _labels(model.decode(proba).iloc[0].to_dict(), runner.runtime_)
    for confidence in result.confidences.values():
        services.metrics.scores.labels("vision").observe(confidence)
    return result


def similar(services, data: bytes, k: int = 10, name: str = "image") -> SimilarResponse:
    model, runner, index = served(services)
    if index is None:
        raise DataError(f"the served vision model has no catalogue index: build one with 'niaga vision index' into "
                        f"its {INDEX_DIR}/ folder")
    found, info = search(model, runner, index, _pixels(model, data, name), k)
    label_columns = [c for c in found.columns if c not in ("rank", "score", "image", "path", "split")]
    items = [SimilarItem(rank=int(row["rank"]), catalogue_row=int(at), score=float(row["score"]),
                         image=str(row.get("image", "")),
                         labels={c: str(row[c]) for c in label_columns if row[c] == row[c]})
             for row, at in zip(found.to_dict("records"), info["index_rows"])]
    return SimilarResponse(predicted=_labels(info["predicted"], info["runtime"]), items=items,
                           milliseconds=info["milliseconds"], index_items=info["index_items"])


# sync endpoints: FastAPI runs them in its thread pool, so inference does not block the event loop
@router.post("/recognize", summary="the product's category at each level of the catalogue tree, and gender")
def recognize_endpoint(request: Request, image: UploadFile = File(description="a product photo "
                                                                          "(JPEG, PNG, WebP; at most 10 MB)")) -> Labels:
    return recognize(request.app.state.services, image.file.read(MAX_IMAGE_BYTES + 1), image.filename or "image")


@router.post("/similar", summary="the catalogue products most similar to a photo")
def similar_endpoint(request: Request, image: UploadFile = File(description="a product photo"),
                           k: int = Query(10, ge=1, le=MAX_K, description="how many products")) -> SimilarResponse:
    return similar(request.app.state.services, image.file.read(MAX_IMAGE_BYTES + 1), k, image.filename or "image")
