"""The Context a Python consumer receives: each statement of its reference
(``isoqube.Context``'s docstrings, the ``.pyi`` stub and docs/context.md),
checked on a running engine."""

from __future__ import annotations

import threading

import isoqube
import pytest
from conftest import WAIT, declare, wait_until
from isoqube import Configuration, RetryPolicy, Step


def _topic(registry, name):
    return registry.topic(name)(type(name, (), {}))


def test_attempt_counts_from_one_and_grows_with_each_retry(registry, make_engine):
    # Given a consumer that fails its first attempt
    seen = []

    @registry.consumer(_topic(registry, "Flaky"))
    def flaky(ctx):
        seen.append((ctx.attempt, ctx.step, ctx.topic, ctx.consumer))
        if ctx.attempt == 1:
            raise RuntimeError("first attempt fails")
        return {"attempt": ctx.attempt}

    engine = make_engine()
    engine.start()
    # When a step of it runs with two attempts
    config = Configuration("flaky", [Step("Flaky", name="Try", retry=RetryPolicy(attempts=2))])
    run = engine.wait(engine.start_run(config), timeout=WAIT)
    # Then the handler saw attempt 1, then 2, with the step's name, topic
    # and consumer
    assert run.status == "completed"
    assert seen == [(1, "Try", "Flaky", "flaky"), (2, "Try", "Flaky", "flaky")]


def test_payload_is_the_runs_with_the_steps_own_keys_replacing_it(registry, make_engine):
    # Given a run payload and a step payload sharing the key "b"
    payloads = []

    @registry.consumer(_topic(registry, "Show"))
    def show(ctx):
        payloads.append(ctx.payload)

    engine = make_engine()
    engine.start()
    config = Configuration("merge", [Step("Show", payload={"b": {"y": 2}, "c": 3})])
    # When it runs
    engine.wait(engine.start_run(config, payload={"a": 1, "b": {"x": 1}}), timeout=WAIT)
    # Then the step's top-level keys replace the run's, whole (no deep merge)
    assert payloads == [{"a": 1, "b": {"y": 2}, "c": 3}]


def test_inputs_hold_only_the_outputs_of_the_steps_waited_for(registry, make_engine):
    # Given A, then B and C after A, then D after B and C
    declare(registry, "A", "B", "C", "D")
    engine = make_engine()
    engine.start()
    config = Configuration("diamond", [Step("A"), Step("B", after=["A"]), Step("C", after=["A"]),
                                       Step("D", after=["B", "C"])])
    # When it runs
    run = engine.wait(engine.start_run(config), timeout=WAIT)
    # Then D got B's and C's outputs, keyed by step name, and not A's
    a, b, c, d = run.steps
    assert d.output == {"step": "D", "inputs": ["B", "C"]}
    assert b.output == {"step": "B", "inputs": ["A"]}
    assert a.output == {"step": "A", "inputs": []}


def test_inputs_of_a_sequence_hold_the_previous_step_only(registry, make_engine):
    # Given three steps in sequence (no after: each waits for the previous)
    got = {}

    @registry.consumer(_topic(registry, "Seq"))
    def seq(ctx):
        got[ctx.step] = ctx.inputs
        return {"from": ctx.step}

    engine = make_engine()
    engine.start()
    config = Configuration("sequence", [Step("Seq", name="One"), Step("Seq", name="Two"),
                                        Step("Seq", name="Three")])
    # When it runs
    engine.wait(engine.start_run(config), timeout=WAIT)
    # Then the third step sees the second's output, not the first's
    assert got == {"One": {}, "Two": {"One": {"from": "One"}},
                   "Three": {"Two": {"from": "Two"}}}


def test_cancelled_must_be_polled_the_handler_is_not_interrupted(registry, make_engine):
    # Given a handler that works until it sees the run cancelled
    started = threading.Event()
    returned = threading.Event()
    polls = []

    @registry.consumer(_topic(registry, "Long"))
    def long(ctx):
        while not ctx.cancelled:
            polls.append(1)
            started.set()
            threading.Event().wait(0.01)
        returned.set()
        return {"stopped": True}

    engine = make_engine()
    engine.start()
    run = engine.start_run(Configuration("long", ["Long"]))
    assert started.wait(WAIT)
    # When the run is cancelled
    assert engine.cancel(run.id)
    # Then the handler learns it by polling, returns, and the run stays
    # cancelled
    assert returned.wait(WAIT)
    assert engine.run(run.id).status == "cancelled"
    assert polls  # it was polling before the cancel came
    assert wait_until(lambda: engine.run(run.id).steps[0].status == "cancelled")


def test_run_id_and_ingestion_id_come_from_the_run(registry, make_engine):
    seen = []

    @registry.consumer(_topic(registry, "Ids"))
    def ids(ctx):
        seen.append((ctx.run_id, ctx.ingestion_id))

    engine = make_engine()
    engine.start()
    run = engine.start_run(Configuration("ids", ["Ids"]), ingestion_id="ingest-7")
    engine.wait(run, timeout=WAIT)
    plain = engine.wait(engine.start_run(Configuration("ids", ["Ids"])), timeout=WAIT)
    # Without one, the run has a fresh ingestion id of its own
    assert seen == [(run.id, "ingest-7"), (plain.id, plain.ingestion_id)]
    assert plain.ingestion_id and plain.ingestion_id != plain.id


def test_publish_runs_a_topic_outside_the_run_with_the_same_ingestion_id(registry, make_engine):
    # Given a step whose handler publishes another topic
    outside = []
    done = threading.Event()
    notice = _topic(registry, "Notice")

    @registry.consumer(_topic(registry, "Announce"))
    def announce(ctx):
        ctx.publish(notice, {"about": ctx.run_id})

    @registry.consumer(notice)
    def on_notice(ctx):
        outside.append((ctx.run_id, ctx.step, ctx.attempt, ctx.ingestion_id, ctx.payload,
                        ctx.cancelled))
        done.set()

    engine = make_engine()
    engine.start()
    # When the step runs
    run = engine.start_run(Configuration("announce", ["Announce"]), ingestion_id="ing-1")
    engine.wait(run, timeout=WAIT)
    # Then the published topic's consumer ran outside any run: no run id,
    # no step, no step recorded for it
    assert done.wait(WAIT)
    assert outside == [("", "", 1, "ing-1", {"about": run.id}, False)]
    assert [s.name for s in engine.run(run.id).steps] == ["Announce"]


def test_log_is_an_isoqube_logger_of_the_consumers_service(registry, make_engine):
    names = []

    @registry.consumer(_topic(registry, "Logs"), service="builder")
    def logs(ctx):
        ctx.log.info("working on %s", ctx.step)
        names.append(ctx.log.name)

    engine = make_engine()
    engine.start()
    engine.wait(engine.start_run(Configuration("logs", ["Logs"])), timeout=WAIT)
    assert names == ["isoqube.builder"]


def test_a_context_kept_after_its_handler_returned_raises(registry, make_engine):
    kept = []

    @registry.consumer(_topic(registry, "Keep"))
    def keep(ctx):
        kept.append(ctx)

    engine = make_engine()
    engine.start()
    engine.wait(engine.start_run(Configuration("keep", ["Keep"])), timeout=WAIT)
    with pytest.raises(isoqube.errors.Error, match="no longer valid"):
        kept[0].payload  # noqa: B018
