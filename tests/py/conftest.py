"""Shared fixtures of the Python tests.

Tests build their engines through ``make_engine`` with a fresh Registry, so
no test sees another's topics and consumers, and every engine is closed
(its worker joined) when the test ends.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import isoqube
import pytest
from isoqube.registry import default_registry as _default_registry

WAIT = 20.0
"""Seconds a test waits for something that normally takes milliseconds."""

ROOT = Path(__file__).resolve().parents[2]


def _no_server(reason: str) -> None:
    """Skips the test, or fails it when CI requires the servers."""
    if os.environ.get("ISOQUBE_REQUIRE_SERVERS") == "1":
        pytest.fail(f"{reason} (and ISOQUBE_REQUIRE_SERVERS=1)")
    pytest.skip(reason)


def _private_server(tmp_path_factory: pytest.TempPathFactory, script: str, variable: str
                    ) -> Iterator[tuple[str, Path | None]]:
    """(URI, folder) of the server ISOQUBE_TEST_<variable>_URI names (its
    folder from ISOQUBE_TEST_<variable>_DIR, or None), else of one that
    scripts/<script> starts for the session and stops after."""
    uri = os.environ.get(f"ISOQUBE_TEST_{variable}_URI")
    if uri:
        folder = os.environ.get(f"ISOQUBE_TEST_{variable}_DIR")
        yield uri, Path(folder) if folder else None
        return
    command = str(ROOT / "scripts" / script)
    folder = tmp_path_factory.mktemp(script)
    started = subprocess.run([command, "start", str(folder)], capture_output=True, text=True)
    try:
        if started.returncode != 0:
            _no_server(f"scripts/{script} could not start a server: {started.stderr.strip()}")
        yield started.stdout.split()[-1], folder
    finally:
        subprocess.run([command, "stop", str(folder)], capture_output=True)


@pytest.fixture(scope="session")
def rabbitmq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path | None]]:
    """A real RabbitMQ: (URI, the folder scripts/rabbitmq keeps it in, or
    None for a broker the environment named). scripts/test starts one and
    sets ISOQUBE_TEST_AMQP_URI (and ISOQUBE_TEST_AMQP_DIR); otherwise
    scripts/rabbitmq starts one for the session and stops it after."""
    yield from _private_server(tmp_path_factory, "rabbitmq", "AMQP")


@pytest.fixture(scope="session")
def amqp_uri(rabbitmq: tuple[str, Path | None]) -> str:
    """The URI of the test broker."""
    return rabbitmq[0]


@pytest.fixture(scope="session")
def mongodb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path | None]]:
    """A real MongoDB-wire server: (URI, the folder scripts/mongodb keeps it
    in, or None for a server the environment named). scripts/test starts one
    (FerretDB, see docs/mongodb.md) and sets ISOQUBE_TEST_MONGODB_URI (and
    ISOQUBE_TEST_MONGODB_DIR); otherwise scripts/mongodb starts one for the
    session and stops it after. The URI names no database: each test picks
    its own."""
    yield from _private_server(tmp_path_factory, "mongodb", "MONGODB")


@pytest.fixture(scope="session")
def mongodb_uri(mongodb: tuple[str, Path | None]) -> str:
    """The URI of the test MongoDB-wire server."""
    return mongodb[0]


@pytest.fixture
def registry() -> isoqube.Registry:
    """A fresh, empty registry for the test's topics and consumers."""
    return isoqube.Registry()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> str:
    """The URI of a SQLite store in the test's own folder."""
    return f"sqlite:///{tmp_path / 'isoqube.db'}"


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, sqlite_store: str) -> str:
    """Each store the engine is tested against, in turn."""
    return "memory://" if request.param == "memory" else sqlite_store


@pytest.fixture
def isolated_default_registry() -> Iterator[isoqube.Registry]:
    """The process-wide registry, emptied for the test and restored after."""
    saved = _default_registry.copy()
    _default_registry.clear()
    try:
        yield _default_registry
    finally:
        _default_registry.clear()
        _default_registry.update(saved)


@pytest.fixture
def make_engine(registry: isoqube.Registry) -> Iterator[Callable[..., isoqube.Engine]]:
    """Builds engines on the memory transport (memory store unless told),
    with the test's registry; closes them all at the end of the test."""
    engines: list[isoqube.Engine] = []

    def make(store: str = "memory://", **options: Any) -> isoqube.Engine:
        options.setdefault("registry", registry)
        engine = isoqube.Engine("memory://", store, **options)
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.close()


def wait_until(condition: Callable[[], bool], timeout: float = WAIT) -> bool:
    """Re-checks `condition` until it holds or `timeout` passes; for states
    that offer nothing to wait on (a run's status seen from outside)."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not condition():
        if time.monotonic() > deadline:
            return False
        pause.wait(0.01)
    return True


def declare(registry, *names):
    """Declares topics with a consumer each that returns its step's name
    and inputs."""
    for name in names:
        topic = registry.topic(name)(type(name, (), {}))

        @registry.consumer(topic, name=f"{name}Consumer")
        def handle(ctx):
            return {"step": ctx.step, "inputs": sorted(ctx.inputs)}


@pytest.fixture
def controlcenter(registry: isoqube.Registry, sqlite_store: str) -> Iterator[Any]:
    """A controlcenter serving on a free loopback port (controlcenter_app.py)."""
    from controlcenter_app import serve

    yield from serve(registry, sqlite_store)
