"""The simulated work every Python consumer of the build-server demo does.

As in the seed, a consumer only logs that it consumed its event and waits
for a while; the run bookkeeping (invoked, completed, publishing the next
steps) is done by the core, not repeated in each consumer. The C++ Linux pool
(examples/build_server/linux_pool) behaves the same way.

Payload fields understood (the run's payload merged with the step's own):
  work_ms  milliseconds of simulated work, a non-negative integer (default 200)
  fail     a topic name, or a list of them: their consumers raise on every
           attempt, so the steps' retries run out
"""

from __future__ import annotations

import time
from typing import Any

DEFAULT_WORK_MS = 200
# Cancellation is noticed within one slice.
_SLICE_SECONDS = 0.02


def simulate(ctx: Any, service: str, **output: Any) -> dict:
    """Logs the consumed event, raises when the payload asks this topic to
    fail, works for ``work_ms`` while watching for cancellation, and returns
    ``output`` with the time spent (and ``cancelled`` when it stopped early)."""
    # The service's logger names the service: "[isoqube.<service>] ...".
    ctx.log.info(
        f"{ctx.consumer} consumed {ctx.topic} "
        f"(run {ctx.run_id}, step {ctx.step}, attempt {ctx.attempt})"
    )
    payload = ctx.payload if isinstance(ctx.payload, dict) else {}
    if _failure_requested(payload.get("fail"), ctx.topic):
        raise RuntimeError(f"simulated failure of {ctx.topic}")
    started = time.monotonic()
    finished = _work(ctx, _work_ms(payload.get("work_ms", DEFAULT_WORK_MS)))
    result = {**output, "service": service}
    result["duration_ms"] = round((time.monotonic() - started) * 1000)
    if not finished:
        result["cancelled"] = True
    return result


def _failure_requested(fail: Any, topic: str) -> bool:
    if isinstance(fail, str):
        return fail == topic
    return isinstance(fail, list) and topic in fail


def _work_ms(value: Any) -> int:
    # Payloads are data from outside: a bad value fails the step clearly.
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(
            f"payload field work_ms must be a non-negative integer (milliseconds), got {value!r}"
        )
    return value


def _work(ctx: Any, work_ms: int) -> bool:
    """Sleeps in slices; False when the run was cancelled meanwhile."""
    deadline = time.monotonic() + work_ms / 1000.0
    while not ctx.cancelled:
        left = deadline - time.monotonic()
        if left <= 0:
            return True
        time.sleep(min(left, _SLICE_SECONDS))
    return False
