"""What the fast paths of the bindings must keep.

Runs returned by an Engine are built by _core directly, without the JSON
form: they must be exactly what Run.from_dict() makes of the core's JSON.
Worker threads keep one Python thread state for all their handler calls:
each call still starts with empty context variables.
"""

from __future__ import annotations

import contextvars
import copy
import dataclasses
import datetime as dt
import pickle
import re
import threading

import isoqube
import pytest
from conftest import WAIT, wait_until
from isoqube import Configuration, RetryPolicy, Run, Step, StepState


def assert_same_as_from_json(engine: isoqube.Engine, run: Run) -> None:
    expected = Run.from_dict(engine._core.find_run_json(run.id))
    assert run == expected
    for built, parsed in zip([run, *run.steps], [expected, *expected.steps]):
        # Same types too (1 == 1.0 == True would hide a wrong one), in the
        # dataclass's field order, so vars() and repr() read the same.
        assert list(vars(built)) == list(vars(parsed))
        for name, value in vars(parsed).items():
            assert type(getattr(built, name)) is type(value), name
        for field in dataclasses.fields(built):
            if isinstance(getattr(parsed, field.name), dt.datetime):
                assert getattr(built, field.name).tzinfo is dt.timezone.utc
    for step, parsed in zip(run.steps, expected.steps):
        assert vars(step.retry) == vars(parsed.retry)
        assert type(step.retry.interval) is float


def test_a_completed_run_with_retries_inputs_and_payloads_equals_its_json_form(
    registry, make_engine, store
):
    # Given a fan-in configuration whose middle step fails once before
    # succeeding, with payloads, a retry policy and non-ASCII output
    failures = []
    for name in ("Fetch", "Flaky", "Merge"):
        registry.topic(name)(type(name, (), {}))

    @registry.consumer("Fetch")
    def fetch(ctx):
        return {"files": [1, 2.5, None, True], "name": "résumé ✓"}

    @registry.consumer("Flaky")
    def flaky(ctx):
        if not failures:
            failures.append(ctx.attempt)
            raise RuntimeError("first attempt fails")
        return "ok"

    @registry.consumer("Merge")
    def merge(ctx):
        return sorted(ctx.inputs)

    engine = make_engine(store)
    engine.start()
    config = Configuration(
        "fan-in",
        [
            Step("Fetch", after=[], payload={"depth": 2}),
            Step("Flaky", after=[], retry=RetryPolicy(attempts=3, interval=0.005, backoff=1.5)),
            Step("Merge", after=["Fetch", "Flaky"]),
        ],
    )

    # When it runs to the end
    started = engine.start_run(config, "nightly", ingestion_id="ing-1", payload={"k": ["v"]})
    done = engine.wait(started.id, timeout=WAIT)

    # Then every Run the engine returns equals its JSON form, field by field
    assert done.status == "completed" and failures == [1]
    assert done.step("Flaky").attempts == 2 and done.step("Flaky").retried_on is not None
    assert done.step("Fetch").output["name"] == "résumé ✓"
    assert done.step("Merge").after == ["Fetch", "Flaky"]
    assert started.payload == {"k": ["v"]} and started.ingestion_id == "ing-1"
    for run in (done, engine.run(done.id), *engine.runs()):
        assert_same_as_from_json(engine, run)
    # (the run as started is a snapshot: only its shape can be compared)
    assert list(vars(started)) == list(vars(done))
    assert [list(vars(s)) for s in started.steps] == [list(vars(s)) for s in done.steps]


def test_failed_and_cancelled_runs_equal_their_json_form(registry, make_engine):
    # Given a run that fails and a run cancelled while its first step runs
    for name in ("Broken", "Slow", "Never"):
        registry.topic(name)(type(name, (), {}))
    entered, release = threading.Event(), threading.Event()

    @registry.consumer("Broken")
    def broken(ctx):
        raise ValueError("bad input ✗")

    @registry.consumer("Slow")
    def slow(ctx):
        entered.set()
        release.wait(WAIT)

    @registry.consumer("Never")
    def never(ctx):
        return None

    engine = make_engine()
    engine.start()
    failed = engine.wait(engine.start_run(Configuration("broken", ["Broken"])).id, timeout=WAIT)
    running = engine.start_run(Configuration("slow", ["Slow", "Never"]))
    assert entered.wait(WAIT)

    # When the second one is cancelled
    assert engine.cancel(running.id)
    release.set()
    assert wait_until(lambda: engine.run(running.id).done)
    cancelled = engine.wait(running.id, timeout=WAIT)

    # Then both, with their errors and missing times, equal their JSON form
    assert failed.status == "failed" and "bad input ✗" in failed.steps[0].error
    assert cancelled.status == "cancelled"
    assert cancelled.step("Never").invoked_on is None
    assert cancelled.step("Never").cancelled_on is not None
    for run in (failed, cancelled):
        assert_same_as_from_json(engine, run)


def test_runs_from_the_engine_are_plain_data_holding_no_engine(registry, make_engine):
    # Given an engine and a run started on it
    registry.topic("Quick")(type("Quick", (), {}))
    registry.consumer("Quick", name="QuickConsumer")(lambda ctx: 1)
    engine = make_engine()
    engine.start()
    run = engine.start_run(Configuration("quick", ["Quick"]))

    # When the run is waited for through the engine
    done = engine.wait(run, timeout=WAIT)

    # Then the engine returns the ended run, a new reading of the same one
    assert done.id == run.id and done is not run
    assert done.status == "completed" and isinstance(done.steps[0], StepState)
    assert done.steps[0].duration is not None and done.steps[0].duration >= dt.timedelta(0)
    assert repr(done).startswith("Run(id=")
    # and every way to get a run gives data: it copies and pickles whole
    for other in (run, done, engine.run(run), engine.runs()[0], engine.rerun(run.id)):
        assert not [name for name in vars(other) if "engine" in name]
        assert pickle.loads(pickle.dumps(other)) == other == copy.deepcopy(other)


def test_the_run_methods_that_needed_an_engine_name_the_engine_call_instead():
    run = Run("r-1", status="running")

    for call, instead in ((run.refresh, "engine.run(run.id)"),
                          (lambda: run.wait(timeout=1), "engine.wait(run, timeout=...)"),
                          (lambda: run.watch(timeout=1), "engine.watch(run, timeout=...)")):
        with pytest.raises(isoqube.Error, match=re.escape(instead)):
            call()


def test_each_handler_call_starts_with_empty_context_variables(registry, make_engine):
    # Given a consumer that reads a ContextVar, then sets it, on one worker thread
    request = contextvars.ContextVar("request", default="unset")
    seen = []
    registry.topic("Tagged")(type("Tagged", (), {}))

    @registry.consumer("Tagged")
    def tagged(ctx):
        seen.append((threading.get_ident(), request.get()))
        request.set(ctx.run_id)

    engine = make_engine(concurrency=1)
    engine.start()

    # When it handles three runs, one after the other
    for _ in range(3):
        run = engine.start_run(Configuration("tagged", ["Tagged"]))
        assert engine.wait(run.id, timeout=WAIT).status == "completed"

    # Then every call ran on the same thread and saw no value of an earlier one
    assert len({ident for ident, _ in seen}) == 1
    assert [value for _, value in seen] == ["unset"] * 3


def test_a_worker_thread_keeps_its_thread_locals_between_calls(registry, make_engine):
    # Given a consumer counting its calls in a threading.local
    local = threading.local()
    counts = []
    registry.topic("Counted")(type("Counted", (), {}))

    @registry.consumer("Counted")
    def counted(ctx):
        local.calls = getattr(local, "calls", 0) + 1
        counts.append(local.calls)

    engine = make_engine(concurrency=1)
    engine.start()

    # When its one worker thread handles three runs
    for _ in range(3):
        run = engine.start_run(Configuration("counted", ["Counted"]))
        assert engine.wait(run.id, timeout=WAIT).status == "completed"

    # Then the thread-local state lived on, as on any Python thread
    assert counts == [1, 2, 3]


def test_engines_stop_and_restart_with_python_consumers_many_times(registry, make_engine):
    # Given a Python consumer on two worker threads, counting calls per thread
    local = threading.local()
    registry.topic("Tick")(type("Tick", (), {}))

    @registry.consumer("Tick")
    def tick(ctx):
        local.calls = getattr(local, "calls", 0) + 1
        return local.calls

    engine = make_engine(concurrency=2)

    # When the worker starts and stops repeatedly (its threads end each time,
    # releasing the Python thread states they kept), with runs in between
    firsts = []
    for _ in range(5):
        engine.start()
        outputs = []
        for _ in range(4):
            run = engine.start_run(Configuration("tick", ["Tick"]))
            done = engine.wait(run.id, timeout=WAIT)
            assert done.status == "completed"
            outputs.append(done.steps[0].output)
        engine.stop()
        firsts.append(min(outputs))

    # Then every round started on new threads with fresh thread-local state
    assert firsts == [1] * 5
    assert not engine.started
