"""isoqube in Jupyter: runs, steps, configurations and lists of runs as
HTML tables, ``Engine.watch()`` with and without a notebook display, and the
example notebook executed end to end by nbclient in a real kernel."""

from __future__ import annotations

import threading
import time

import isoqube
import pytest
from conftest import ROOT, WAIT, declare
from isoqube import Configuration, RetryPolicy, Step

NOTEBOOK = ROOT / "examples" / "build_server.ipynb"


def held_service(registry, release: threading.Event) -> None:
    declare(registry, "Fetch")

    @registry.consumer(registry.topic("Hold")(type("Hold", (), {})), name="HoldConsumer")
    def hold(ctx):
        release.wait(WAIT)
        return {"held": True}

    @registry.consumer(registry.topic("Break")(type("Break", (), {})), name="BreakConsumer")
    def broken(ctx):
        raise RuntimeError("broken <on purpose>")


@pytest.fixture
def engine(registry, make_engine):
    held_service(registry, threading.Event())
    engine = make_engine()
    engine.start()
    return engine


def test_runs_are_a_list_that_renders_as_a_table_with_a_row_per_run(engine):
    first = engine.wait(engine.start_run(Configuration("one", ["Fetch"]), "first"), WAIT)
    second = engine.wait(engine.start_run(Configuration("two", ["Fetch", "Break"]), "second"),
                         WAIT)

    runs = engine.runs()

    assert isinstance(runs, list) and [r.id for r in runs] == [second.id, first.id]
    page = runs._repr_html_()
    assert page.count("<tr>") == 3  # the header and a row per run
    assert first.id[:8] in page and second.id[:8] in page
    assert "#dcf5e3" in page and "#fde2e2" in page  # completed and failed colours
    assert "1/2" in page and "1/1" in page


def test_a_failed_run_renders_its_error_escaped_with_durations(engine):
    run = engine.wait(engine.start_run(Configuration("broken", ["Fetch", Step(
        "Break", retry=RetryPolicy(attempts=1))]), "<b>bold</b>"), WAIT)

    page = run._repr_html_()

    assert "broken &lt;on purpose&gt;" in page and "<on purpose>" not in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page
    assert f"{run.steps[0].duration.total_seconds():.3f} s" in page
    assert "failed" in page and "completed" in page


def test_a_configuration_renders_its_steps_and_what_they_wait_for(engine):
    config = Configuration("fan", [Step("Fetch"), Step("Hold", after=["Fetch"],
                                                      retry=RetryPolicy(3, 0.5, 2))])

    page = config._repr_html_()

    assert "fan" in page and "3 attempts, 0.5 s &times;2" in page
    assert "(the previous step)" in page


def test_watch_without_a_notebook_prints_each_transition_and_the_end(
        registry, make_engine, capsys):
    release = threading.Event()
    held_service(registry, release)
    engine = make_engine()
    engine.start()
    run = engine.start_run(Configuration("held", ["Fetch", "Hold"]))
    threading.Timer(0.2, release.set).start()

    watched = engine.watch(run, timeout=WAIT)

    assert watched.id == run.id and watched.status == "completed"
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"watching run {run.id} of held (running)"
    assert any("Hold   running -> completed" in line for line in lines)
    assert lines[-1].startswith(f"run {run.id} completed in")


def test_watch_gives_up_after_its_timeout(registry, make_engine):
    release = threading.Event()
    held_service(registry, release)
    engine = make_engine()
    engine.start()
    run = engine.start_run(Configuration("held", ["Hold"]))
    started = time.monotonic()
    try:
        with pytest.raises(isoqube.TimeoutError, match="still running"):
            engine.watch(run, timeout=0.3)
    finally:
        release.set()
    assert time.monotonic() - started < WAIT


def test_the_example_notebook_runs_the_build_server_end_to_end(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient

    # Jupyter's own paths in the test's folder; platformdirs, as Jupyter
    # will use, and no warning about the move
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("ISOQUBE_STORE", raising=False)
    monkeypatch.delenv("ISOQUBE_TRANSPORT", raising=False)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})

    client.execute()

    # Every cell ran; the watched run's cell holds its final table
    outputs = {cell.source.splitlines()[0]: cell.get("outputs", [])
               for cell in notebook.cells if cell.cell_type == "code"}
    for first_line, cell_outputs in outputs.items():
        assert not [o for o in cell_outputs if o.output_type == "error"], first_line
    watched = html_of(outputs["run = engine.start_run(\"build-server\", \"from a notebook\", "
                              "payload={\"work_ms\": 100})"])
    assert watched.count("completed") >= 16 and "BroadcastRelease" in watched
    failed = html_of(outputs["failed = engine.start_run(\"build-server\", \"with a failure\","])
    assert "simulated failure of Windows2022Build" in failed
    listed = html_of(outputs["again = engine.wait(engine.rerun(run.id), timeout=120)"])
    assert listed.count("<tr>") == 4  # the header and three runs
    assert (tmp_path / "isoqube.db").exists()


def html_of(outputs: list) -> str:
    return "".join(o.get("data", {}).get("text/html", "") for o in outputs)
