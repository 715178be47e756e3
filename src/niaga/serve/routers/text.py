"""/api/v1/text: Indonesian text normalization."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from niaga.serve.routers.schemas import Texts
from niaga.text import TextNormalizer

router = APIRouter(prefix="/text", tags=["text"])


class NormalizeRequest(Texts):
    emoji: Literal["drop", "word", "keep"] = "drop"
    slang: bool = True
    stopwords: bool = False
    stem: bool = False

    model_config = {"json_schema_extra": {"examples": [
        {"texts": ["Barang2nya bagusss bgt 😍 https://tokopedia.link/x"], "emoji": "word", "stem": True}]}}


class NormalizeResponse(BaseModel):
    normalized: list[str]


@router.post("/normalize", summary="normalize informal Indonesian (slang, emoji, URLs, stopwords, stemming)")
def normalize(body: NormalizeRequest) -> NormalizeResponse:
    normalizer = TextNormalizer(emoji=body.emoji, normalize_slang=body.slang, remove_stopwords=body.stopwords,
                                stem=body.stem).fit()
    return NormalizeResponse(normalized=normalizer.transform(body.texts))
