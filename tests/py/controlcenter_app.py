"""A controlcenter for tests: a real server on a free loopback port, over an
engine with a small service whose steps the test steers.

Topics: Fetch and Build (succeed), Flaky (fails while the run's payload has
"fail": true), Hold (runs until the test releases it or the run is
cancelled). Configurations saved at start: "fetch-build" (Fetch, Build),
"held" (Fetch, Hold) and "flaky" (Fetch, Flaky with 2 quick attempts).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import isoqube
from conftest import WAIT, wait_until
from isoqube import Configuration, RetryPolicy, Step
from isoqube.controlcenter import Server


@dataclass
class Controlcenter:
    engine: isoqube.Engine
    server: Server
    client: httpx.Client
    release: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return self.server.url

    def start_run(self, configuration: str, **body) -> dict:
        response = self.client.post("/api/configuration/run",
                                    json={"configuration": configuration, **body})
        assert response.status_code == 201, response.text
        return response.json()

    def wait_for(self, run_id: str, *statuses: str) -> dict:
        """The run once its status is one of ``statuses``, read over HTTP."""
        seen: dict = {}

        def reached() -> bool:
            seen.update(self.client.get(f"/api/configuration/run/{run_id}").json())
            return seen["status"] in statuses

        assert wait_until(reached), f"run {run_id} is still {seen.get('status')}"
        return seen

    def wait_for_step(self, run_id: str, step: str, status: str) -> None:
        def reached() -> bool:
            run = self.client.get(f"/api/configuration/run/{run_id}").json()
            return any(s["name"] == step and s["status"] == status for s in run["steps"])

        assert wait_until(reached), f"step {step} of run {run_id} never became {status}"


def declare_services(registry: isoqube.Registry, release: threading.Event) -> None:
    for name, description in (("Fetch", "Fetch the sources"), ("Build", "Build them"),
                              ("Flaky", "Fails when asked"), ("Hold", "Waits for the test")):
        registry.topic(name, description=description)(type(name, (), {}))

    @registry.consumer("Fetch", service="sources", name="FetchConsumer")
    def fetch(ctx):
        return {"files": 3}

    @registry.consumer("Build", service="builds", name="BuildConsumer")
    def build(ctx):
        return {"built": True}

    @registry.consumer("Flaky", service="builds", name="FlakyConsumer")
    def flaky(ctx):
        if ctx.payload.get("fail"):
            raise RuntimeError("flaky broke on purpose")
        return {"ok": True}

    @registry.consumer("Hold", service="builds", name="HoldConsumer")
    def hold(ctx):
        deadline = time.monotonic() + WAIT
        while not release.is_set() and not ctx.cancelled and time.monotonic() < deadline:
            time.sleep(0.01)
        return {"released": release.is_set()}


CONFIGURATIONS = (
    Configuration("fetch-build", ["Fetch", "Build"], description="fetch, then build"),
    Configuration("held", ["Fetch", "Hold"], description="holds until released"),
    Configuration("flaky", ["Fetch", Step("Flaky", retry=RetryPolicy(attempts=2,
                                                                     interval=0.01))]),
)


def serve(registry: isoqube.Registry, store: str) -> Iterator[Controlcenter]:
    release = threading.Event()
    declare_services(registry, release)
    engine = isoqube.Engine("memory://", store, registry=registry, concurrency=4)
    engine.start()
    for config in CONFIGURATIONS:
        engine.save_configuration(config)
    server = Server(engine, port=0, poll=0.05)
    server.start()
    client = httpx.Client(base_url=server.url, timeout=WAIT)
    try:
        yield Controlcenter(engine, server, client, release)
    finally:
        release.set()
        client.close()
        server.stop()
        engine.close()
