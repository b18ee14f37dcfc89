"""Reading JSON that comes from outside (HTTP bodies, configuration files)
within the limits every path of isoqube shares.

A document nested deeper than ``MAX_TEXT_DEPTH`` levels, the non-JSON constants
``NaN``, ``Infinity`` and ``-Infinity`` that Python's json module accepts,
numbers beyond a double (``1e400``) and integers beyond 64 bits are refused
with the reason, so that a hostile document fails where it enters, as a
ValueError, instead of deep inside (a RecursionError, an overflow in the
core, a store that cannot write infinity).
"""

from __future__ import annotations

import json
import math
import re
from itertools import accumulate
from typing import Any

# The C++ core's limits (isoqube/json.h, common/json_depth.h): a value
# (payload, output) nests at most MAX_DEPTH levels; a document that carries
# values (a request body, a configuration file, a message) may wrap them in a
# few levels of its own, MAX_TEXT_DEPTH in all. The core refuses a value past
# MAX_DEPTH where it enters.
MAX_DEPTH = 64
MAX_TEXT_DEPTH = MAX_DEPTH + 8

_STRING = re.compile(r'"(?:[^"\\]+|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")
_MIN_INT = -(1 << 63)
_MAX_INT = (1 << 64) - 1


class JsonInputError(ValueError):
    """JSON that is malformed or beyond isoqube's limits; the message says why."""


def loads(text: str) -> Any:
    """The value of the JSON document ``text``. Raises JsonInputError naming
    what is wrong (and where, for a syntax error)."""
    depth = nesting_depth(text)
    if depth > MAX_TEXT_DEPTH:
        raise JsonInputError(f"it nests {depth} levels deep; at most {MAX_TEXT_DEPTH} are "
                             "allowed")
    try:
        return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite,
                          parse_int=_bounded)
    except json.JSONDecodeError as e:
        raise JsonInputError(f"{e.msg} at line {e.lineno} column {e.colno}") from None


def nesting_depth(text: str) -> int:
    """How deep arrays and objects nest in ``text`` (brackets inside strings
    do not count), without parsing it: a parser would recurse that deep."""
    brackets = _BRACKET.findall(_STRING.sub("", text))
    return max(accumulate(1 if b in "[{" else -1 for b in brackets), default=0)


def check_value(value: Any) -> None:
    """Raises JsonInputError when an already parsed value (from TOML, say)
    is beyond the limits ``loads`` enforces. Iterative: it may be deep."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, float) and not math.isfinite(item):
            raise JsonInputError(f"{item} is not a finite number; numbers must be finite")
        elif isinstance(item, int) and not isinstance(item, bool):
            _bounded(str(item))
        children = item.values() if isinstance(item, dict) else item \
            if isinstance(item, list) else None
        if children is None:
            continue
        if depth > MAX_TEXT_DEPTH:
            raise JsonInputError(f"it nests more than {MAX_TEXT_DEPTH} levels deep; at most "
                                 f"{MAX_TEXT_DEPTH} are allowed")
        pending.extend((child, depth + 1) for child in children)


def _refuse_constant(name: str) -> Any:
    raise JsonInputError(f"{name} is not a JSON number; numbers must be finite")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonInputError(f"the number {_short(text)} is out of range (beyond a double)")
    return value


def _bounded(text: str) -> int:
    # int() of a very long digit string is slow and refused past 4300
    # digits; 20 digits hold every 64-bit integer.
    if len(text.lstrip("-")) > 20 or not _MIN_INT <= int(text) <= _MAX_INT:
        raise JsonInputError(f"the integer {_short(text)} is out of range (beyond 64 bits)")
    return int(text)


def _short(text: str) -> str:
    return text if len(text) <= 40 else f"{text[:20]}…{text[-10:]}"
