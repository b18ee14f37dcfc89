"""``GET /metrics``: Prometheus metrics, in the text exposition format.

    isoqube_runs{status}                    runs in the store by status
    isoqube_steps{status}                   their steps by status
    isoqube_step_duration_seconds{step}     histogram: from running to
                                            completed, for the steps that
                                            completed while this process ran
    isoqube_step_failures_total{step}       consumer failures (a step moved
                                            to retrying or failed)
    isoqube_events_total                    run events seen
    isoqube_worker_messages_total{outcome}  this process's worker: handled,
                                            failed, skipped, rejected
    isoqube_metrics_loaded                  1 once the run counts are read

Queue depths are not exposed: the public API does not tell them, and on a
broker the broker's own metrics do (rabbitmq_prometheus).
https://prometheus.io/docs/instrumenting/exposition_formats/
"""

from __future__ import annotations

import bisect
import threading
from collections import Counter
from typing import Any

from isoqube.model import RUN_STATUSES, STEP_STATUSES, Event

from .run_states import RunStates

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Simulated and real steps take from milliseconds to many minutes.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
           300.0, 900.0, 3600.0)
_FAILURES = frozenset({"retrying", "failed"})


class _Histogram:
    def __init__(self) -> None:
        self.counts = [0] * (len(BUCKETS) + 1)  # the last is +Inf
        self.total = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(BUCKETS, value)] += 1
        self.total += value


class Metrics:
    def __init__(self, engine: Any) -> None:
        self._engine = engine
        self.states = RunStates(engine)
        self._lock = threading.Lock()
        self._started: dict[tuple[str, int], Any] = {}  # running since
        self._durations: dict[str, _Histogram] = {}
        self._failures = Counter[str]()
        self._events = 0

    def on_event(self, event: Event) -> None:
        """An EventHub listener."""
        self.states.on_event(event)
        with self._lock:
            self._events += 1
            if event.is_run_event:
                return
            key = (event.run_id, event.step)
            if event.to_status == "running":
                self._started[key] = event.time
                return
            started = self._started.pop(key, None)
            if event.to_status in _FAILURES:
                self._failures[event.step_name] += 1
            if event.to_status == "completed" and started and event.time:
                histogram = self._durations.setdefault(event.step_name, _Histogram())
                histogram.observe((event.time - started).total_seconds())

    def render(self) -> str:
        """The exposition text (blocking: reads the worker's counters)."""
        runs, steps = self.states.counts()
        lines: list[str] = []
        _gauge(lines, "isoqube_runs", "Runs in the store by status.", "status",
               {s: runs.get(s, 0) for s in RUN_STATUSES})
        _gauge(lines, "isoqube_steps", "Steps of the runs in the store by status.", "status",
               {s: steps.get(s, 0) for s in STEP_STATUSES})
        with self._lock:
            self._render_steps(lines)
            _family(lines, "isoqube_events_total", "counter", "Run events seen.")
            lines.append(f"isoqube_events_total {self._events}")
        stats = self._engine.worker_stats() or {}
        _family(lines, "isoqube_worker_messages_total", "counter",
                "Messages of this process's worker by outcome.")
        lines += [f'isoqube_worker_messages_total{{outcome="{_escape(k)}"}} {v}'
                  for k, v in sorted(stats.items())]
        _gauge(lines, "isoqube_metrics_loaded",
               "1 once the run and step counts are read from the store.", None,
               {"": int(self.states.loaded)})
        return "\n".join(lines) + "\n"

    def _render_steps(self, lines: list[str]) -> None:
        name = "isoqube_step_duration_seconds"
        _family(lines, name, "histogram", "Step durations from running to completed.")
        for step, histogram in sorted(self._durations.items()):
            label = f'step="{_escape(step)}"'
            cumulative = 0
            for bound, count in zip((*BUCKETS, "+Inf"), histogram.counts):
                cumulative += count
                lines.append(f'{name}_bucket{{{label},le="{bound}"}} {cumulative}')
            lines.append(f"{name}_sum{{{label}}} {histogram.total:.6f}")
            lines.append(f"{name}_count{{{label}}} {cumulative}")
        _family(lines, "isoqube_step_failures_total", "counter",
                "Consumer failures: steps moved to retrying or failed.")
        lines += [f'isoqube_step_failures_total{{step="{_escape(step)}"}} {count}'
                  for step, count in sorted(self._failures.items())]


def _family(lines: list[str], name: str, kind: str, help_text: str) -> None:
    lines.append(f"# HELP {name} {help_text}")
    lines.append(f"# TYPE {name} {kind}")


def _gauge(lines: list[str], name: str, help_text: str, label: str | None,
           values: dict[str, int]) -> None:
    _family(lines, name, "gauge", help_text)
    for key, value in values.items():
        labels = f'{{{label}="{_escape(key)}"}}' if label else ""
        lines.append(f"{name}{labels} {value}")


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
