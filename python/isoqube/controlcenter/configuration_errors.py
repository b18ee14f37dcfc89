"""Which field of a configuration an error of the core is about.

The core validates configurations (isoqube.Configuration, Engine.
save_configuration) and says in one line what is wrong, naming the JSON
path or the step. The editor shows each error next to its field; this finds
that field from the message, so that the rules stay in one place, the core.
A message that names no field maps to None (shown above the form).
"""

from __future__ import annotations

import re
from typing import Any

# JsonReader's errors quote the path: "invalid configuration 'x':
# 'steps[2].retry.attempts' must be an integer".
_PATH = re.compile(r"^invalid configuration[^:]*: '([\w.\[\]]+)' ")
_NAMED_STEP = re.compile(r"step '([^']*)'")
_NUMBERED_STEP = re.compile(r"\bstep (\d+) has no topic")
_DUPLICATE = re.compile(r"duplicate step name '[^']*' \(steps \d+ and (\d+)\)")
_CYCLE = re.compile(r"in a cycle: '([^']*)'")
_SUBJECT = re.compile(r"^(invalid )?configuration '[^']*': ")

# What a message about a named step says, and which of the step's fields
# that concerns.
_STEP_PROBLEMS: tuple[tuple[str, str], ...] = (
    ("unknown topic", "topic"),
    ("retry attempts", "retry.attempts"),
    ("retry interval", "retry.intervalMs"),
    ("retry backoff", "retry.backoff"),
    ("payload", "payload"),
    ("waits for", "after"),
)


def error_field(message: str, config: dict) -> str | None:
    """The path of the field ``message`` is about in ``config`` (the dict
    that was given, in isoqube's shape or the seed's), or None."""
    steps_key, topic_key = ("topics", "name") if "topics" in config else ("steps", "topic")
    match = _PATH.match(message)
    if match:
        return match.group(1)
    if message.startswith("configuration has no name"):
        return "name"
    if message.endswith("has no steps"):
        return steps_key
    for pattern, field in ((_NUMBERED_STEP, topic_key), (_DUPLICATE, "name")):
        match = pattern.search(message)
        if match:
            return f"{steps_key}[{int(match.group(1)) - 1}].{field}"
    match = _CYCLE.search(message)
    if match:
        return _step_field(config, steps_key, match.group(1), "after")
    match = _NAMED_STEP.search(message)
    if match:
        for problem, field in _STEP_PROBLEMS:
            if problem in message:
                if field == "topic":
                    field = topic_key
                return _step_field(config, steps_key, match.group(1), field)
    return None


def problem(message: str) -> str:
    """The message without the configuration it is about, for showing it
    next to a field of that configuration."""
    return _SUBJECT.sub("", message, count=1)


def _step_field(config: dict, steps_key: str, name: str, field: str) -> str | None:
    steps = config.get(steps_key)
    for index, step in enumerate(steps if isinstance(steps, list) else ()):
        if _name_of(step) == name:
            return f"{steps_key}[{index}].{field}"
    return None


def _name_of(step: Any) -> Any:
    # A step's name defaults to its topic; the seed's topics have only a name.
    if isinstance(step, dict):
        return step.get("name") or step.get("topic")
    return step
