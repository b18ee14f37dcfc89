"""Reading request bodies, and the API's one error type.

Every bad request ends in an ApiError, sent as a 4xx response with a JSON
body ``{"error": "...", "errors": [{"field": "steps[1].after", "message":
"..."}]}``: ``error`` says what was wrong in one line, ``errors`` lists each
problem with the field it belongs to (``null`` when it belongs to none), so
that the page can show it next to that field. Requests are read and checked
whole before anything is written, so a bad one changes nothing.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from isoqube import json_input

# Far above any configuration or run request; keeps a runaway client from
# making the server buffer megabytes.
MAX_BODY_BYTES = 1 << 20


class ApiError(Exception):
    """A request the API refuses: HTTP ``status`` and what was wrong."""

    def __init__(self, status: int, message: str, field: str | None = None,
                 errors: list[dict] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors if errors is not None else [{"field": field, "message": message}]
        self.headers: list[tuple[str, str]] = []

    def to_json(self) -> dict:
        return {"error": self.message, "errors": self.errors}


def bad_request(message: str, field: str | None = None) -> ApiError:
    return ApiError(400, message, field)


async def read_object(request: Request, *, optional: bool = False) -> dict:
    """The body as a JSON object; with ``optional``, an empty body is {}.
    Its Content-Type was checked before (guard.py): every write is JSON."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise ApiError(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    if not body.strip():
        if optional:
            return {}
        raise bad_request("the body is empty; a JSON object is expected")
    try:
        # Decoded here: json.loads would guess UTF-16 or UTF-32 from bytes.
        # Read on a worker thread: a hostile megabyte takes a few tenths of
        # a second, which the event loop serving everyone should not wait.
        value = await run_in_threadpool(json_input.loads, body.decode("utf-8"))
    except UnicodeDecodeError:
        raise bad_request("the body is not UTF-8 text") from None
    except json_input.JsonInputError as e:
        raise bad_request(f"the body is not valid JSON: {e}") from None
    if not isinstance(value, dict):
        raise bad_request(f"the body must be a JSON object, not {_json_type(value)}")
    return value


def string_field(body: dict, key: str) -> str:
    """A field that must be a string when present ("" when absent or null)."""
    return _field(body, key, str, "a string") or ""


# What a .NET client sends for a Guid it did not set.
_EMPTY_GUID = "00000000-0000-0000-0000-000000000000"


def id_field(body: dict, key: str) -> str:
    """An id field: a string, "" when absent, null or .NET's empty Guid."""
    value = string_field(body, key)
    return "" if value == _EMPTY_GUID else value


def object_field(body: dict, key: str) -> dict | None:
    """A field that must be a JSON object when present (None when absent)."""
    return _field(body, key, dict, "a JSON object")


def _field(body: dict, key: str, kind: type, name: str) -> Any:
    value = body.get(key)
    if value is not None and not isinstance(value, kind):
        raise bad_request(f"'{key}' must be {name}, not {_json_type(value)}", key)
    return value


def int_param(request: Request, key: str, default: int, *, minimum: int,
              maximum: int) -> int:
    """An integer query parameter within [minimum, maximum]."""
    text = request.query_params.get(key)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise bad_request(f"query parameter '{key}' must be an integer, not '{text}'",
                          key) from None
    if not minimum <= value <= maximum:
        raise bad_request(f"query parameter '{key}' must be from {minimum} to {maximum}, "
                          f"not {value}", key)
    return value


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
             type(None): "null"}
    for kind, name in names.items():
        if isinstance(value, kind):
            return name
    return "a number"
