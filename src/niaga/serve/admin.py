"""/admin: what the commands that write the store ask the server that holds it (see ``niaga.store.owner``).

Answered only on the server's local unix socket (mode 0600: the server's own user), never on its TCP port:
the socket's file permissions are the authentication. Not in the OpenAPI page: no client of the API calls it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from niaga.serve.workers import FORWARDED
from niaga.store.schema import TABLES

PII_POLICIES = Literal["mask", "partial", "pseudonymize", "drop", "off"]


def on_local_socket(request: Request) -> None:
    """403 unless the request came over the unix socket (uvicorn gives a unix socket's server no port), and not
    passed on by another worker process from its TCP port."""
    server = request.scope.get("server")
    if not server or server[1] is not None or FORWARDED in dict(request.scope["headers"]):
        raise HTTPException(status_code=403, detail="the admin endpoints answer only on the server's local socket")


router = APIRouter(prefix="/admin", include_in_schema=False, dependencies=[Depends(on_local_socket)])


def services(request: Request):
    return request.app.state.services


class NewKey(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class NewModel(BaseModel):
    capability: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=100)
    path: str = Field(min_length=1, max_length=4096)


class Ingest(BaseModel):
    files: list[str] = Field(min_length=1, max_length=1000, description="absolute paths on the server's machine")
    pii: PII_POLICIES | None = None


def records(frame) -> list[dict]:
    return [{k: (None if v != v else str(v) if not isinstance(v, (int, float, bool, str)) else v)
             for k, v in row.items()} for row in frame.to_dict("records")]


@router.post("/keys")
def add_key(body: NewKey, request: Request) -> dict:
    return {"key": services(request).read(lambda store: store.add_key(body.name))}


class KeyToCheck(BaseModel):
    key: str = Field(max_length=500)


@router.post("/keys/check")
def check_key(body: KeyToCheck, request: Request) -> dict:
    """For the other workers of ``niaga serve --workers N``: the key's name, or null."""
    return {"name": services(request).key_name(body.key)}


@router.get("/keys")
def list_keys(request: Request) -> list[dict]:
    return records(services(request).read(lambda store: store.keys()))


@router.post("/keys/{key_id}/revoke")
def revoke_key(key_id: str, request: Request) -> dict:
    service = services(request)
    service.read(lambda store: store.revoke_key(key_id))
    service.forget()  # the revoked key stops working now, not when the key cache expires
    return {"key_id": key_id}


@router.post("/models")
def add_model(body: NewModel, request: Request) -> dict:
    service = services(request)
    entry = service.read(lambda store: store.register_model(body.capability, body.name, body.path))
    service.forget()  # serves from the next request on
    return entry


@router.get("/models")
def list_models(request: Request) -> list[dict]:
    return records(services(request).read(lambda store: store.models()))


@router.post("/ingest/{table}")
async def ingest_files(table: Literal[tuple(TABLES)], body: Ingest, request: Request) -> dict:  # type: ignore[valid-type]
    results, total = await asyncio.to_thread(services(request).ingest, table, [Path(f) for f in body.files],
                                             body.pii)
    return ingest_answer(table, results, total)


def ingest_answer(table: str, results, total: int) -> dict:
    return {"table": table, "rows_in_table": total,
            "files": [{"file": r.file, "rows": r.rows, "stored": r.stored, "quarantined": r.quarantined,
                       "duplicates": r.duplicates, "already_ingested": r.already_ingested, "summary": r.summary()}
                      for r in results]}
