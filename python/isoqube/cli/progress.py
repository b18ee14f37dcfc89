"""The live display of ``isoqube runs watch`` on a terminal: a progress bar
and the run's steps with their statuses and times, redrawn in place.

Lines are cut to the terminal's width (a wrapped line would break the
redrawing), and a run with more steps than the terminal has lines shows the
steps that are not pending or completed, with counts of the others.
"""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import datetime, timezone
from typing import Any, TextIO

from isoqube import console

_SYMBOLS = {"pending": "·", "queued": "◦", "running": "▶", "retrying": "↻",
            "completed": "✔", "failed": "✘", "cancelled": "⊘"}
_ASCII_SYMBOLS = {"pending": ".", "queued": "o", "running": ">", "retrying": "~",
                  "completed": "+", "failed": "x", "cancelled": "-"}
_BAR = 24
_QUIET = ("pending", "completed")


class Progress:
    def __init__(self, stream: TextIO, colour: bool) -> None:
        self._stream = stream
        self._colour = colour
        self._drawn = 0
        unicode = (getattr(stream, "encoding", "") or "").lower().startswith("utf")
        self._symbols = _SYMBOLS if unicode else _ASCII_SYMBOLS
        self._fill = ("━", "─") if unicode else ("#", "-")

    def show(self, run: Any) -> None:
        """Draws the run over what was drawn before."""
        size = shutil.get_terminal_size()
        lines = [self._head(run)] + self._step_lines(run, size.lines - 2)
        lines = [_cut(line, size.columns - 1, self._symbols["pending"]) for line in lines]
        # Up to the first line drawn, then clear to the end of the screen.
        moved = f"\x1b[{self._drawn}F" if self._drawn else ""
        self._stream.write(moved + "\x1b[J" + "".join(line + "\n" for line in lines))
        self._stream.flush()
        self._drawn = len(lines)

    def _head(self, run: Any) -> str:
        done = sum(1 for step in run.steps if step.status == "completed")
        filled = round(_BAR * done / len(run.steps)) if run.steps else _BAR
        bar = self._fill[0] * filled + self._fill[1] * (_BAR - filled)
        took = console.duration(_elapsed(run))
        return (f"{run.configuration_name}  {self._status(run.status)}  {bar}  "
                f"{done}/{len(run.steps)} steps  {took}")

    def _step_lines(self, run: Any, room: int) -> list[str]:
        steps = run.steps
        hidden: Counter[str] = Counter()
        if len(steps) > room:
            hidden = Counter(s.status for s in steps if s.status in _QUIET)
            steps = [s for s in steps if s.status not in _QUIET][:max(0, room - 1)]
        width = max([len(s.name) for s in steps], default=0)
        lines = [f"  {self._symbols.get(s.status, ' ')} {s.name:<{width}}  "
                 f"{self._status(s.status):<{9 + self._escape_width(s.status)}}  "
                 f"{console.duration(_step_elapsed(s)) if s.invoked_on else ''}".rstrip()
                 for s in steps]
        if hidden:
            lines.append("  " + ", ".join(f"{n} {status}" for status, n in sorted(hidden.items())))
        return lines

    def _status(self, status: str) -> str:
        return console.status_text(status, self._colour)

    def _escape_width(self, status: str) -> int:
        return len(self._status(status)) - len(status)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _elapsed(run: Any) -> Any:
    if run.created_on is None:
        return None
    return (run.modified_on if run.done else _now()) - run.created_on


def _step_elapsed(step: Any) -> Any:
    end = step.completed_on or step.failed_on or step.cancelled_on
    if end is None and step.status not in ("running", "retrying"):
        return None
    return (end or _now()) - step.invoked_on


def _cut(line: str, width: int, mark: str) -> str:
    # Colour codes take no room; only plain text is counted and cut.
    if console.visible_len(line) <= width:
        return line
    out, seen, i = [], 0, 0
    while i < len(line) and seen < width - 1:
        if line[i] == "\x1b":
            end = line.find("m", i)
            out.append(line[i:end + 1])
            i = end + 1
            continue
        out.append(line[i])
        seen += 1
        i += 1
    reset = "\x1b[0m" if "\x1b" in line else ""
    return "".join(out) + mark + reset
