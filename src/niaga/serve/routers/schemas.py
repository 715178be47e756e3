"""Request pieces every router shares: a batch of texts with limits."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from niaga.text.classify.pipeline import MAX_TEXT_CHARS

MAX_BATCH = 256
Text = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT_CHARS)]


class Texts(BaseModel):
    texts: list[Text] = Field(min_length=1, max_length=MAX_BATCH,
                              description=f"1 to {MAX_BATCH} texts of at most {MAX_TEXT_CHARS:,} characters")
