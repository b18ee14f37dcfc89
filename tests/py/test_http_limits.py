"""Bodies beyond what the API reads are refused with the reason (400),
never a 500, and nothing is written: a body nested deeper than 72 levels
or a payload deeper than 64,
the non-JSON constants NaN and Infinity, and numbers no double or 64-bit
integer holds."""

from __future__ import annotations

import pytest
from isoqube import json_input
from test_controlcenter_api import assert_refused

ENDPOINTS = ["/api/configuration", "/api/configuration/run", "/api/init"]


def nested(levels: int) -> bytes:
    """A run request nesting ``levels`` levels in all: its payload nests
    ``levels`` - 1."""
    inner = "[" * (levels - 2) + "]" * (levels - 2)
    return f'{{"configuration": "fetch-build", "payload": {{"deep": {inner}}}}}'.encode()


HOSTILE_BODIES = [
    pytest.param(nested(73), "nests 73 levels deep; at most 72", id="nested-73"),
    pytest.param(nested(66), "nested deeper than 64 levels", id="payload-nested-65"),
    pytest.param(nested(30_000), "nests 30000 levels deep", id="nested-30000"),
    pytest.param(b'{"configuration": "fetch-build", "payload": {"x": NaN}}', "NaN",
                 id="nan"),
    pytest.param(b'{"configuration": "fetch-build", "payload": {"x": Infinity}}', "Infinity",
                 id="infinity"),
    pytest.param(b'{"configuration": "fetch-build", "payload": {"x": -Infinity}}',
                 "-Infinity", id="minus-infinity"),
    pytest.param(b'{"configuration": "fetch-build", "payload": {"x": 1e400}}',
                 "1e400 is out of range", id="1e400"),
    pytest.param(b'{"configuration": "fetch-build", "payload": {"x": 18446744073709551616}}',
                 "out of range (beyond 64 bits)", id="int-beyond-64-bits"),
    pytest.param(b'{"configuration": "fetch-build", "payload": {"x": 1' + b"0" * 5000 + b"}}",
                 "out of range (beyond 64 bits)", id="int-of-5000-digits"),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(("body", "says"), HOSTILE_BODIES)
def test_a_hostile_body_is_refused_with_the_reason_and_writes_nothing(controlcenter, endpoint,
                                                                     body, says):
    configurations = controlcenter.client.get("/api/configuration/all").json()

    response = controlcenter.client.post(endpoint, content=body,
                                         headers={"Content-Type": "application/json"})

    assert_refused(response, 400, None, says)
    assert controlcenter.client.get("/api/configuration/run/all").json() == []
    assert controlcenter.client.get("/api/configuration/all").json() == configurations


def test_a_payload_nested_64_levels_deep_is_accepted(controlcenter):
    response = controlcenter.client.post("/api/configuration/run", content=nested(65),
                                         headers={"Content-Type": "application/json"})

    assert response.status_code == 201, response.text


def test_brackets_inside_strings_do_not_count_as_nesting():
    text = '{"a": "' + "[{" * 500 + '\\"' + "]}" * 3 + '"}'

    assert json_input.nesting_depth(text) == 1
    assert json_input.loads(text)["a"].startswith("[{[{")


def test_the_largest_64_bit_integers_are_read():
    assert json_input.loads("[18446744073709551615, -9223372036854775808]") == [
        2**64 - 1, -(2**63)]
