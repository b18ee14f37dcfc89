"""The controlcenter's web app: the routes, and what lives as long as it.

``create_app(engine)`` builds it around an open Engine that the caller owns
(and starts, when it is to execute runs itself): the app reads and drives
runs only through the engine's public API.
"""

from __future__ import annotations

import contextlib
import threading
import traceback
from collections.abc import AsyncIterator
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from isoqube import errors, logger

from . import api, openapi, sse
from .catalog import Catalog
from .context import Context, context
from .events import EventHub
from .guard import Access, Guard
from .metrics import CONTENT_TYPE, Metrics
from .request_body import ApiError

STATIC = resources.files(__package__) / "static"
_log = logger("controlcenter")


def create_app(engine: Any, *, poll: float = 0.25, access: Access | None = None) -> Starlette:
    """The ASGI app. ``poll``: how often, at most, the store's event log is
    read for transitions no live feed brings (other processes on memory://);
    ``access``: who may reach it (guard.py; default: loopback names, no
    token)."""
    ctx = Context(engine=engine, catalog=Catalog(engine), hub=EventHub(engine, poll=poll),
                  metrics=Metrics(engine))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.context = ctx
        ctx.hub.add_listener(ctx.metrics.on_event)
        await ctx.call(ctx.hub.start)
        # Reading every run for the counts takes a while with many runs;
        # nothing waits for it.
        threading.Thread(target=ctx.metrics.states.load, name="isoqube-metrics-load",
                         daemon=True).start()
        try:
            yield
        finally:
            await ctx.call(ctx.hub.close)

    return Starlette(routes=_routes(), lifespan=lifespan,
                     middleware=[Middleware(Guard, access=access or Access())],
                     exception_handlers={
        ApiError: _api_error, HTTPException: _http_error, errors.Error: _isoqube_error,
        Exception: _internal_error})


def _routes() -> list:
    return [
        Route("/", _index),
        Route("/metrics", _metrics),
        Route("/api/registeredtopics", api.registered_topics),
        Route("/api/configuration", api.save_configuration, methods=["POST"]),
        Route("/api/configuration/all", api.configurations),
        Route("/api/configuration/run", api.start_run, methods=["POST"]),
        Route("/api/configuration/run/all", api.runs),
        Route("/api/configuration/run/{id}", api.run),
        Route("/api/configuration/run/{id}/cancel", api.cancel_run, methods=["POST"]),
        Route("/api/configuration/run/{id}/resume", api.resume_run, methods=["POST"]),
        Route("/api/configuration/{id}", api.configuration),
        Route("/api/init", api.init, methods=["POST"]),
        Route("/api/health/ready", api.ready),
        Route("/api/health/live", api.live),
        Route("/api/info", api.info),
        Route("/api/events", sse.events),
        Route("/api/openapi.json", _openapi),
        Route("/api/schema/configuration", _configuration_schema),
        Mount("/static", StaticFiles(directory=str(STATIC)), name="static"),
    ]


async def _index(request: Request) -> Response:
    return FileResponse(str(STATIC / "index.html"), headers={"Cache-Control": "no-cache"})


async def _openapi(request: Request) -> Response:
    return JSONResponse(openapi.document())


async def _configuration_schema(request: Request) -> Response:
    return JSONResponse(openapi.configuration_schema())


async def _metrics(request: Request) -> Response:
    ctx = context(request)
    return PlainTextResponse(await ctx.call(ctx.metrics.render), media_type=CONTENT_TYPE)


async def _api_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, ApiError)
    return JSONResponse(error.to_json(), status_code=error.status, headers=dict(error.headers))


async def _http_error(request: Request, error: Exception) -> Response:
    # Starlette's own: no such route (404), method not allowed (405).
    assert isinstance(error, HTTPException)
    message = {404: f"no such endpoint: {request.url.path}",
               405: f"{request.method} is not allowed on {request.url.path}"}
    body = ApiError(error.status_code, message.get(error.status_code, error.detail))
    return JSONResponse(body.to_json(), status_code=error.status_code, headers=error.headers)


async def _isoqube_error(request: Request, error: Exception) -> Response:
    # Raised by an engine call outside api.engine_errors: the store or the
    # transport failed (503), or a bug of ours (500).
    status = 503 if isinstance(error, (errors.StoreError, errors.TransportError)) else 500
    return JSONResponse(ApiError(status, str(error)).to_json(), status_code=status)


async def _internal_error(request: Request, error: Exception) -> Response:
    _log.error("%s %s failed: %s", request.method, request.url.path,
               "".join(traceback.format_exception(type(error), error, error.__traceback__)))
    body = ApiError(500, f"internal error ({type(error).__name__}); the controlcenter's log "
                         f"has the details")
    return JSONResponse(body.to_json(), status_code=500)
