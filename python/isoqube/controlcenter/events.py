"""EventHub: every run event of the store, as it happens, for the page's
live updates (server-sent events) and the metrics.

The store's event log is the source: every transition is in it, whichever
process committed it, numbered by ``seq``. The hub reads it from where it
left off whenever something may have happened: as soon as a live event
arrives (``Engine.events()``: this process's transitions, and every
process's on a broker transport), and at least every ``poll`` seconds for
transitions that no live feed brings (other processes on the memory://
transport sharing a SQLite store). Reading the log rather than passing the
live events on keeps the order, fills gaps and skips duplicates for free.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from isoqube import logger
from isoqube.model import Event

_log = logger("controlcenter")
_PAGE = 1000
Listener = Callable[[Event], None]


def latest_seq(engine: Any) -> int:
    """The seq of the newest stored event (0 when there is none), found in
    about 2·log2(seq) one-event reads rather than by reading the log."""
    def exists_after(seq: int) -> bool:
        return bool(engine.event_log(after_seq=seq, limit=1))

    if not exists_after(0):
        return 0
    low, high = 0, 1  # invariant: an event after low, none after high
    while exists_after(high):
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        if exists_after(middle):
            low = middle
        else:
            high = middle
    return high


class EventHub:
    """Calls each listener with every event stored after the hub started,
    in seq order, on the hub's own thread (listeners must be quick)."""

    def __init__(self, engine: Any, *, poll: float = 0.25) -> None:
        self._engine = engine
        self._poll = poll
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.seq = 0
        """The seq of the last event handed to the listeners."""

    def add_listener(self, listener: Listener) -> int:
        """Adds a listener; returns the seq after which it gets every event
        (those up to it, if needed, are in Engine.event_log)."""
        with self._lock:
            self._listeners.append(listener)
            return self.seq

    def remove_listener(self, listener: Listener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def start(self) -> None:
        self.seq = latest_seq(self._engine)
        self._thread = threading.Thread(target=self._follow, name="isoqube-event-hub",
                                        daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _follow(self) -> None:
        while not self._stop.is_set():
            try:
                self._wait_for_news()
                self._read_log()
            except Exception as e:  # a store that failed may come back: keep going
                _log.error("reading run events failed, retrying: %s", e)
                self._stop.wait(self._poll)

    def _wait_for_news(self) -> None:
        # Ends at the first live event, or after `poll` seconds without one.
        with self._engine.events(timeout=self._poll) as live:
            next(live, None)

    def _read_log(self) -> None:
        while not self._stop.is_set():
            page = self._engine.event_log(after_seq=self.seq, limit=_PAGE)
            for event in page:
                # Moving seq and taking the listeners together is what makes
                # add_listener's answer exact.
                with self._lock:
                    self.seq = event.seq
                    listeners = list(self._listeners)
                for listener in listeners:
                    _call(listener, event)
            if len(page) < _PAGE:
                return


def _call(listener: Listener, event: Event) -> None:
    # One broken listener must not keep the event from the others.
    try:
        listener(event)
    except Exception as e:
        _log.error("an event listener failed: %s: %s", type(e).__name__, e)
