"""Following transitions as they happen, whichever process commits them.

The store's event log has every transition, from every process, numbered by
``seq``; the live feed (``Engine.events()``) has this process's, and every
process's on a broker transport. So the log is read, from where the reader
left off, whenever the live feed says something happened, and at least
every ``poll`` seconds for what no live feed brings (other processes on the
memory:// transport sharing a SQLite store).

``Follower`` is the one reader of the log: ``engine.watch(run)`` and
``isoqube runs watch`` follow one run with ``until_run_ends()``, the
controlcenter's event hub every run with ``wait()`` and ``read()``, its
server-sent events and ``Engine.events()`` read what is stored with
``read()``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from ._core import EventFeed
from .errors import TimeoutError
from .model import Event

POLL_SECONDS = 0.25
_PAGE = 1000


class Follower:
    """The stored events of one run (``run_id``) or of every run (None)
    after ``after_seq``, each handed out once, oldest first.

    One run's events are read by seq. Every run's are read through an
    ``EventFeed``, which also brings an event committed late with a seq
    below one already read (MongoDB). One thread at a time.
    """

    def __init__(self, engine: Any, run_id: str | None = None, *, after_seq: int = 0,
                 poll: float = POLL_SECONDS) -> None:
        self._engine = engine
        self._run_id = run_id
        self._poll = poll
        self._feed = None if run_id else EventFeed(after_seq)
        self.seq = after_seq
        """The greatest seq handed out (``after_seq`` before any)."""

    def read(self) -> Iterator[Event]:
        """The events stored since the last read, read a page of the log at
        a time."""
        while True:
            page = self._page()
            for event in page:
                self.seq = max(self.seq, event.seq)
                yield event
            if len(page) < _PAGE:
                return

    def _page(self) -> list[Event]:
        if self._feed is not None:
            return [Event.from_dict(e)
                    for e in self._engine._core.read_event_feed(self._feed, _PAGE)]
        return self._engine.event_log(self._run_id, after_seq=self.seq, limit=_PAGE)

    def wait(self, timeout: float | None = None) -> None:
        """Returns at the next live event this process hears of, or after
        ``timeout`` seconds (None: ``poll``)."""
        with self._engine.events(timeout=self._poll if timeout is None else timeout) as live:
            next(live, None)

    def until_run_ends(self, timeout: float | None = None) -> Iterator[list[Event]]:
        """The run's events in batches as they are read: whatever is new
        each time something happens, and an empty batch after each ``poll``
        seconds without news (so displays of running times can move on).
        Ends after the batch with the event that finishes the run
        (completed, failed or cancelled). Raises isoqube.TimeoutError when
        the run is still going after ``timeout`` seconds (None: no limit)."""
        if self._run_id is None:
            raise ValueError("until_run_ends() follows one run: give the Follower a run id")
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            # The status is read before the events, so that the events of a
            # run seen finished are all read.
            run = self._engine.run(self._run_id)
            yield list(self.read())
            if run.done:
                return
            wait = self._poll
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"run {self._run_id} is still {run.status} after {timeout:g} s")
                wait = min(wait, left)
            self.wait(wait)
