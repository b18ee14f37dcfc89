"""isoqube.follow.Follower: the one reader of the store's event log, which
``engine.watch()``, ``isoqube runs watch``, ``Engine.events()`` and the
controlcenter's live events all use."""

from __future__ import annotations

import ast
import threading

import pytest
from conftest import WAIT, declare
from isoqube import Configuration
from isoqube.follow import Follower
from test_imports import module_files


def test_a_follower_of_one_run_hands_out_each_event_once_until_the_run_ends(
        registry, make_engine):
    # Given a run whose second step waits until released
    release = threading.Event()
    declare(registry, "Fetch")

    @registry.consumer(registry.topic("Hold")(type("Hold", (), {})))
    def hold(ctx):
        release.wait(WAIT)

    engine = make_engine()
    engine.start()
    run = engine.start_run(Configuration("held", ["Fetch", "Hold"]))

    # When it is followed, releasing the step once the first batch is read
    batches = []
    for batch in Follower(engine, run.id).until_run_ends(timeout=WAIT):
        batches.append(batch)
        release.set()

    # Then the batches hold the run's stored events, each once, in order,
    # the last one ending the run
    events = [event for batch in batches for event in batch]
    assert events == engine.event_log(run.id)
    assert events[-1].ends_run and events[-1].to_status == "completed"


def test_a_follower_of_every_run_hands_out_only_the_events_after_its_seq(
        registry, make_engine):
    # Given a finished run, then a follower of every run started after it
    declare(registry, "Fetch")
    engine = make_engine()
    engine.start()
    engine.wait(engine.start_run(Configuration("one", ["Fetch"])), timeout=WAIT)
    follower = Follower(engine, after_seq=engine.last_event_seq())

    # When another run ends and the follower reads
    second = engine.wait(engine.start_run(Configuration("two", ["Fetch"])), timeout=WAIT)
    events = list(follower.read())

    # Then it has exactly the second run's events; a second read has nothing
    assert {event.run_id for event in events} == {second.id}
    assert events == engine.event_log(second.id)
    assert follower.seq == events[-1].seq and list(follower.read()) == []


def test_following_until_the_end_needs_a_run(make_engine):
    with pytest.raises(ValueError, match="follows one run"):
        next(Follower(make_engine()).until_run_ends())


def test_only_the_follower_reads_the_event_log():
    # Reading the log page by page is done in one place, isoqube.follow;
    # Engine.event_log() itself only wraps the core's.
    readers = set()
    for module, path in module_files().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Attribute)
                    and node.attr in ("event_log", "read_event_feed")
                    and ast.unparse(node.value) != "self._core"):
                readers.add(module)

    assert readers == {"isoqube.follow"}
