"""Rendering for the command line: aligned tables, times, colour and JSON.

Dependency-free on purpose: the CLI must work in a bare virtual environment.
Colour is used only when the stream is a terminal and ``NO_COLOR`` is unset
(https://no-color.org).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, TextIO

_COLOURS = {
    "completed": "32",  # green
    "failed": "31",  # red
    "running": "33",  # yellow
    "retrying": "33",
    "queued": "36",  # cyan
    "cancelled": "35",  # magenta
    "pending": "2",  # dim
}


def use_colour(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def status_text(status: str, colour: bool) -> str:
    code = _COLOURS.get(status)
    if not colour or code is None:
        return status
    return f"\x1b[{code}m{status}\x1b[0m"


def visible_len(text: str) -> int:
    """The length of text on screen: colour codes take no room."""
    length, i = 0, 0
    while i < len(text):
        if text[i] == "\x1b":
            end = text.find("m", i)
            i = len(text) if end < 0 else end + 1
            continue
        length += 1
        i += 1
    return length


def table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], *, right: Sequence[int] = ()
) -> str:
    """Aligned text columns, two spaces apart; ``right`` lists the columns
    (by index) to align right, such as numbers and durations."""
    cells = [[str(h) for h in headers]]
    cells += [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(visible_len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for row in cells:
        parts = []
        for i, cell in enumerate(row):
            pad = " " * (widths[i] - visible_len(cell))
            parts.append(pad + cell if i in right else cell + pad)
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)


def clock_time(value: datetime | None) -> str:
    """Local wall-clock time with milliseconds, or "-"."""
    if value is None:
        return "-"
    return value.astimezone().strftime("%H:%M:%S.") + f"{value.microsecond // 1000:03d}"


def date_time(value: datetime | None) -> str:
    """Local date and time to the second, or "-"."""
    if value is None:
        return "-"
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def duration(value: timedelta | None) -> str:
    """"0.412 s", "2 min 03.5 s", or "-"."""
    if value is None:
        return "-"
    seconds = value.total_seconds()
    if seconds < 60:
        return f"{seconds:.3f} s"
    minutes, rest = divmod(seconds, 60)
    if minutes < 60:
        return f"{int(minutes)} min {rest:04.1f} s"
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours} h {minutes:02d} min"


def to_json_text(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=_json_default)


def _json_default(value: Any) -> Any:
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def print_json(value: Any, stream: TextIO | None = None) -> None:
    print(to_json_text(value), file=stream or sys.stdout)


def run_duration(run: Any) -> timedelta | None:
    """Time from the run's creation to its last change (for a finished run,
    its total time)."""
    if run.created_on is None or run.modified_on is None:
        return None
    return run.modified_on - run.created_on


def steps_table(run: Any, colour: bool = False) -> str:
    rows = []
    with_errors = any(step.error for step in run.steps)
    for step in run.steps:
        row = [
            step.name,
            status_text(step.status, colour),
            step.attempts,
            clock_time(step.invoked_on),
            clock_time(step.completed_on),
            duration(step.duration),
        ]
        if with_errors:
            row.append(step.error or "")
        rows.append(row)
    headers = ["step", "status", "attempts", "invoked", "completed", "duration"]
    if with_errors:
        headers.append("error")
    return table(headers, rows, right=(2, 5))


def run_summary(run: Any, colour: bool = False) -> str:
    done = sum(1 for step in run.steps if step.status == "completed")
    text = (
        f"run {run.id} {status_text(run.status, colour)} in {duration(run_duration(run))}"
        f" ({done}/{len(run.steps)} steps completed)"
    )
    if run.error:
        text += f": {run.error}"
    return text


def run_header(run: Any, colour: bool = False) -> str:
    fields = [
        ("run", run.id),
        ("configuration", f"{run.configuration_name} ({run.configuration_id})"),
        ("status", status_text(run.status, colour)),
        ("description", run.description or "-"),
        ("ingestion id", run.ingestion_id or "-"),
        ("created", date_time(run.created_on)),
        ("modified", date_time(run.modified_on)),
        ("duration", duration(run_duration(run))),
    ]
    if run.payload:
        fields.append(("payload", json.dumps(run.payload)))
    if run.error:
        fields.append(("error", run.error))
    width = max(len(name) for name, _ in fields)
    return "\n".join(f"{name + ':':<{width + 1}} {value}" for name, value in fields)


def runs_table(runs: Sequence[Any], colour: bool = False) -> str:
    rows = []
    for run in runs:
        done = sum(1 for step in run.steps if step.status == "completed")
        rows.append([
            run.id,
            run.configuration_name,
            status_text(run.status, colour),
            f"{done}/{len(run.steps)}",
            date_time(run.created_on),
            duration(run_duration(run)),
            run.description,
        ])
    headers = ["id", "configuration", "status", "steps", "created", "duration", "description"]
    return table(headers, rows, right=(3, 5))


def event_line(event: Any, width: int = 0, colour: bool = False) -> str:
    """One transition as a line: time, step (``run`` for the run's own),
    old -> new status, and the detail."""
    step = event.step_name if event.step >= 0 else "run"
    text = (f"{clock_time(event.time)}  {step:<{width}}  "
            f"{event.from_status or 'new'} -> {status_text(event.to_status, colour)}")
    return f"{text}  ({event.detail})" if event.detail else text


def name_width(run: Any) -> int:
    """The width of the step column of event lines for this run."""
    return max([len("run")] + [len(step.name) for step in run.steps])
