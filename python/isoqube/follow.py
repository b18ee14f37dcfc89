"""Following transitions as they happen, whichever process commits them.

The store's event log has every transition, from every process, numbered by
``seq``; the live feed (``Engine.events()``) has this process's, and every
process's on a broker transport. So the log is read, from where the reader
left off, whenever the live feed says something happened, and at least
every ``poll`` seconds for what no live feed brings (other processes on the
memory:// transport sharing a SQLite store). Used by ``Engine.watch()``,
``isoqube runs watch`` and the controlcenter.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from .errors import TimeoutError
from .model import Event

POLL_SECONDS = 0.25
_PAGE = 1000


def wait_for_events(engine: Any, timeout: float) -> None:
    """Returns at the next live event this process hears of, or after
    ``timeout`` seconds."""
    with engine.events(timeout=timeout) as live:
        next(live, None)


def stored_events(engine: Any, run_id: str | None, after_seq: int) -> Iterator[Event]:
    """The stored events after ``after_seq`` (of one run, or all), oldest
    first, read a page at a time."""
    while True:
        page = engine.event_log(run_id, after_seq=after_seq, limit=_PAGE)
        yield from page
        if len(page) < _PAGE:
            return
        after_seq = page[-1].seq


def feed_events(engine: Any, feed: Any) -> Iterator[Event]:
    """Every run's events not yet taken from ``feed`` (an
    ``isoqube._core.EventFeed``), each once, read a page at a time: unlike
    ``stored_events(engine, None, seq)`` it also brings an event committed
    late with a seq below one already read."""
    while True:
        page = engine._core.read_event_feed(feed, _PAGE)
        yield from (Event.from_dict(e) for e in page)
        if len(page) < _PAGE:
            return


def event_batches(engine: Any, run_id: str, *, timeout: float | None = None,
                  poll: float = POLL_SECONDS) -> Iterator[list[Event]]:
    """A run's events from its creation on, in batches as they are read:
    whatever is new each time something happens, and an empty batch after
    each ``poll`` seconds without news (so displays of running times can
    move on). Ends after the batch with the event that finishes the run
    (completed, failed or cancelled). Raises isoqube.TimeoutError when the
    run is still going after ``timeout`` seconds (None: no limit)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    seq = 0
    while True:
        # The status is read before the events, so that the events of a
        # run seen finished are all read.
        run = engine.run(run_id)
        batch = list(stored_events(engine, run_id, seq))
        if batch:
            seq = batch[-1].seq
        yield batch
        if run.done:
            return
        wait = poll
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"run {run_id} is still {run.status} after {timeout:g} s")
            wait = min(wait, left)
        wait_for_events(engine, wait)
