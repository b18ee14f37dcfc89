"""Engines running Python consumers: runs, retries, resume, cancel, events."""

from __future__ import annotations

import datetime as dt
import threading

import isoqube
import pytest
from conftest import WAIT, declare, wait_until
from isoqube import Configuration, RetryPolicy, Step

UTC = dt.timezone.utc


def test_sequential_run_completes_with_outputs_and_ordered_times(registry, make_engine, store):
    # Given three topics with Python consumers and a started engine
    declare(registry, "Ingest", "Download", "Build")
    engine = make_engine(store)
    engine.start()

    # When a sequential configuration of them runs
    run = engine.start_run(Configuration("pipeline", ["Ingest", "Download", "Build"]), "nightly")
    run = engine.wait(run, timeout=WAIT)

    # Then it completed, every step's output is stored
    assert run.done
    assert run.status == "completed" and run.description == "nightly"
    assert [s.status for s in run.steps] == ["completed"] * 3
    assert [s.output for s in run.steps] == [
        {"step": "Ingest", "inputs": []},
        {"step": "Download", "inputs": ["Ingest"]},
        {"step": "Build", "inputs": ["Download"]},
    ]
    # And its times are aware UTC datetimes, each step starting after the
    # previous one completed
    assert run.created_on.tzinfo is UTC and run.modified_on >= run.created_on
    previous_completed = run.created_on
    for step in run.steps:
        assert step.invoked_on.tzinfo is UTC
        assert previous_completed <= step.invoked_on <= step.completed_on
        assert step.succeeded_on == step.completed_on and step.failed_on is None
        assert step.duration == step.completed_on - step.invoked_on
        previous_completed = step.completed_on
    # And the stored run reads back the same
    assert engine.run(run.id) == run


def test_fan_out_and_fan_in_steps_run_after_their_dependencies(registry, make_engine):
    # Given a configuration where B and C follow A, and D waits for both
    declare(registry, "A", "B", "C", "D")
    engine = make_engine()
    engine.start()
    config = Configuration(
        "diamond",
        [Step("A"), Step("B", after=["A"]), Step("C", after=["A"]), Step("D", after=["B", "C"])],
    )

    # When it runs
    run = engine.wait(engine.start_run(config), timeout=WAIT)

    # Then every step completed, D after both of its inputs, which it received
    assert run.status == "completed"
    a, b, c, d = run.steps
    assert b.invoked_on >= a.completed_on and c.invoked_on >= a.completed_on
    assert d.invoked_on >= max(b.completed_on, c.completed_on)
    assert d.output == {"step": "D", "inputs": ["B", "C"]}


def test_failing_consumer_is_retried_then_fails_the_run_naming_the_error(registry, make_engine):
    # Given a consumer that always raises
    calls = []

    @registry.consumer(registry.topic("Flaky")(type("Flaky", (), {})))
    def flaky(ctx):
        calls.append(ctx.attempt)
        raise ValueError(f"disk full on attempt {ctx.attempt}")

    engine = make_engine()
    engine.start()
    config = Configuration("flaky", [Step("Flaky", retry=RetryPolicy(attempts=3, interval=0.01))])

    # When a run of it is waited for
    run = engine.wait(engine.start_run(config), timeout=WAIT)

    # Then three attempts were made and the run failed with the last error
    assert calls == [1, 2, 3]
    assert run.status == "failed"
    [step] = run.steps
    assert step.status == "failed" and step.attempts == 3
    assert step.error == "ValueError: disk full on attempt 3"
    assert "ValueError: disk full on attempt 3" in run.error
    assert step.retried_on is not None and step.failed_on is not None


def test_an_exception_whose_message_cannot_be_read_still_fails_the_step(registry, make_engine):
    class Unprintable(Exception):
        def __str__(self):
            raise RuntimeError("no text")

    @registry.consumer(registry.topic("Odd")(type("Odd", (), {})))
    def odd(ctx):
        raise Unprintable()

    engine = make_engine()
    engine.start()

    run = engine.wait(engine.start_run(Configuration("odd", ["Odd"])), timeout=WAIT)

    assert run.status == "failed"
    assert run.steps[0].error == "Unprintable: (its message could not be read)"


def test_resuming_a_failed_run_after_fixing_the_consumer_completes_it(registry, make_engine):
    # Given a run whose second step failed
    declare(registry, "Fetch")
    broken = threading.Event()
    broken.set()

    @registry.consumer(registry.topic("Deploy")(type("Deploy", (), {})))
    def deploy(ctx):
        if broken.is_set():
            raise RuntimeError("target unreachable")
        return {"deployed": True}

    engine = make_engine()
    engine.start()
    run = engine.wait(engine.start_run(Configuration("release", ["Fetch", "Deploy"])), timeout=WAIT)
    assert run.status == "failed"
    assert run.steps[1].error == "RuntimeError: target unreachable"
    first_fetch = run.steps[0].completed_on

    # When the consumer is fixed and the run resumed
    broken.clear()
    resumed = engine.resume(run.id)
    run = engine.wait(run, timeout=WAIT)

    # Then the same run completes, without repeating its completed step
    assert resumed.id == run.id
    assert run.status == "completed" and run.error == ""
    assert run.steps[0].completed_on == first_fetch and run.steps[0].attempts == 1
    assert run.steps[1].output == {"deployed": True}


def test_cancelling_a_running_run_cancels_it_and_tells_the_handler(registry, make_engine):
    # Given a consumer that works until its run is cancelled
    started = threading.Event()
    saw_cancel = threading.Event()

    @registry.consumer(registry.topic("LongBuild")(type("LongBuild", (), {})))
    def long_build(ctx):
        started.set()
        pause = threading.Event()
        while not ctx.cancelled:
            pause.wait(0.01)
        saw_cancel.set()
        return {"stopped": True}

    declare(registry, "Publish")
    engine = make_engine()
    engine.start()
    run = engine.start_run(Configuration("long", ["LongBuild", "Publish"]))
    assert started.wait(WAIT)

    # When it is cancelled
    assert engine.cancel(run.id) is True

    # Then the run ends cancelled, the handler noticed, later steps never ran
    run = engine.wait(run, timeout=WAIT)
    assert run.status == "cancelled"
    assert saw_cancel.wait(WAIT)
    assert run.steps[1].status == "cancelled" and run.steps[1].invoked_on is None
    # And cancelling it again reports that it was already over
    assert engine.cancel(run.id) is False


def test_rerun_starts_a_new_run_of_the_same_configuration(registry, make_engine, sqlite_store):
    declare(registry, "Ingest", "Build")
    engine = make_engine(sqlite_store)
    engine.start()
    saved = engine.save_configuration(Configuration("ci", ["Ingest", "Build"], "the CI"))
    first = engine.wait(engine.start_run("ci"), timeout=WAIT)

    second = engine.wait(engine.rerun(first.id, "again"), timeout=WAIT)

    assert second.id != first.id
    assert second.status == "completed" and second.description == "again"
    assert second.configuration_id == saved.id == first.configuration_id
    assert {r.id for r in engine.runs(configuration="ci")} == {first.id, second.id}


def test_consumer_returning_a_non_json_value_fails_with_a_type_error(registry, make_engine):
    @registry.consumer(registry.topic("Odd")(type("Odd", (), {})), name="OddConsumer")
    def odd(ctx):
        return {"tags": {"a", "b"}}

    engine = make_engine()
    engine.start()

    run = engine.wait(engine.start_run(Configuration("odd", ["Odd"])), timeout=WAIT)

    assert run.status == "failed"
    error = run.steps[0].error
    assert error.startswith("TypeError: consumer OddConsumer returned a value that is not JSON")
    assert "set at $.tags" in error


def test_events_yield_the_runs_transitions_in_order(registry, make_engine, store):
    # Given an engine and a subscription made before the run starts
    declare(registry, "First", "Second")
    engine = make_engine(store)
    engine.start()
    run = engine.start_run(Configuration("two", ["First", "Second"]))

    # When the run's events are read to the end
    events = list(engine.events(run.id, timeout=WAIT))

    # Then they are its transitions, in order, ending with its completion
    steps = [(e.step_name, e.from_status, e.to_status) for e in events if not e.is_run_event]
    assert steps == [
        ("First", "pending", "queued"),
        ("First", "queued", "running"),
        ("First", "running", "completed"),
        ("Second", "pending", "queued"),
        ("Second", "queued", "running"),
        ("Second", "running", "completed"),
    ]
    assert events[0].is_run_event and events[-1].ends_run
    assert events[-1].to_status == "completed"
    assert all(e.run_id == run.id for e in events)
    seqs = [e.seq for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert all(e.time.tzinfo is UTC for e in events)


def test_live_events_of_all_runs_end_after_a_silence(registry, make_engine):
    # Given a live feed of every run's events
    declare(registry, "Only")
    engine = make_engine()
    engine.start()
    feed = engine.events(timeout=0.5)

    # When a run completes
    run = engine.wait(engine.start_run(Configuration("one", ["Only"])), timeout=WAIT)

    # Then the feed has its events and ends once nothing more happens
    with feed:
        events = list(feed)
    assert [e for e in events if e.ends_run][0].run_id == run.id
    assert {e.run_id for e in events} == {run.id}


def test_publish_outside_a_run_calls_the_consumer_and_creates_no_run(registry, make_engine):
    # Given a consumer that reports what it saw
    seen = {}
    called = threading.Event()

    @registry.consumer(registry.topic("Notify")(type("Notify", (), {})))
    def notify(ctx):
        seen.update(
            run_id=ctx.run_id, step=ctx.step, payload=ctx.payload, ingestion_id=ctx.ingestion_id
        )
        called.set()

    engine = make_engine()
    engine.start()

    # When its topic is published directly
    engine.publish("Notify", {"message": "hi"}, ingestion_id="ext-7")

    # Then the consumer ran outside any run, and no run exists
    assert called.wait(WAIT)
    assert seen == {"run_id": "", "step": "", "payload": {"message": "hi"}, "ingestion_id": "ext-7"}
    assert engine.runs() == []


def test_a_handler_can_publish_a_topic_to_other_consumers(registry, make_engine):
    delivered = threading.Event()
    audit_topic = registry.topic("Audit")(type("Audit", (), {}))

    @registry.consumer(audit_topic)
    def audit(ctx):
        assert ctx.payload == {"of": "Work"}
        delivered.set()

    @registry.consumer(registry.topic("Work")(type("Work", (), {})))
    def work(ctx):
        ctx.publish(audit_topic, {"of": ctx.topic})
        return "done"

    engine = make_engine()
    engine.start()

    run = engine.wait(engine.start_run(Configuration("work", ["Work"])), timeout=WAIT)

    assert run.status == "completed" and run.steps[0].output == "done"
    assert delivered.wait(WAIT)


def test_the_context_describes_the_message_and_expires_with_the_call(registry, make_engine):
    # Given a consumer that keeps its context
    kept = []

    @registry.consumer(registry.topic("Inspect")(type("Inspect", (), {})), name="Inspector")
    def inspect_message(ctx):
        kept.append(ctx)
        ctx.log.info("inspecting %s of run %s", ctx.step, ctx.run_id)
        return {
            "run_id": ctx.run_id,
            "step": ctx.step,
            "topic": ctx.topic,
            "consumer": ctx.consumer,
            "attempt": ctx.attempt,
            "payload": ctx.payload,
            "ingestion_id": ctx.ingestion_id,
            "cancelled": ctx.cancelled,
        }

    engine = make_engine()
    engine.start()
    config = Configuration("inspect", [Step("Inspect", name="look", payload={"depth": 2})])

    # When a run gives it a payload
    run = engine.wait(engine.start_run(config, ingestion_id="ing-1", payload={"who": "me"}),
                      timeout=WAIT)

    # Then the context described the step, with run and step payloads merged
    assert run.steps[0].output == {
        "run_id": run.id,
        "step": "look",
        "topic": "Inspect",
        "consumer": "Inspector",
        "attempt": 1,
        "payload": {"who": "me", "depth": 2},
        "ingestion_id": "ing-1",
        "cancelled": False,
    }
    # And the context kept beyond the call refuses to be used
    with pytest.raises(isoqube.Error, match="no longer valid"):
        _ = kept[0].run_id
    with pytest.raises(isoqube.Error, match="no longer valid"):
        kept[0].publish("Inspect")
    assert "no longer valid" in repr(kept[0])


def test_configurations_are_saved_listed_and_started_by_name(registry, make_engine, sqlite_store):
    declare(registry, "Ingest", "Build")
    engine = make_engine(sqlite_store)
    engine.start()

    saved = engine.save_configuration(
        {"name": "ci", "description": "CI", "steps": [{"topic": "Ingest"}, {"topic": "Build"}]}
    )

    assert saved.id
    assert [s.name for s in saved.steps] == ["Ingest", "Build"]
    assert [s.after for s in saved.steps] == [[], ["Ingest"]]
    assert engine.configuration("ci") == saved == engine.configuration(saved.id)
    assert engine.configurations() == [saved]
    run = engine.wait(engine.start_run("ci"), timeout=WAIT)
    assert run.configuration_name == "ci" and run.status == "completed"
    assert engine.runs(status="completed")[0].id == run.id
    assert engine.runs(status="failed") == []


def test_a_configuration_naming_an_unknown_topic_is_rejected(registry, make_engine):
    declare(registry, "Ingest")
    engine = make_engine()

    with pytest.raises(isoqube.ConfigurationError, match="Nope"):
        engine.save_configuration(Configuration("bad", ["Ingest", "Nope"]))


def test_a_run_renders_as_an_html_table_of_its_steps(registry, make_engine):
    declare(registry, "Ingest")
    engine = make_engine()
    engine.start()

    config = Configuration("html", [Step("Ingest", name="in<gest>")])
    run = engine.wait(engine.start_run(config), WAIT)

    page = run._repr_html_()
    assert "<table" in page and "in&lt;gest&gt;" in page and "completed" in page
    assert repr(run).startswith(f"Run(id='{run.id}', configuration='html', status='completed'")


def test_worker_stats_count_handled_messages(registry, make_engine):
    declare(registry, "Ingest", "Build")
    engine = make_engine()
    assert engine.worker_stats() is None

    with engine:
        engine.wait(engine.start_run(Configuration("stats", ["Ingest", "Build"])), WAIT)
        assert wait_until(lambda: engine.worker_stats()["handled"] == 2)
        assert engine.started

    assert not engine.started


def test_uris_default_to_the_environment(monkeypatch, make_engine, sqlite_store):
    monkeypatch.setenv("ISOQUBE_STORE", sqlite_store)
    monkeypatch.setenv("ISOQUBE_TRANSPORT", "memory://")

    engine = isoqube.Engine(registry=isoqube.Registry())
    try:
        assert engine.store_uri == sqlite_store
        assert engine.transport_uri == "memory://"
    finally:
        engine.close()


def test_a_closed_engine_refuses_calls(make_engine):
    engine = make_engine()
    engine.close()
    engine.close()

    with pytest.raises(isoqube.Error, match="closed"):
        engine.runs()
    assert "closed" in repr(engine)
