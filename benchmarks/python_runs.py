"""Isoqube with Python consumers, one benchmark scenario: many concurrent
10-step runs of no-op consumers on an isolated registry, at most IN_FLIGHT
unfinished at a time. Prints one JSON object (the keys of embedded_bench.cc).

    python benchmarks/python_runs.py TRANSPORT STORE RUNS CONCURRENCY IN_FLIGHT

embedded.py runs it on memory://, broker.py on amqp://. A hop is one step's
completion to the next step's; a step's latency is its run's creation to its
last step's completion, / 10.
"""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from _harness import STEPS, latency_fields, peak_rss_mb

PRODUCERS = 4


def measure(transport: str, store: str, runs: int, concurrency: int, in_flight: int) -> dict:
    import isoqube

    isoqube.set_log_level("warning")
    registry = isoqube.Registry()
    for i in range(STEPS):
        name = f"BenchStep{i}"
        registry.topic(name)(type(name, (), {}))
        registry.consumer(name, service="bench", name=f"{name}Consumer")(lambda ctx: None)
    with isoqube.Engine(transport, store, concurrency=concurrency, registry=registry) as engine:
        config = engine.save_configuration(
            isoqube.Configuration("bench-10", [f"BenchStep{i}" for i in range(STEPS)])
        )
        # On a broker, start_run() returns once the first step is confirmed:
        # PRODUCERS threads share the runs and the in-flight allowance, as in
        # embedded_bench.cc. In process, one thread.
        on_broker = transport.startswith(("amqp://", "amqps://"))
        producers = min(PRODUCERS if on_broker else 1, in_flight)
        ids: list[str] = [""] * runs

        def produce(first: int) -> None:
            mine = range(first, runs, producers)
            waited = 0
            for count, i in enumerate(mine):
                # At most in_flight unfinished: the oldest ends before the
                # next starts.
                while count - waited >= in_flight // producers:
                    engine.wait(ids[mine[waited]], timeout=300)
                    waited += 1
                ids[i] = engine.start_run(config.name).id
            for i in mine[waited:]:
                engine.wait(ids[i], timeout=300)

        started = time.perf_counter()
        with ThreadPoolExecutor(producers) as pool:
            for done in [pool.submit(produce, p) for p in range(producers)]:
                done.result()
        seconds = time.perf_counter() - started
        runs_done = [engine.run(run_id) for run_id in ids]
    hops, steps = [], []
    for run in runs_done:
        done = [s.completed_on for s in run.steps]
        hops += [(b - a).total_seconds() * 1000 for a, b in zip(done, done[1:])]
        steps.append((done[-1] - run.created_on).total_seconds() * 1000 / STEPS)
    return {
        "transport": transport.split("://")[0],  # the URI may hold a password
        "store": store,
        "runs": runs,
        "steps": runs * STEPS,
        "seconds": round(seconds, 3),
        "steps_per_s": round(runs * STEPS / seconds),
        **latency_fields(hops, steps),
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> int:
    if len(sys.argv) != 6:
        print(__doc__, file=sys.stderr)
        return 2
    transport, store, runs, concurrency, in_flight = sys.argv[1:]
    print(json.dumps(measure(transport, store, int(runs), int(concurrency), int(in_flight))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
