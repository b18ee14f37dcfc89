"""Services for the multi-process tests: workers import this file with
``isoqube worker --import``.

Every consumer returns the worker that ran it (``host:pid``), so a test can
tell which process did what.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import isoqube

WORKER = f"{socket.gethostname()}:{os.getpid()}"


@isoqube.topic("DistQuick", description="a short step")
class DistQuick:
    pass


@isoqube.topic("DistSlow", description="a step that takes a while the first time")
class DistSlow:
    pass


@isoqube.topic("DistAlwaysFails", description="a step whose consumer always raises")
class DistAlwaysFails:
    pass


@isoqube.consumer(DistQuick, service="quick-svc", name="DistQuickConsumer")
def quick(ctx):
    time.sleep(float(ctx.payload.get("sleep", 0)))
    return {"worker": WORKER}


@isoqube.consumer(DistSlow, service="slow-svc", name="DistSlowConsumer")
def slow(ctx):
    """Sleeps ``slow_seconds`` unless the file ``marker`` exists, which it
    creates first: so the attempt a test kills is slow and the one that takes
    over is quick."""
    marker = Path(ctx.payload["marker"])
    if not marker.exists():
        marker.write_text(WORKER)
        time.sleep(float(ctx.payload["slow_seconds"]))
    return {"worker": WORKER}


@isoqube.consumer(DistAlwaysFails, service="failing-svc", name="DistAlwaysFailsConsumer")
def always_fails(ctx):
    raise ValueError(f"always fails (attempt {ctx.attempt})")
