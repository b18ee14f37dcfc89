"""Rich displays for Jupyter: runs, steps and lists of runs as HTML tables
with status colours and durations (``_repr_html_`` of the model objects).

The styles are inline, as notebook front ends drop <style> blocks from
untrusted outputs; the colours are the controlcenter page's.
"""

from __future__ import annotations

import datetime as _dt
import html
from collections.abc import Iterable, Sequence
from typing import Any

# (text, background) of each status, as in controlcenter/static/style.css.
STATUS_COLOURS = {
    "pending": ("#4b5563", "#f1f2f4"),
    "queued": ("#0e6377", "#e0f6fa"),
    "running": ("#1e40af", "#e0eaff"),
    "retrying": ("#92400e", "#fdf0d9"),
    "completed": ("#166534", "#dcf5e3"),
    "failed": ("#991b1b", "#fde2e2"),
    "cancelled": ("#5b21b6", "#ede5fd"),
}
_BAR_COLOURS = {"pending": "#d1d5db", "queued": "#0891b2", "running": "#2563eb",
                "retrying": "#d97706", "completed": "#16a34a", "failed": "#dc2626",
                "cancelled": "#7c3aed"}
_TABLE = "border-collapse:collapse;font-size:13px"
_CELL = "padding:3px 10px;border-bottom:1px solid #e5e7eb;text-align:left"
_NUMBER = (_CELL.replace("text-align:left", "text-align:right")
           + ";font-variant-numeric:tabular-nums")


def text(value: Any) -> str:
    """A cell's text: times to the millisecond, durations in seconds."""
    if value is None or value == "":
        return ""
    if isinstance(value, _dt.datetime):
        return html.escape(value.astimezone().strftime("%Y-%m-%d %H:%M:%S.%f")[:-3])
    if isinstance(value, _dt.timedelta):
        return f"{value.total_seconds():.3f} s"
    return html.escape(str(value))


def clock(value: _dt.datetime | None) -> str:
    """Local time of day to the millisecond: the steps of a run share a date."""
    if value is None:
        return ""
    return value.astimezone().strftime("%H:%M:%S.%f")[:-3]


def status_html(status: str) -> str:
    colour, background = STATUS_COLOURS.get(status, STATUS_COLOURS["pending"])
    return (f"<span style='color:{colour};background:{background};border-radius:9px;"
            f"padding:1px 8px;font-weight:600;font-size:12px'>{html.escape(status)}</span>")


def _table(headers: Sequence[str], rows: Iterable[str], numbers: Sequence[int] = ()) -> str:
    head = "".join(
        f"<th style='{_NUMBER if i in numbers else _CELL}'>{h}</th>" for i, h in enumerate(headers))
    return (f"<table style='{_TABLE}'><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def _row(cells: Sequence[str], numbers: Sequence[int] = ()) -> str:
    return "<tr>" + "".join(
        f"<td style='{_NUMBER if i in numbers else _CELL}'>{c}</td>" for i, c in enumerate(cells)
    ) + "</tr>"


def _run_duration(run: Any) -> _dt.timedelta | None:
    if run.created_on is None or run.modified_on is None:
        return None
    return run.modified_on - run.created_on


def _bar(step: Any, start: _dt.datetime | None, span: float) -> str:
    """The step's place on the run's time axis, as a small inline bar."""
    end = step.completed_on or step.failed_on or step.cancelled_on
    if start is None or step.invoked_on is None or end is None or span <= 0:
        return ""
    left = 100 * (step.invoked_on - start).total_seconds() / span
    width = max(1.0, 100 * (end - step.invoked_on).total_seconds() / span)
    colour = _BAR_COLOURS.get(step.status, "#9ca3af")
    return (f"<div style='position:relative;width:160px;height:10px;background:#f3f4f6;"
            f"border-radius:3px'><div style='position:absolute;left:{left:.1f}%;"
            f"width:{width:.1f}%;height:10px;background:{colour};border-radius:3px'></div></div>")


def steps_html(run: Any) -> str:
    """A run's steps: status, attempts, times, duration, a timeline bar and
    the error of a failed step."""
    ends = [s.completed_on or s.failed_on or s.cancelled_on for s in run.steps]
    last = max([e for e in ends if e] + ([run.modified_on] if run.modified_on else []),
               default=None)
    span = (last - run.created_on).total_seconds() if last and run.created_on else 0.0
    rows = []
    for step in run.steps:
        cells = (text(step.name), status_html(step.status), text(step.attempts),
                 clock(step.invoked_on), clock(step.completed_on), text(step.duration),
                 _bar(step, run.created_on, span),
                 f"<span style='color:#991b1b'>{text(step.error)}</span>")
        rows.append(_row(cells, numbers=(2, 5)))
    headers = ("step", "status", "attempts", "invoked", "completed", "duration", "timeline",
               "error")
    return _table(headers, rows, numbers=(2, 5))


def run_html(run: Any) -> str:
    name = text(run.configuration_name or run.configuration_id)
    head = (f"<div style='margin-bottom:6px'><b>{name}</b> {status_html(run.status)} "
            f"<code style='font-size:12px'>{text(run.id)}</code>")
    if run.description:
        head += f" &mdash; {text(run.description)}"
    if run.created_on is not None:
        took = f", took {text(_run_duration(run))}" if run.done else ""
        head += f" <span style='color:#6b7280'>started {text(run.created_on)}{took}</span>"
    if run.error:
        head += f"<div style='color:#991b1b;margin-top:4px'>{text(run.error)}</div>"
    return head + "</div>" + steps_html(run)


def runs_html(runs: Sequence[Any]) -> str:
    """A list of runs, one row each, with a segment per step."""
    if not runs:
        return "<p><i>no runs</i></p>"
    rows = []
    for run in runs:
        done = sum(1 for s in run.steps if s.status == "completed")
        segments = "".join(
            f"<span title='{html.escape(s.name)}: {s.status}' style='display:inline-block;"
            f"width:9px;height:8px;margin-right:1px;border-radius:2px;"
            f"background:{_BAR_COLOURS.get(s.status, '#9ca3af')}'></span>" for s in run.steps)
        cells = (f"<code>{text(run.id[:8])}</code>", text(run.configuration_name),
                 status_html(run.status), f"{segments} {done}/{len(run.steps)}",
                 text(run.created_on), text(_run_duration(run)), text(run.description))
        rows.append(_row(cells, numbers=(5,)))
    headers = ("run", "configuration", "status", "steps", "created", "duration", "description")
    return _table(headers, rows, numbers=(5,))


def configuration_html(config: Any) -> str:
    rows = []
    for step in config.steps:
        after = ", ".join(step.after) if step.after is not None else "(the previous step)"
        retry = step.retry
        policy = "" if retry.attempts <= 1 else (
            f"{retry.attempts} attempts, {retry.interval:g} s &times;{retry.backoff:g}")
        rows.append(_row((text(step.name or step.topic), text(step.topic), text(after) or "—",
                          policy)))
    head = f"<div><b>{text(config.name)}</b> {text(config.description)}</div>"
    return head + _table(("step", "topic", "waits for", "retry"), rows)


class RunList(list):
    """The runs ``Engine.runs()`` returns: a plain list, shown in Jupyter as
    a table."""

    def _repr_html_(self) -> str:
        return runs_html(self)
