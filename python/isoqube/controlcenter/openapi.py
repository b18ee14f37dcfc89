"""The OpenAPI 3.1 document of the HTTP API (``GET /api/openapi.json``):
every endpoint with its parameters, request and response schemas and the
statuses it answers. tests/py/test_openapi.py holds the server to it with
schemathesis. Request configurations use the JSON Schema of configuration
files (isoqube/configuration.schema.json), so there is one definition.
"""

from __future__ import annotations

import copy
import json
from importlib import resources
from typing import Any

import isoqube
from isoqube.model import RUN_STATUSES, STEP_STATUSES

from .request_body import MAX_BODY_BYTES

_JSON = "application/json"


def configuration_schema() -> dict:
    """The JSON Schema of a configuration (files, the API's requests)."""
    text = resources.files("isoqube").joinpath("configuration.schema.json").read_text("utf-8")
    return json.loads(text)


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(kind: str) -> dict:
    return {"type": [kind, "null"]}


def _object(properties: dict, required: Any = None, **extra: Any) -> dict:
    """An object with these properties, all required unless said otherwise."""
    keys = list(properties) if required is None else required
    return {"type": "object", "properties": properties, "required": keys, **extra}


_ERROR_STATUSES = {
    400: "invalid input (the body, a parameter, or a Host this server does not answer to)",
    401: "a token is set and the request does not carry it",
    403: "a write from a page of another origin",
    404: "no such configuration, run or consumer",
    409: "the run is in a state that does not allow it",
    413: f"the body is larger than {MAX_BODY_BYTES} bytes",
    415: "a POST without Content-Type: application/json",
    503: "the store or the transport does not answer",
}


def _responses(ok: int, ok_schema: dict | None, *errors: int, media: str = _JSON,
               description: str = "done") -> dict:
    responses: dict[str, Any] = {str(ok): {"description": description}}
    if ok_schema is not None:
        responses[str(ok)]["content"] = {media: {"schema": ok_schema}}
    for status in sorted({400, 401, *errors}):
        responses[str(status)] = {"description": _ERROR_STATUSES[status],
                                  "content": {_JSON: {"schema": _ref("Error")}}}
    return responses


_WRITE = (403, 413, 415)


def _body(schema: dict, required: bool = True) -> dict:
    return {"required": required, "content": {_JSON: {"schema": schema}}}


def _id_param(what: str) -> list:
    return [{"name": "id", "in": "path", "required": True, "description": what,
             "schema": {"type": "string"}}]


def _query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}


def _paths() -> dict:
    run_control = {"parameters": _id_param("the run's id"),
                   "requestBody": _body({"type": "object", "description": "ignored (the run "
                                         "itself, say); may be left out"}, required=False),
                   "responses": _responses(200, _ref("Run"), 404, 409, 503, *_WRITE)}
    return {
        "/api/registeredtopics": {"get": {
            "summary": "every known topic with the consumers of this process",
            "responses": _responses(200, {"type": "array", "items": _ref("Topic")}, 503)}},
        "/api/configuration": {"post": {
            "summary": "create a configuration, or replace the one of the same id or name",
            "requestBody": _body(_ref("ConfigurationInput")),
            "responses": _responses(200, _ref("Configuration"), 503, *_WRITE)}},
        "/api/configuration/all": {"get": {
            "summary": "every configuration, by name",
            "responses": _responses(200, {"type": "array", "items": _ref("Configuration")},
                                    503)}},
        "/api/configuration/{id}": {"get": {
            "summary": "one configuration, by id or name", "parameters": _id_param("id or name"),
            "responses": _responses(200, _ref("Configuration"), 404, 503)}},
        "/api/configuration/run": {"post": {
            "summary": "start a run of a configuration, or re-run the run of 'id'",
            "requestBody": _body(_ref("RunRequest")),
            "responses": _responses(201, _ref("Run"), 404, 503, *_WRITE,
                                    description="the run, started")}},
        "/api/configuration/run/all": {"get": {
            "summary": "runs, newest first, a page at a time (Link: rel=next when there "
                       "are more)",
            "parameters": [
                _query("limit", {"type": "integer", "minimum": 1, "maximum": 1000},
                       "runs per page (default 100)"),
                _query("offset", {"type": "integer", "minimum": 0}, "runs to skip"),
                _query("status", {"type": "string", "enum": list(RUN_STATUSES)},
                       "only runs of this status"),
                _query("configuration", {"type": "string"},
                       "only runs of this configuration (id or name)"),
                _query("view", {"type": "string", "enum": ["full", "summary"]},
                       "summary: without step specs and outputs")],
            "responses": _responses(200, {"type": "array", "items": {
                "anyOf": [_ref("Run"), _ref("RunSummary")]}}, 503)}},
        "/api/configuration/run/{id}": {"get": {
            "summary": "one run", "parameters": _id_param("the run's id"),
            "responses": _responses(200, _ref("Run"), 404, 503)}},
        "/api/configuration/run/{id}/cancel": {"post": {
            "summary": "cancel a pending or running run", **run_control}},
        "/api/configuration/run/{id}/resume": {"post": {
            "summary": "resume a failed or cancelled run from its unfinished steps",
            **copy.deepcopy(run_control)}},
        "/api/init": {"post": {
            "summary": "publish the first topic of a configuration, or 'topic', outside any run",
            "requestBody": _body(_ref("InitRequest")),
            "responses": _responses(202, _object({"topic": {"type": "string"},
                                                  "ingestionId": {"type": "string"}}),
                                    404, 503, *_WRITE, description="published")}},
        "/api/health/live": {"get": {
            "summary": "the server answers (no token needed)",
            "responses": _responses(200, _object({"status": {"const": "live"}}))}},
        "/api/health/ready": {"get": {
            "summary": "the store answers (no token needed)",
            "responses": {**_responses(200, _object({"status": {"const": "ready"}})),
                          "503": {"description": "the store does not answer",
                                  "content": {_JSON: {"schema": _object(
                                      {"status": {"const": "unavailable"},
                                       "error": {"type": "string"}})}}}}}},
        "/api/info": {"get": {
            "summary": "version, URIs (passwords masked), whether runs started here progress",
            "responses": _responses(200, _ref("Info"))}},
        "/api/events": {"get": {
            "summary": "server-sent events: every run event (?run=ID: one run's); "
                       "Last-Event-ID resumes",
            "parameters": [_query("run", {"type": "string"}, "only this run's events")],
            "responses": _responses(200, {"type": "string"}, media="text/event-stream")}},
        "/api/openapi.json": {"get": {
            "summary": "this document", "responses": _responses(200, {"type": "object"})}},
        "/api/schema/configuration": {"get": {
            "summary": "the JSON Schema of a configuration",
            "responses": _responses(200, {"type": "object"})}},
        "/metrics": {"get": {
            "summary": "Prometheus metrics",
            "responses": _responses(200, {"type": "string"}, media="text/plain")}},
    }


def _components() -> dict:
    config = configuration_schema()
    definitions = config.pop("$defs")
    config.pop("$schema", None)
    text = json.dumps({"ConfigurationInput": config, **definitions})
    schemas = json.loads(text.replace('"#/$defs/', '"#/components/schemas/'))
    time = _nullable("string")
    spec = {"name": {"type": "string"}, "topic": {"type": "string"},
            "after": {"type": "array", "items": {"type": "string"}},
            "retry": _object({"attempts": {"type": "integer"},
                              "intervalMs": {"type": "integer"},
                              "backoff": {"type": "number"}}),
            "payload": {"type": "object"}}
    seed_topic = {"name": {"type": "string"}, "description": {"type": "string"},
                  "type": {"type": "string"}, "version": {"type": "string"}}
    times = {key: time for key in ("invokedOn", "completedOn", "succeededOn", "failedOn",
                                   "retriedOn", "cancelledOn")}
    step = {**spec, "status": {"enum": list(STEP_STATUSES)}, "attempts": {"type": "integer"},
            **times, "error": {"type": "string"}, "output": {}}
    run = {"id": {"type": "string"}, "configurationId": {"type": "string"},
           "configurationName": {"type": "string"}, "description": {"type": "string"},
           "ingestionId": {"type": "string"}, "status": {"enum": list(RUN_STATUSES)},
           "createdOn": {"type": "string"}, "modifiedOn": {"type": "string"},
           "error": {"type": "string"}, "payload": {"type": "object"}}
    schemas.update({
        "Error": _object({"error": {"type": "string"}, "errors": {"type": "array", "items":
                          _object({"field": _nullable("string"),
                                   "message": {"type": "string"}})}}),
        "Topic": _object({**seed_topic, "entityName": {"type": "string"},
                          "namespace": {"type": "string"}, "schema": {},
                          "consumers": {"type": "array", "items": _object(
                              {"name": {"type": "string"}, "service": {"type": "string"}})}},
                         required=["name", "description", "type", "version", "consumers"]),
        "Configuration": _object({"id": {"type": "string"}, "name": {"type": "string"},
                                  "description": {"type": "string"},
                                  "steps": {"type": "array", "items": _object(spec)},
                                  "topics": {"type": "array", "items": _object(seed_topic)}}),
        "Run": _object({**run, "steps": {"type": "array", "items": _object(step)},
                        "topics": {"type": "array", "items": _object(
                            {**seed_topic, **times})}}),
        "RunSummary": _object({**{k: v for k, v in run.items() if k != "payload"},
                               "steps": {"type": "array", "items": _object(
                                   {k: step[k] for k in ("name", "topic", "status", "attempts",
                                                         "invokedOn", "completedOn")})}}),
        "RunRequest": {"type": "object", "description": (
            "one of: 'configuration' (a saved configuration's id or name), "
            "'runConfiguration' (a configuration, or the id or name of a saved one), 'id' "
            "(a run to re-run; the seed's re-run)"), "properties": {
            "id": _nullable("string"), "configuration": _nullable("string"),
            "runConfiguration": {"anyOf": [_ref("ConfigurationInput"), _object(
                {"id": _nullable("string"), "name": _nullable("string")}, required=[])]},
            "description": _nullable("string"), "ingestionId": _nullable("string"),
            "payload": _nullable("object")}},
        "InitRequest": {"type": "object", "properties": {
            "topic": _nullable("string"), "configuration": _nullable("string"),
            "runConfiguration": {"anyOf": [_ref("ConfigurationInput"), _object(
                {"id": _nullable("string"), "name": _nullable("string")}, required=[])]},
            "ingestionId": _nullable("string"), "payload": _nullable("object")}},
        "Info": _object({"version": {"type": "string"}, "transport": {"type": "string"},
                         "store": {"type": "string"}, "distributed": {"type": "boolean"},
                         "services": {"type": "array", "items": {"type": "string"}},
                         "executes": {"type": "boolean"},
                         "statuses": {"type": "array", "items": {"type": "string"}}}),
    })
    return {"schemas": schemas, "securitySchemes": {
        "token": {"type": "http", "scheme": "bearer",
                  "description": "with --token/ISOQUBE_TOKEN only"},
        "basic": {"type": "http", "scheme": "basic",
                  "description": "the token as the password, any user name"}}}


def document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "isoqube controlcenter", "version": isoqube.__version__,
                 "description": "The seed's HTTP API and isoqube's run control. Limits: "
                                f"bodies up to {MAX_BODY_BYTES} bytes, JSON nested at most "
                                "72 levels (64 in a payload), finite numbers, 64-bit "
                                "integers (else 400)."},
        "paths": _paths(),
        "components": _components(),
        "security": [{}, {"token": []}, {"basic": []}],
    }
