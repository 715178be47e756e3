"""The API and the dashboard: ``create_app(settings)`` builds the FastAPI application; ``niaga serve`` runs it.

Endpoints are versioned under /api/v1, one router per capability, typed with pydantic (limits on text
length, batch size and image size) and documented at /docs. They need an ``X-API-Key`` header (keys are
made with ``niaga serve keys add`` and stored hashed) unless the ``require_api_key`` setting is off.
/healthz and /metrics (Prometheus) are open; the dashboard pages are under /. /admin (keys, models, ingest for
the commands, ``niaga.serve.admin``) answers only on the store's local socket.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from niaga import __version__
from niaga.config import Settings, settings as load_settings
from niaga.errors import NiagaError
from niaga.privacy import mask_every_log_record, safe_message, unmask_log_records
from niaga.serve.services import NotServed, Services

log = logging.getLogger("niaga.serve")
API_KEY_HEADER = "X-API-Key"
API_PREFIX = "/api/v1"


def services(request: Request) -> Services:
    return request.app.state.services


async def require_key(request: Request) -> str | None:
    """The caller's key name; 401 without a valid key (when keys are required). Async, so that FastAPI does
    not hand every request to a worker thread for it: a key checked in the last seconds is a dict lookup; only
    asking the store runs in a thread."""
    service = services(request)
    if not service.settings.require_api_key:
        return None
    key = request.headers.get(API_KEY_HEADER)
    name = service.cached_key_name(key)
    if name is None:
        name = await asyncio.to_thread(service.key_name, key)
    if name is None:
        raise HTTPException(status_code=401, detail=f"a valid {API_KEY_HEADER} header is needed: make a key with "
                                                    "'niaga serve keys add NAME'")
    return name


class MeasureRequests:
    """Every request's latency and status in the Prometheus metrics, by route template (``/x/{id}``, so that ids
    do not explode the labels). A pure ASGI middleware: Starlette's ``BaseHTTPMiddleware`` (what
    ``@app.middleware("http")`` makes) runs each request in a task of its own and passes the response through a
    memory stream (with the key check as a plain ``def`` dependency, a thread hop per request, a minimal endpoint
    answered 2.7 times fewer requests: docs/benchmarks.md, section load)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        status = 500  # what the client gets when the app raises before answering

        async def send_and_note(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", "unmatched")
            if scope["path"].startswith(API_PREFIX + "/") and route is not None:
                path = API_PREFIX + path
            metrics = scope["app"].state.services.metrics
            metrics.latency.labels(scope["method"], path).observe(time.perf_counter() - start)
            metrics.requests.labels(scope["method"], path, str(status)).inc()


def create_app(config: Settings | None = None, worker: int = 0, owner=None) -> FastAPI:
    """``worker``, ``owner``: the process's number under ``niaga serve --workers N`` and, for all but the first,
    the socket of the first, which holds the store (``niaga.serve.workers``)."""
    config = config or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        mask_every_log_record()  # no raw personal data in any log line, whichever handler writes it
        app.state.services = Services(config, owner=owner)
        if config.stream_url:  # the consumer group's lag, asked of the broker at each scrape
            from niaga.stream.backend import open_backend
            from niaga.stream.metrics import GroupLagCollector

            app.state.services.metrics.registry.register(GroupLagCollector(
                open_backend(config.stream_backend, config.stream_url), config.stream_in, config.stream_group))
        try:
            yield
        finally:
            from niaga.serve.events import flush

            flush(app.state.services)  # the recommendations shown that are not logged yet
            app.state.services.close()
            unmask_log_records()

    app = FastAPI(title="niaga", version=__version__, lifespan=lifespan,
                  description="Intelligence for Indonesian e-commerce: text, reviews, social posts, fraud, "
                              "customers, recommendations and product images. Send the `X-API-Key` header.")

    app.add_middleware(MeasureRequests)

    @app.exception_handler(NotServed)
    async def not_served(request: Request, exc: NotServed):
        return JSONResponse(status_code=404, content={"detail": str(exc)})

    @app.exception_handler(NiagaError)
    async def user_error(request: Request, exc: NiagaError):
        return JSONResponse(status_code=422, content={"detail": safe_message(exc)})

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse(status_code=500, content={"detail": "internal error: see the server log"})

    @app.get("/healthz", tags=["system"], summary="liveness and what is loaded")
    def healthz(request: Request) -> dict:
        registered = services(request).registered()
        return {"status": "ok", "version": __version__, "worker": worker,
                "models": sorted(f"{m['capability']}/{m['name']}" for m in registered)}

    @app.get("/metrics", tags=["system"], summary="Prometheus metrics", response_class=PlainTextResponse)
    def metrics(request: Request) -> PlainTextResponse:
        return PlainTextResponse(generate_latest(services(request).metrics.registry), media_type=CONTENT_TYPE_LATEST)

    from niaga.serve import admin, dashboard
    from niaga.serve.routers import ROUTERS

    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX, dependencies=[Depends(require_key)])
    app.include_router(admin.router)
    app.include_router(dashboard.router)
    dashboard.mount_static(app)
    return app
