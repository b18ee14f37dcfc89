"""RunStates: the status of every run and step in the store, kept current
from the event log, for the metrics' "runs and steps by status".

Counting runs by status through the public API means reading every run
(about 1.2 s for 10,000 runs on SQLite), too slow for each scrape. So the
statuses are read once, in the background, and every event then sets the
status it names. Setting (rather than adding and subtracting) makes an
event that the first read already saw harmless, so the read may overlap
the events: the listener is added before the read and its events are held
until the read is done, then applied in order; the counts agree with the
store from there on.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

from isoqube import logger
from isoqube.model import Event

_log = logger("controlcenter")
_PAGE = 1000


class RunStates:
    def __init__(self, engine: Any) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._runs: dict[str, list[str]] = {}  # id -> [run status, step statuses...]
        self._held: list[Event] | None = []  # events held until loaded
        self.runs = Counter[str]()
        self.steps = Counter[str]()

    @property
    def loaded(self) -> bool:
        return self._held is None

    def load(self, retry_after: float = 5.0) -> None:
        """Reads every run (blocking, retrying while the store fails); then
        applies the events held meanwhile."""
        while True:
            try:
                self._read_all()
                break
            except Exception as e:
                _log.error("reading the runs for the metrics failed, retrying: %s", e)
                time.sleep(retry_after)
        # Events keep coming while the held ones are applied: they join the
        # held ones until none are left, so that all apply in order.
        while True:
            with self._lock:
                held = self._held or []
                self._held = [] if held else None
            if not held:
                return
            for event in held:
                self._apply(event)

    def _read_all(self) -> None:
        offset = 0
        while True:
            page = self._engine.runs(limit=_PAGE, offset=offset)
            with self._lock:
                for run in page:
                    self._set(run.id, [run.status, *(s.status for s in run.steps)])
            if len(page) < _PAGE:
                return
            offset += _PAGE

    def on_event(self, event: Event) -> None:
        """An EventHub listener."""
        with self._lock:
            if self._held is not None:
                self._held.append(event)
                return
        self._apply(event)

    def _apply(self, event: Event) -> None:
        with self._lock:
            states = self._runs.get(event.run_id)
            position = 0 if event.is_run_event else event.step + 1
            if states is not None and position < len(states):
                self._count(states[position], -1, position)
                states[position] = event.to_status
                self._count(event.to_status, 1, position)
                return
        # A run created after the first read: its steps (all pending at
        # first) are known only from the run itself.
        self._add_new(event.run_id)

    def _add_new(self, run_id: str) -> None:
        try:
            run = self._engine.run(run_id)
        except Exception as e:  # gone, or the store failed: the next event retries
            _log.debug("cannot read run %s for the metrics: %s", run_id, e)
            return
        with self._lock:
            if run_id not in self._runs:
                self._set(run.id, [run.status, *(s.status for s in run.steps)])

    def _set(self, run_id: str, states: list[str]) -> None:
        old = self._runs.get(run_id)
        if old is not None:
            for position, status in enumerate(old):
                self._count(status, -1, position)
        self._runs[run_id] = states
        for position, status in enumerate(states):
            self._count(status, 1, position)

    def _count(self, status: str, change: int, position: int) -> None:
        (self.runs if position == 0 else self.steps)[status] += change

    def counts(self) -> tuple[dict[str, int], dict[str, int]]:
        """(runs by status, steps by status)."""
        with self._lock:
            return dict(self.runs), dict(self.steps)
