"""The GIL and lifetimes: Python keeps running while the core blocks, and
engines stop cleanly however they end."""

from __future__ import annotations

import _thread
import gc
import subprocess
import sys
import threading
import weakref

import isoqube
import pytest
from conftest import WAIT, declare
from isoqube import Configuration


def test_engine_wait_releases_the_gil_for_other_python_threads(registry, make_engine):
    # Given a consumer that finishes only when another Python thread lets it,
    # and that thread acts only once the main thread is about to wait
    about_to_wait = threading.Event()
    gate = threading.Event()

    @registry.consumer(registry.topic("Gated")(type("Gated", (), {})))
    def gated(ctx):
        if not gate.wait(WAIT):
            raise RuntimeError("the gate was never opened")
        return "through"

    opener = threading.Thread(target=lambda: about_to_wait.wait(WAIT) and gate.set())
    opener.start()
    engine = make_engine()
    engine.start()
    run = engine.start_run(Configuration("gated", ["Gated"]))

    # When the main thread blocks in wait()
    about_to_wait.set()
    done = engine.wait(run.id, timeout=WAIT)

    # Then the other thread and the consumer ran meanwhile
    opener.join()
    assert done.status == "completed" and done.steps[0].output == "through"


def test_waiting_can_be_interrupted_with_ctrl_c(registry, make_engine):
    # Given a run held by its consumer, waited for by the main thread
    release = threading.Event()

    @registry.consumer(registry.topic("Stuck")(type("Stuck", (), {})))
    def stuck(ctx):
        release.wait(WAIT)

    engine = make_engine()
    engine.start()
    run = engine.start_run(Configuration("stuck", ["Stuck"]))
    about_to_wait = threading.Event()
    interrupter = threading.Thread(
        target=lambda: about_to_wait.wait(WAIT) and _thread.interrupt_main()
    )
    interrupter.start()

    # When Ctrl-C arrives during the wait, it interrupts the wait
    try:
        with pytest.raises(KeyboardInterrupt):
            about_to_wait.set()
            engine.wait(run.id, timeout=WAIT)
    finally:
        release.set()
    interrupter.join()


def test_a_context_cannot_be_used_from_another_thread(registry, make_engine):
    errors = []

    @registry.consumer(registry.topic("Spawn")(type("Spawn", (), {})))
    def spawn(ctx):
        def use():
            try:
                _ = ctx.payload
            except isoqube.Error as e:
                errors.append(str(e))

        helper = threading.Thread(target=use)
        helper.start()
        helper.join()
        return ctx.step

    engine = make_engine()
    engine.start()

    run = engine.wait(engine.start_run(Configuration("spawn", ["Spawn"])), timeout=WAIT)

    assert run.steps[0].output == "Spawn"
    assert errors == ["this Context may be used only on the thread running its handler"]


def test_an_engine_dropped_while_running_stops_its_worker(registry):
    # Given a started engine that ran a Python consumer
    declare(registry, "Once")
    engine = isoqube.Engine("memory://", "memory://", registry=registry)
    engine.start()
    run = engine.wait(engine.start_run(Configuration("once", ["Once"])), timeout=WAIT)
    assert run.status == "completed"
    alive = weakref.ref(engine)

    # When the last references go away
    del engine, run
    gc.collect()

    # Then it is gone (its worker joined without deadlocking on the GIL)
    assert alive() is None


def test_python_exits_cleanly_while_a_handler_is_running():
    # Given a process that exits while its engine runs a Python handler
    script = """
import threading, isoqube
registry = isoqube.Registry()
started = threading.Event()

@registry.consumer(registry.topic("Slow")(type("Slow", (), {})))
def slow(ctx):
    started.set()
    threading.Event().wait(0.2)  # the simulated work
    print("handler finished", flush=True)

engine = isoqube.Engine("memory://", "memory://", registry=registry)
engine.start()
engine.start_run(isoqube.Configuration("slow", ["Slow"]))
assert started.wait(20)
print("exiting", flush=True)
"""
    # When it runs to its end
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )

    # Then the handler finished before the interpreter went away, and the
    # process exited normally
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["exiting", "handler finished"]


def test_closing_an_event_feed_from_another_thread_ends_its_iteration(make_engine):
    # Given a reader blocked on a feed that will see no events
    engine = make_engine()
    feed = engine.events(timeout=WAIT)
    blocked = threading.Event()
    ended = threading.Event()

    def read():
        blocked.set()
        assert list(feed) == []
        ended.set()

    reader = threading.Thread(target=read)
    reader.start()
    assert blocked.wait(WAIT)

    # When another thread closes the feed
    feed.close()

    # Then the reader's iteration ends, long before the feed's timeout
    assert ended.wait(WAIT / 2)
    reader.join()
