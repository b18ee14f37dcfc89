"""The API's OpenAPI document, and the server held to it: schemathesis
sends generated requests to every operation of a live controlcenter and
fails on a 500, a status the document does not list, or a response that
does not match its schema. Bounded: a few examples per operation."""

from __future__ import annotations

import json
import re

import pytest
from conftest import ROOT
from isoqube.controlcenter import openapi

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402  (schemathesis brings it)
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
# Endless streams cannot be fetched whole.
STREAMS = ("/api/events",)


def test_the_openapi_document_lists_every_route_of_the_app(controlcenter):
    document = controlcenter.client.get("/api/openapi.json").json()

    assert document["openapi"].startswith("3.1")
    routes = {route.path for route in controlcenter.server._server.config.app.routes
              if route.path.startswith(("/api", "/metrics"))}
    assert set(document["paths"]) == routes


def test_the_schema_in_the_docs_is_the_one_the_api_serves(controlcenter):
    served = controlcenter.client.get("/api/schema/configuration").json()
    docs = (ROOT / "docs" / "configuration.md").read_text()

    written = re.search(r"```json\n(.*?)\n```", docs, re.DOTALL).group(1)

    assert json.loads(written) == served == openapi.configuration_schema()


def answers(controlcenter, mode: GenerationMode, checks: list, examples: int) -> dict:
    """What schemathesis found, by operation, in ``examples`` requests of
    ``mode`` to each operation. (Its pytest plugin does not load under this
    pytest; its Python API with Hypothesis does the same.)"""
    schema = schemathesis.openapi.from_url(f"{controlcenter.url}api/openapi.json")
    failures = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in STREAMS:
            continue

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=examples, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def answers_as_documented(case):
            case.call_and_validate(checks=checks)

        try:
            answers_as_documented()
        except Unsatisfiable:  # nothing to get wrong: no parameters, no body
            pass
        except Exception as e:  # noqa: BLE001  (collected, reported below)
            failures[operation.label] = f"{type(e).__name__}: {e}"
    return failures


def test_every_operation_answers_as_documented(controlcenter):
    assert answers(controlcenter, GenerationMode.POSITIVE, CHECKS, 60) == {}


def test_every_operation_answers_bad_input_with_a_documented_4xx(controlcenter):
    checks = [not_a_server_error, status_code_conformance, content_type_conformance]
    assert answers(controlcenter, GenerationMode.NEGATIVE, checks, 30) == {}
