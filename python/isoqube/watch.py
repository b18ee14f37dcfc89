"""``Engine.watch()``: a run followed until it ends, in a Jupyter cell or
as text.

In a notebook (an IPython kernel) the cell shows the run's table and
updates it in place (a display handle) as the run's events come; anywhere
else each transition is printed as a line, as ``isoqube runs watch`` does
when its output is not a terminal.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from . import console
from .display import run_html
from .follow import Follower
from .model import Run

# The cell is redrawn at most this often; a busy run would otherwise
# redraw it for every event.
_REDRAW_SECONDS = 0.2


def watch(engine: Any, run_id: str, timeout: float | None = None) -> Run:
    """Follows the run until it is completed, failed or cancelled; returns
    it as it ended. Raises isoqube.TimeoutError after ``timeout`` seconds
    (None: no limit)."""
    notebook = _notebook_display()
    if notebook is None:
        return _print_lines(engine, run_id, timeout)
    display, html = notebook
    handle = display(html(run_html(engine.run(run_id))), display_id=True)
    shown = time.monotonic()
    for _batch in Follower(engine, run_id).until_run_ends(timeout):
        if time.monotonic() - shown >= _REDRAW_SECONDS:
            handle.update(html(run_html(engine.run(run_id))))
            shown = time.monotonic()
    run = engine.run(run_id)
    handle.update(html(run_html(run)))
    return run


def _print_lines(engine: Any, run_id: str, timeout: float | None) -> Run:
    run = engine.run(run_id)
    width = console.name_width(run)
    print(f"watching run {run.id} of {run.configuration_name} ({run.status})")
    for batch in Follower(engine, run_id).until_run_ends(timeout):
        for event in batch:
            print(console.event_line(event, width))
        sys.stdout.flush()
    run = engine.run(run_id)
    print(console.run_summary(run))
    return run


def _notebook_display() -> tuple[Any, Any] | None:
    """IPython's display() and HTML when running in a kernel that shows
    rich output, else None (plain Python, terminal IPython)."""
    if "IPython" not in sys.modules:  # not imported: certainly no kernel
        return None
    try:
        from IPython import get_ipython
        from IPython.display import HTML, display
    except ImportError:
        return None
    shell = get_ipython()
    if shell is None or getattr(shell, "kernel", None) is None:
        return None
    return display, HTML
