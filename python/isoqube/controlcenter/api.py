"""The HTTP JSON API: the seed's endpoints with their shapes, and run
detail, cancel and resume.

    GET  /api/registeredtopics             topics, with the consumers known here
    POST /api/configuration                create or update a configuration
    GET  /api/configuration/all            every configuration
    GET  /api/configuration/{id}           one configuration (id or name)
    POST /api/configuration/run            start a run; re-run when "id" names a run
    GET  /api/configuration/run/all        runs, newest first, a page at a time
    GET  /api/configuration/run/{id}       one run
    POST /api/configuration/run/{id}/cancel
    POST /api/configuration/run/{id}/resume
    POST /api/init                         publish a first topic outside any run
    GET  /api/health/ready, /api/health/live
    GET  /api/info                         versions, URIs, who executes runs
    GET  /api/openapi.json                 all of them, as OpenAPI 3.1 (openapi.py)

Errors are ApiError responses (request_body.py); isoqube's own exceptions
are translated where the engine is called, by ``engine_errors``.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

import isoqube
from isoqube import _core, errors
from isoqube.model import RUN_STATUSES, Configuration
from isoqube.uris import mask_uri

from .configuration_errors import error_field, problem
from .context import context
from .request_body import (
    ApiError,
    bad_request,
    id_field,
    int_param,
    object_field,
    read_object,
    string_field,
)
from .shapes import configuration_json, json_bytes, run_json, run_summary_json

DEFAULT_PAGE = 100
MAX_PAGE = 1000


@contextlib.contextmanager
def engine_errors(field_prefix: str = "", config: dict | None = None) -> Iterator[None]:
    """Translates the engine's exceptions into API errors: unknown things
    404, invalid input 400 (with the configuration field it concerns when
    ``config`` is the dict that was given), unreachable servers 503."""
    try:
        yield
    except errors.NotFoundError as e:
        raise ApiError(404, str(e)) from e
    except (errors.ConfigurationError, errors.MessageError, ValueError, TypeError) as e:
        # ValueError and TypeError: a value the core cannot take as JSON
        # (nested past its limit, say), raised where it is converted.
        field = error_field(e, config) if config is not None else None
        if field is None:
            raise ApiError(400, str(e)) from e
        raise ApiError(400, str(e), errors=[{"field": field_prefix + field,
                                             "message": problem(e)}]) from e
    except (errors.StoreError, errors.TransportError) as e:
        raise ApiError(503, str(e)) from e


async def registered_topics(request: Request) -> JSONResponse:
    ctx = context(request)
    return JSONResponse(await ctx.call(ctx.catalog.topics_json))


async def configurations(request: Request) -> JSONResponse:
    ctx = context(request)
    found = await ctx.call(ctx.engine.configurations)
    topics = await ctx.call(ctx.catalog.topics)
    ordered = sorted(found, key=lambda c: c.name.lower())
    return JSONResponse([configuration_json(c, topics) for c in ordered])


async def configuration(request: Request) -> JSONResponse:
    return await _one(request, lambda engine: engine.configuration, configuration_json)


async def _one(request: Request, find: Callable[[Any], Callable], to_json: Callable
               ) -> JSONResponse:
    """The thing ``find(engine)`` finds by the path's id, or 404."""
    ctx = context(request)
    with engine_errors():
        found = await ctx.call(find(ctx.engine), request.path_params["id"])
    return JSONResponse(to_json(found, await ctx.call(ctx.catalog.topics)))


async def save_configuration(request: Request) -> JSONResponse:
    ctx = context(request)
    body = await read_object(request)
    if "id" in body:
        body["id"] = id_field(body, "id")  # a new one: no id, null or the empty Guid
    await _check_topics(ctx, body)
    with engine_errors(config=body):
        saved = await ctx.call(ctx.engine.save_configuration, body)
    return JSONResponse(configuration_json(saved, await ctx.call(ctx.catalog.topics)))


async def _check_topics(ctx: Any, config: dict, prefix: str = "") -> None:
    unknown = await ctx.call(ctx.catalog.unknown_topics, config)
    if unknown:
        names = ", ".join(f"'{topic}'" for _, topic in unknown)
        raise ApiError(400, f"unknown topic{'s' if len(unknown) > 1 else ''} {names}",
                       errors=[{"field": prefix + field, "message": f"unknown topic '{topic}'"}
                               for field, topic in unknown])


async def start_run(request: Request) -> JSONResponse:
    """Starts a run of ``configuration`` (a saved configuration's id or name)
    or of ``runConfiguration`` (the seed's: a configuration object, run as
    given, or looked up by id or name when it has no steps); re-runs the run
    named by ``id`` instead when there is one."""
    ctx = context(request)
    body = await read_object(request)
    description = string_field(body, "description")
    rerun_of = id_field(body, "id")
    if rerun_of:
        with engine_errors():
            run = await ctx.call(ctx.engine.rerun, rerun_of, description)
        return await _created(ctx, run)
    target = await _run_target(ctx, body)
    ingestion_id = string_field(body, "ingestionId") or None
    payload = object_field(body, "payload")
    with engine_errors("runConfiguration.", target if isinstance(target, dict) else None):
        run = await ctx.call(ctx.engine.start_run, target, description,
                             ingestion_id=ingestion_id, payload=payload)
    return await _created(ctx, run)


async def _run_target(ctx: Any, body: dict) -> str | dict:
    name = string_field(body, "configuration")
    if name:
        return name
    config = object_field(body, "runConfiguration")
    if config is None:
        raise bad_request("say what to run: 'configuration' (a saved configuration's id or "
                          "name), 'runConfiguration' (a configuration), or 'id' (a run to "
                          "re-run)", "configuration")
    if config.get("steps") or config.get("topics"):
        await _check_topics(ctx, config, "runConfiguration.")
        return config
    for key in ("id", "name"):
        if id_field(config, key):
            return config[key]
    raise bad_request("'runConfiguration' has no steps and no id or name of a saved "
                      "configuration", "runConfiguration")


async def _created(ctx: Any, run: Any) -> JSONResponse:
    topics = await ctx.call(ctx.catalog.topics)
    return JSONResponse(run_json(run, topics), status_code=201,
                        headers={"Location": f"/api/configuration/run/{run.id}"})


async def runs(request: Request) -> Response:
    """A page of runs, newest first (``limit``, ``offset``, ``status``,
    ``configuration``); a ``Link: <...>; rel="next"`` header says there are
    more. Counting every run would cost a read of all of them, so there is
    no total. ``view=summary`` sends each run without its steps' specs and
    outputs (run_summary_json), as the runs page wants them."""
    ctx = context(request)
    view = request.query_params.get("view") or "full"
    if view not in ("full", "summary"):
        raise bad_request(f"unknown view '{view}'; full or summary", "view")
    limit = int_param(request, "limit", DEFAULT_PAGE, minimum=1, maximum=MAX_PAGE)
    offset = int_param(request, "offset", 0, minimum=0, maximum=2**62)
    status = request.query_params.get("status") or None
    if status is not None and status not in RUN_STATUSES:
        raise bad_request(f"unknown status '{status}'; one of {', '.join(RUN_STATUSES)}",
                          "status")
    configuration = request.query_params.get("configuration") or None
    with engine_errors():
        found = await ctx.call(ctx.engine.runs, limit=limit + 1, offset=offset,
                               status=status, configuration=configuration)
    headers = {}
    if len(found) > limit:
        found = found[:limit]
        following = request.url.include_query_params(offset=offset + limit)
        headers["Link"] = f'<{following.path}?{following.query}>; rel="next"'

    def render() -> bytes:
        # A page of runs is thousands of values: converted and encoded on a
        # worker thread, not on the event loop that serves everyone.
        if view == "summary":
            return json_bytes([run_summary_json(r) for r in found])
        topics = ctx.catalog.topics()
        return json_bytes([run_json(r, topics) for r in found])

    return Response(await ctx.call(render), media_type="application/json", headers=headers)


async def run(request: Request) -> JSONResponse:
    return await _one(request, lambda engine: engine.run, run_json)


async def cancel_run(request: Request) -> JSONResponse:
    ctx = context(request)
    await read_object(request, optional=True)  # nothing to say but {}
    run_id = request.path_params["id"]
    with engine_errors():
        cancelled = await ctx.call(ctx.engine.cancel, run_id)
        found = await ctx.call(ctx.engine.run, run_id)
    if not cancelled:
        raise ApiError(409, f"run {run_id} is already {found.status}; nothing to cancel")
    return JSONResponse(run_json(found, await ctx.call(ctx.catalog.topics)))


async def resume_run(request: Request) -> JSONResponse:
    ctx = context(request)
    await read_object(request, optional=True)
    try:
        with engine_errors():
            resumed = await ctx.call(ctx.engine.resume, request.path_params["id"])
    except ApiError as e:
        if e.status == 400:  # the run is not failed or cancelled
            e.status = 409
        raise
    return JSONResponse(run_json(resumed, await ctx.call(ctx.catalog.topics)))


async def init(request: Request) -> JSONResponse:
    """The seed's ``/api/init``: publishes the first topic of a configuration
    (``configuration``: id or name; ``runConfiguration``: a configuration
    object) or the given ``topic``, with a fresh ingestion id, outside any
    stored run: its consumers run, nothing is tracked."""
    ctx = context(request)
    body = await read_object(request)
    payload = object_field(body, "payload")
    topic = string_field(body, "topic") or await _first_topic(ctx, body)
    ingestion_id = string_field(body, "ingestionId") or str(uuid.uuid4())
    with engine_errors():
        try:
            await ctx.call(ctx.engine.publish, topic, payload, ingestion_id=ingestion_id)
        except errors.NotFoundError as e:
            raise ApiError(404, f"{e}: no consumer of it is registered in this "
                                f"controlcenter", "topic") from e
    return JSONResponse({"topic": topic, "ingestionId": ingestion_id}, status_code=202)


async def _first_topic(ctx: Any, body: dict) -> str:
    if "configuration" not in body and "runConfiguration" not in body:
        raise bad_request("say what to publish: 'topic', 'configuration' or "
                          "'runConfiguration'", "topic")
    target = await _run_target(ctx, body)
    with engine_errors("runConfiguration.", target if isinstance(target, dict) else None):
        if isinstance(target, dict):
            # Read by the core, as a run of it would be (steps and the seed's
            # topics must agree, unknown keys are refused).
            config = Configuration.from_dict(_core.normalize_configuration(target))
        else:
            config = await ctx.call(ctx.engine.configuration, target)
    # The first step that waits for nothing (steps[0] unless told otherwise).
    return next(s.topic for s in config.steps if not s.after)


async def ready(request: Request) -> JSONResponse:
    ctx = context(request)
    try:
        await ctx.call(ctx.engine.runs, limit=1)
    except errors.Error as e:
        return JSONResponse({"status": "unavailable", "error": str(e)}, status_code=503)
    return JSONResponse({"status": "ready"})


async def live(request: Request) -> JSONResponse:
    return JSONResponse({"status": "live"})


async def info(request: Request) -> JSONResponse:
    ctx = context(request)
    engine = ctx.engine
    consumers = await ctx.call(ctx.catalog.consumers)
    executes = bool(engine.started and consumers)
    return JSONResponse({
        "version": isoqube.__version__,
        "transport": mask_uri(engine.transport_uri),
        "store": mask_uri(engine.store_uri),
        "distributed": engine.distributed,
        "services": sorted({c.service for c in consumers}),
        # Whether runs started here can progress: on memory:// only this
        # process's consumers can execute them.
        "executes": executes or engine.distributed,
        "statuses": list(RUN_STATUSES),
    })
