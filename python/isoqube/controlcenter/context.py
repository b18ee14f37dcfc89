"""What every request handler of the controlcenter reaches: the engine and
the objects built around it for the app's lifetime."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from .catalog import Catalog
from .events import EventHub
from .metrics import Metrics


@dataclass
class Context:
    engine: Any
    catalog: Catalog
    hub: EventHub
    metrics: Metrics

    async def call(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        """Runs a blocking engine call on a worker thread (engine calls
        release the GIL), keeping the event loop free for other requests
        and the live event streams."""
        return await run_in_threadpool(function, *args, **kwargs)


def context(request: Request) -> Context:
    return request.app.state.context
