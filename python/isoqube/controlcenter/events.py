"""EventHub: every run event of the store, as it happens, for the page's
live updates (server-sent events) and the metrics.

The store's event log is the source, read by an isoqube.follow.Follower:
whenever a live event arrives, and at least every ``poll`` seconds.
Reading the log rather than passing the live events on keeps the order,
fills gaps and skips duplicates for free.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from isoqube import logger
from isoqube.follow import Follower
from isoqube.model import Event

_log = logger("controlcenter")
Listener = Callable[[Event], None]


def latest_seq(engine: Any) -> int:
    """The seq of the newest stored event (0 when there is none)."""
    return engine.last_event_seq()


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
        self._follower = Follower(engine, poll=poll)
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
        self._follower = Follower(self._engine, after_seq=self.seq, poll=self._poll)
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
                self._follower.wait()
                self._read_log()
            except Exception as e:  # a store that failed may come back: keep going
                _log.error("reading run events failed, retrying: %s", e)
                self._stop.wait(self._poll)

    def _read_log(self) -> None:
        for event in self._follower.read():
            if self._stop.is_set():
                return
            # Moving seq and taking the listeners together is what makes
            # add_listener's answer exact.
            with self._lock:
                self.seq = max(self.seq, event.seq)
                listeners = list(self._listeners)
            for listener in listeners:
                _call(listener, event)


def _call(listener: Listener, event: Event) -> None:
    # One broken listener must not keep the event from the others.
    try:
        listener(event)
    except Exception as e:
        _log.error("an event listener failed: %s: %s", type(e).__name__, e)
