"""The API and the dashboard: ``create_app(settings)`` builds the FastAPI application; ``niaga serve`` runs it.

Endpoints are versioned under /api/v1, one router per capability, typed with pydantic (limits on text
length, batch size and image size) and documented at /docs. They need an ``X-API-Key`` header (keys are
made with ``niaga serve keys add`` and stored hashed) unless the ``require_api_key`` setting is off.
/healthz and /metrics (Prometheus) are open; the dashboard pages are under /.
"""

from __future__ import annotations

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


def require_key(request: Request) -> str | None:
    """The caller's key name; 401 without a valid key (when keys are required)."""
    service = services(request)
    if not service.settings.require_api_key:
        return None
    name = service.key_name(request.headers.get(API_KEY_HEADER))
    if name is None:
        raise HTTPException(status_code=401, detail=f"a valid {API_KEY_HEADER} header is needed: make a key with "
                                                    "'niaga serve keys add NAME'")
    return name


def create_app(config: Settings | None = None) -> FastAPI:
    config = config or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        mask_every_log_record()  # no raw personal data in any log line, whichever handler writes it
        app.state.services = Services(config)
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

    @app.middleware("http")
    async def measure(request: Request, call_next):
        start = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")  # the template (/x/{id}), so ids do not explode the labels
        if request.url.path.startswith(API_PREFIX + "/") and route is not None:
            path = API_PREFIX + path
        metrics = request.app.state.services.metrics
        metrics.latency.labels(request.method, path).observe(time.perf_counter() - start)
        metrics.requests.labels(request.method, path, str(response.status_code)).inc()
        return response

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
        return {"status": "ok", "version": __version__,
                "models": sorted(f"{m['capability']}/{m['name']}" for m in registered)}

    @app.get("/metrics", tags=["system"], summary="Prometheus metrics", response_class=PlainTextResponse)
    def metrics(request: Request) -> PlainTextResponse:
        return PlainTextResponse(generate_latest(services(request).metrics.registry), media_type=CONTENT_TYPE_LATEST)

    from niaga.serve import dashboard
    from niaga.serve.routers import ROUTERS

    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX, dependencies=[Depends(require_key)])
    app.include_router(dashboard.router)
    dashboard.mount_static(app)
    return app
