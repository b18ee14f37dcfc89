"""Services as separate worker processes on a real RabbitMQ.

Each test starts `isoqube worker` processes (tests/py/services/distributed.py)
on the test broker and a shared SQLite store, drives runs from this process
and judges by what the store recorded: which worker ran each step, how often
each step completed, what the event log says. Processes are killed and the
broker restarted for real.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import isoqube
import pika
import pytest
from amqp_support import read_queue
from conftest import ROOT, wait_until
from isoqube.demo.workers import ServiceWorkers

SERVICES = Path(__file__).resolve().parent / "services" / "distributed.py"
RUN_TIMEOUT = 120.0


def workers(amqp_uri: str, store: str, *services: str, concurrency: int = 2) -> ServiceWorkers:
    return ServiceWorkers(amqp_uri, store, {s: ["--import", str(SERVICES)] for s in services},
                          concurrency=concurrency)


@pytest.fixture
def engine(amqp_uri: str, sqlite_store: str):
    """An engine that starts runs and runs no consumers itself (its registry
    is empty: the workers know the topics)."""
    with isoqube.Engine(amqp_uri, sqlite_store, registry=isoqube.Registry()) as engine:
        yield engine


def completions(engine: isoqube.Engine, run_id: str) -> Counter:
    """How many times each step of the run was recorded completed."""
    return Counter(e.step_name for e in engine.event_log(run_id)
                   if e.step >= 0 and e.to_status == "completed")


def test_engine_on_a_broker_is_distributed(engine: isoqube.Engine) -> None:
    assert engine.distributed
    # Engines name their broker without its password.
    user_info = engine.transport_uri.split("://", 1)[1].split("@", 1)[0]
    assert ":" in user_info and user_info not in repr(engine)
    assert user_info.split(":")[0] + ":***@" in repr(engine)


def run_demo(transport: str, store: str, folder: Path, work_ms: int) -> tuple[dict, str]:
    """`isoqube demo` across worker processes: the run it prints (after
    checking it completed with four workers) and what it logged."""
    result = subprocess.run(
        [sys.executable, "-m", "isoqube", "--transport", transport, "--store", store,
         "demo", "--work-ms", str(work_ms), "--json"],
        capture_output=True, text=True, timeout=300, cwd=folder)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr.count("worker ready:") == 4
    run = json.loads(result.stdout)
    assert run["status"] == "completed"
    return run, result.stderr


def test_demo_runs_its_services_as_four_worker_processes(amqp_uri: str, sqlite_store: str,
                                                        tmp_path: Path) -> None:
    run, log = run_demo(amqp_uri, sqlite_store, tmp_path, work_ms=20)

    assert len(run["steps"]) == 15
    assert all(step["status"] == "completed" for step in run["steps"])
    # Every service logged its consumption from its own process.
    for service in ("default", "linux-pool", "windows-pool", "deployment"):
        assert f"[isoqube.{service}]" in log
    # The store says where each step ran: four processes, none of them the demo's.
    with isoqube.Engine("memory://", sqlite_store, registry=isoqube.Registry()) as engine:
        claims = {e.detail for e in engine.event_log(run["id"])
                  if e.step >= 0 and e.to_status == "running"}
    assert len(claims) == 4, claims
    assert all(claim.startswith("on ") for claim in claims)


def test_two_copies_of_a_service_share_its_work(amqp_uri: str, sqlite_store: str,
                                              engine: isoqube.Engine) -> None:
    config = engine.save_configuration(isoqube.Configuration("quick-1", ["DistQuick"]))
    with workers(amqp_uri, sqlite_store, "quick-svc", concurrency=1), \
            workers(amqp_uri, sqlite_store, "quick-svc", concurrency=1):
        runs = [engine.start_run(config.name, payload={"sleep": 0.05}) for _ in range(20)]
        finished = [engine.wait(run.id, timeout=RUN_TIMEOUT) for run in runs]

    assert all(run.status == "completed" for run in finished)
    by_worker = Counter(run.steps[0].output["worker"] for run in finished)
    assert len(by_worker) == 2, by_worker


def test_a_worker_killed_mid_step_is_replaced_and_no_step_completes_twice(
        amqp_uri: str, sqlite_store: str, engine: isoqube.Engine, tmp_path: Path) -> None:
    config = engine.save_configuration(
        isoqube.Configuration("slow-then-quick", ["DistSlow", "DistQuick"]))
    marker = tmp_path / "slow-started"
    with workers(amqp_uri, sqlite_store, "quick-svc"):
        with workers(amqp_uri, sqlite_store, "slow-svc") as first:
            run = engine.start_run(config.name, payload={"marker": str(marker),
                                                         "slow_seconds": 60})
            assert wait_until(marker.exists, timeout=RUN_TIMEOUT)
            killed = marker.read_text()
            os.kill(first.pids["slow-svc"], signal.SIGKILL)
        with workers(amqp_uri, sqlite_store, "slow-svc"):
            final = engine.wait(run.id, timeout=RUN_TIMEOUT)

    assert final.status == "completed"
    assert final.steps[0].output["worker"] != killed
    assert completions(engine, run.id) == Counter({"DistSlow": 1, "DistQuick": 1})
    details = [e.detail for e in engine.event_log(run.id)
               if e.step == 0 and e.to_status == "running"]
    assert any("taken over" in d for d in details), details


def test_workers_reconnect_after_a_broker_restart_and_the_run_completes(
        rabbitmq: tuple[str, Path | None], sqlite_store: str, engine: isoqube.Engine) -> None:
    amqp_uri, folder = rabbitmq
    if folder is None:
        pytest.skip("the broker was named by ISOQUBE_TEST_AMQP_URI; this test restarts its own")
    steps = [isoqube.Step("DistQuick", name=f"q{i}") for i in range(10)]
    config = engine.save_configuration(isoqube.Configuration("quick-10", steps))
    with workers(amqp_uri, sqlite_store, "quick-svc"):
        run = engine.start_run(config.name, payload={"sleep": 0.3})
        assert wait_until(lambda: engine.run(run.id).steps[2].status != "pending",
                          timeout=RUN_TIMEOUT)
        subprocess.run([ROOT / "scripts" / "rabbitmq", "restart", folder], check=True,
                       capture_output=True, timeout=180)
        final = engine.wait(run.id, timeout=RUN_TIMEOUT)

    assert final.status == "completed"
    assert completions(engine, run.id) == Counter({f"q{i}": 1 for i in range(10)})


def test_a_consumer_that_always_raises_is_retried_then_fails_the_run(
        amqp_uri: str, sqlite_store: str, engine: isoqube.Engine) -> None:
    policy = isoqube.RetryPolicy(attempts=3, interval=0.3, backoff=2.0)
    config = engine.save_configuration(
        isoqube.Configuration("always-fails", [isoqube.Step("DistAlwaysFails", retry=policy)]))
    with workers(amqp_uri, sqlite_store, "failing-svc"):
        run = engine.start_run(config.name)
        final = engine.wait(run.id, timeout=RUN_TIMEOUT)

    assert final.status == "failed"
    assert "always fails (attempt 3)" in final.error
    step = final.steps[0]
    assert (step.status, step.attempts) == ("failed", 3)
    # The retries waited at least the policy's delays: 0.3 s, then 0.6 s.
    running = [e.time for e in engine.event_log(run.id)
               if e.step == 0 and e.to_status == "running"]
    failed = [e.time for e in engine.event_log(run.id)
              if e.step == 0 and e.to_status in ("retrying", "failed")]
    gaps = [(start - end).total_seconds() for end, start in zip(failed, running[1:])]
    assert len(gaps) == 2 and gaps[0] >= 0.3 and gaps[1] >= 0.6, gaps
    # The last attempt's message waits in the endpoint's error queue, with
    # MassTransit's fault headers saying why.
    connection = pika.BlockingConnection(pika.URLParameters(amqp_uri))
    try:
        errors = read_queue(connection, "dist-always-fails_error")
    finally:
        connection.close()
    ours = [(p, body) for p, body in errors if json.loads(body)["correlationId"] == run.id]
    assert len(ours) == 1, f"{len(errors)} messages in dist-always-fails_error, none of this run"
    headers = ours[0][0].headers
    assert "always fails (attempt 3)" in headers["MT-Fault-Message"]
    assert headers["MT-Fault-RetryCount"] == 3
    assert headers["MT-Reason"] == "fault"
    assert headers["MT-Fault-InputAddress"].endswith("/dist-always-fails")
    assert headers["MT-Fault-ConsumerType"] == "DistAlwaysFailsConsumer"
    assert headers["MT-Fault-MessageType"] == config.steps[0].topic


def test_events_of_other_processes_arrive_live_over_the_broker(
        amqp_uri: str, sqlite_store: str, engine: isoqube.Engine) -> None:
    config = engine.save_configuration(isoqube.Configuration("quick-2", ["DistQuick"]))
    with workers(amqp_uri, sqlite_store, "quick-svc"):
        # All runs, no stored history: only live events can fill this.
        with engine.events(timeout=RUN_TIMEOUT) as events:
            run = engine.start_run(config.name)
            seen = []
            for event in events:
                if event.run_id == run.id:
                    seen.append((event.step_name if event.step >= 0 else "run", event.to_status))
                if ("run", "completed") in seen:
                    break

    # "running" and "completed" were committed by the worker process.
    assert ("DistQuick", "running") in seen
    assert ("DistQuick", "completed") in seen


def test_runs_watch_in_another_process_follows_the_run_live(
        amqp_uri: str, sqlite_store: str, engine: isoqube.Engine) -> None:
    steps = [isoqube.Step("DistQuick", name=f"w{i}") for i in range(3)]
    config = engine.save_configuration(isoqube.Configuration("quick-3", steps))
    with workers(amqp_uri, sqlite_store, "quick-svc"):
        run = engine.start_run(config.name, payload={"sleep": 0.2})
        watch = subprocess.run(
            [sys.executable, "-m", "isoqube", "--transport", amqp_uri, "--store", sqlite_store,
             "runs", "watch", run.id, "--timeout", str(RUN_TIMEOUT)],
            capture_output=True, text=True, timeout=RUN_TIMEOUT + 30)

    assert watch.returncode == 0, watch.stderr
    lines = watch.stdout.splitlines()
    for name in ("w0", "w1", "w2"):
        assert any(name in line and "-> completed" in line for line in lines), watch.stdout


def test_a_first_step_nobody_consumes_is_an_error_at_once_and_leaves_its_run_pending(
        engine: isoqube.Engine) -> None:
    # On a broker, a message to an exchange without queues would vanish.
    config = engine.save_configuration(isoqube.Configuration("orphan", ["NobodyConsumesThis"]))
    with pytest.raises(isoqube.errors.TransportError, match="nobody-consumes-this"):
        engine.start_run(config.name)

    # The run never started: pending, not failed, for resume() once bound.
    (run,) = engine.runs(configuration="orphan")
    assert run.status == "pending"
    assert "nobody-consumes-this" in run.error


@pytest.fixture
def amqps_uri(rabbitmq: tuple[str, Path | None]) -> str:
    """The test broker's TLS listener (scripts/rabbitmq makes one, with a CA
    of its own under FOLDER/tls), trusting that CA."""
    folder = rabbitmq[1]
    if folder is None or not (folder / "amqps_uri").exists():
        if os.environ.get("ISOQUBE_REQUIRE_SERVERS") == "1":
            pytest.fail("the test broker has no TLS listener (no amqps_uri in its folder)")
        pytest.skip("the test broker has no TLS listener (not started by scripts/rabbitmq)")
    uri = (folder / "amqps_uri").read_text().strip()
    return f"{uri}?cacertfile={folder / 'tls' / 'ca.pem'}"


def test_the_demo_runs_over_tls(amqps_uri: str, sqlite_store: str, tmp_path: Path) -> None:
    run, log = run_demo(amqps_uri, sqlite_store, tmp_path, work_ms=5)

    assert all(step["status"] == "completed" for step in run["steps"])
    assert "transport amqps://guest:***@localhost:" in log


def test_a_worker_that_cannot_verify_the_broker_says_so_and_exits(amqps_uri: str,
                                                                  sqlite_store: str) -> None:
    untrusting = amqps_uri.split("?", 1)[0]  # only the system's CAs
    result = subprocess.run(
        [sys.executable, "-m", "isoqube", "worker", "--import", str(SERVICES),
         "--transport", untrusting, "--store", sqlite_store],
        capture_output=True, text=True, timeout=60)

    assert result.returncode != 0
    assert "SSL peer cert verification failed" in result.stderr, result.stderr[-2000:]
    assert "guest:***@localhost" in result.stderr
    assert "guest:guest" not in result.stderr
    assert "worker ready:" not in result.stderr
