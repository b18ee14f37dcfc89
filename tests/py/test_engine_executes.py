"""Who executes a run: on memory:// only the engine that starts it, so a run
it cannot execute is refused at once; consumers added to a started engine
run (issue 13, first contact)."""

from __future__ import annotations

import isoqube
import pytest
from conftest import WAIT
from test_modules import shipped_linux_pool


def test_the_readme_form_loads_a_module_into_a_started_engine(
        isolated_default_registry, tmp_path, monkeypatch):
    # Given the README's Python topics and consumers, and its `with` block
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ISOQUBE_TRANSPORT", raising=False)
    monkeypatch.delenv("ISOQUBE_STORE", raising=False)

    @isoqube.topic("Fetch", description="Fetch the sources")
    class Fetch: ...

    @isoqube.consumer(Fetch, service="default")
    def fetch(ctx):
        return {"files": 3}

    with isoqube.Engine() as engine:
        # When a C++ module is loaded into the started engine, as it shows
        engine.load_module(shipped_linux_pool())
        engine.save_configuration(isoqube.Configuration(
            "fetch-and-build", ["Fetch", "LinuxUbuntu2004Build"]))
        run = engine.start_run("fetch-and-build", "first try", payload={"work_ms": 0})
        run = engine.wait(run, timeout=WAIT)

        # Then the module's consumer ran beside the Python one
        assert run.status == "completed", run.error
        assert run.steps[1].output["image"] == "ubuntu-20.04"


def test_consumers_registered_into_a_started_engine_run(registry, make_engine):
    engine = make_engine()
    engine.start()
    late = isoqube.Registry()

    @late.consumer(late.topic("Late")(type("Late", (), {})))
    def handle(ctx):
        return {"late": True}

    engine.register(handle)
    run = engine.wait(engine.start_run({"name": "late", "steps": ["Late"]}), timeout=WAIT)

    assert run.status == "completed", run.error
    assert run.steps[0].output == {"late": True}


def test_a_run_of_an_engine_never_started_is_refused_and_nothing_stored(
        registry, make_engine):
    @registry.consumer(registry.topic("Fetch")(type("Fetch", (), {})))
    def fetch(ctx):
        return None

    engine = make_engine()

    with pytest.raises(isoqube.ConfigurationError,
                       match="nothing in this process can execute .*not started"):
        engine.start_run({"name": "fetch", "steps": ["Fetch"]})
    assert engine.runs() == []


def test_a_run_whose_topic_nothing_here_consumes_is_refused_naming_it(
        registry, make_engine):
    @registry.consumer(registry.topic("Fetch")(type("Fetch", (), {})))
    def fetch(ctx):
        return None

    registry.topic("Build")(type("Build", (), {}))
    engine = make_engine()
    engine.start()

    with pytest.raises(isoqube.ConfigurationError, match="no consumer of 'Build'"):
        engine.start_run({"name": "two", "steps": ["Fetch", "Build"]})
    assert engine.runs() == []
