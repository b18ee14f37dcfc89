"""Celery on the same broker, one benchmark scenario: chains of 10 no-op
tasks, at most IN_FLIGHT unfinished at a time. Prints one JSON object.

    python benchmarks/celery_chain.py BROKER_URI CHAINS IN_FLIGHT

Celery runs with its defaults as shipped: a worker with the prefork pool and
concurrency 2 (the core count here; the solo and threads pools stall for
seconds at the default prefetch, celery/celery#6941), JSON, persistent task
messages, acks before the task runs (acks_late off), no publisher confirms.
The result backend is rpc://: results travel back as messages on the same
broker, so no other server is needed.

The worker is a subprocess importing this file (started here, stopped
here), after a purge of the task queue and a warm-up chain. The client
awaits only each chain's last result (see chain_result). Each task
appends when it started (CLOCK_MONOTONIC, shared by all processes on the
machine) to the list it passes on, so the chain's result carries its own
timing: a step's latency is the chain's start (the client sending it) to
its last task's start, / 10; a hop is one task's start to the next's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import deque
from pathlib import Path

from _harness import STEPS, latency_fields, peak_rss_mb
from celery import Celery, chain

BROKER_ENV = "ISOQUBE_BENCH_CELERY_BROKER"
WORKER_START_TIMEOUT_S = 60
WORKER_STOP_TIMEOUT_S = 30

app = Celery("isoqube_bench", broker=os.environ.get(BROKER_ENV), backend="rpc://")


@app.task(name="isoqube_bench.hop")
def hop(stamps: list[float]) -> list[float]:
    """A no-op step that only notes when it ran."""
    return stamps + [time.monotonic()]


def send_chain():
    workflow = chain(hop.s([time.monotonic()]), *(hop.s() for _ in range(STEPS - 1)))
    return workflow.apply_async()


def start_worker(broker: str, log: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "celery", "-A", Path(__file__).stem, "worker"]
    command += ["--pool", "prefork", "--concurrency", "2", "--loglevel", "WARNING"]
    with open(log, "wb") as out:
        return subprocess.Popen(
            command,
            cwd=Path(__file__).parent,
            env={**os.environ, BROKER_ENV: broker},
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def stop_worker(worker: subprocess.Popen) -> None:
    worker.terminate()  # Celery's warm shutdown
    try:
        worker.wait(WORKER_STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def chain_result(result) -> list[float]:
    # follow_parents=False: by default get() also checks each of the chain's
    # nine parent tasks for errors, again after every result message it
    # drains, and with rpc:// every check is a queue.declare and a basic.get
    # on the broker (about 56 round trips per chain, measured): the client,
    # not Celery's worker, would set the pace. Only the last result matters.
    return result.get(timeout=300, follow_parents=False)


def run_chains(chains: int, in_flight: int) -> tuple[float, list[list[float]]]:
    started = time.perf_counter()
    pending, done = deque(), []
    for _ in range(chains):
        pending.append(send_chain())
        while len(pending) > in_flight:
            done.append(chain_result(pending.popleft()))
    done += [chain_result(result) for result in pending]
    return time.perf_counter() - started, done


def measure(broker: str, chains: int, in_flight: int) -> dict:
    app.conf.broker_url = broker
    app.control.purge()
    with tempfile.TemporaryDirectory(prefix="isoqube-celery-") as tmp:
        log = Path(tmp) / "worker.log"
        worker = start_worker(broker, log)
        try:
            try:
                send_chain().get(timeout=WORKER_START_TIMEOUT_S, follow_parents=False)
            except Exception as error:
                tail = log.read_text(errors="replace").strip().splitlines()[-3:]
                raise RuntimeError(f"celery worker not ready: {error!r}; {tail}") from error
            seconds, stamps = run_chains(chains, in_flight)
        finally:
            stop_worker(worker)
    hops = [(b - a) * 1000 for s in stamps for a, b in zip(s[1:], s[2:])]
    steps = [(s[-1] - s[0]) * 1000 / STEPS for s in stamps]
    return {
        "chains": chains,
        "in_flight": in_flight,
        "steps": chains * STEPS,
        "seconds": round(seconds, 3),
        "steps_per_s": round(chains * STEPS / seconds),
        **latency_fields(hops, steps),
        "client_peak_rss_mb": peak_rss_mb(),
    }


def main() -> int:
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    broker, chains, in_flight = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    print(json.dumps(measure(broker, chains, in_flight)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
