"""/api/v1/ingest: load uploaded files (CSV, TSV, Excel, Parquet, JSON lines) into a warehouse table while the
server runs: the same validated, idempotent ingest with quarantine as ``niaga ingest``."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, File, Path as PathParam, Query, Request, UploadFile
from pydantic import BaseModel

from niaga.serve.admin import PII_POLICIES, ingest_answer
from niaga.store.schema import TABLES

router = APIRouter(prefix="/ingest", tags=["ingest"])


class IngestedFile(BaseModel):
    file: str
    rows: int
    stored: int
    quarantined: int
    duplicates: int
    already_ingested: bool
    summary: str


class Ingested(BaseModel):
    table: str
    rows_in_table: int
    files: list[IngestedFile]


@router.post("/{table}", summary="load files into a warehouse table: bad rows quarantined, repeated rows and files "
                                 "not stored twice")
async def ingest_endpoint(request: Request,
                          table: Literal[tuple(TABLES)] = PathParam(examples=["orders"]),  # type: ignore[valid-type]
                          files: list[UploadFile] = File(description="CSV, TSV, Excel, Parquet or JSON-lines files"),
                          pii: PII_POLICIES | None = Query(None, description="personal data: mask (default: the "
                                                                             "pii_policy setting), partial, ...")
                          ) -> Ingested:
    with tempfile.TemporaryDirectory(prefix="niaga-upload-") as folder:
        paths = []
        for number, upload in enumerate(files):
            name = Path(upload.filename or "upload").name
            path = Path(folder) / str(number) / name  # its own folder: two uploads may share a name
            path.parent.mkdir()
            with path.open("wb") as out:
                await asyncio.to_thread(shutil.copyfileobj, upload.file, out)
            paths.append(path)
        results, total = await asyncio.to_thread(request.app.state.services.ingest, table, paths, pii)
    answer = ingest_answer(table, results, total)
    for row, upload in zip(answer["files"], files):  # the name the client knows, not the temporary copy's
        row["summary"] = row["summary"].replace(row["file"], upload.filename or "upload")
        row["file"] = upload.filename or row["file"]
    return Ingested(**answer)
