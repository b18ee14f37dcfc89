"""Broker benchmark: Isoqube over RabbitMQ against the broker's own ceiling
and against Celery, all in one run on one private broker, so that their
ratios are comparable on a noisy machine.

Throughput, 200 runs (chains) unfinished at a time:
  raw ceiling       rabbitmq-c alone (cpp/amqp_ceiling.cc): a producer and a
                    consumer at once, persistent messages to a durable queue,
                    confirms pipelined (window 500), manual acks (prefetch
                    500); messages/s, each message a step's publish + consume
  raw ceiling, MassTransit topology
                    the same through the two fanout exchanges per queue that
                    Isoqube declares for MassTransit (topic -> endpoint
                    exchange -> queue), the topology's own cost
  raw chains        rabbitmq-c alone: chains of 10 hops, every delivery
                    publishes the next hop and is acked once that publish is
                    confirmed (what one Isoqube step costs on the wire)
  Celery            chains of 10 no-op tasks, Celery's defaults
                    (celery_chain.py: prefork, concurrency 2, rpc:// results)
  Isoqube transport Isoqube's amqp transport alone, chains of 10 hops (C++),
                    each hop acked once the next is confirmed
  Isoqube C++       10-step runs, no-op C++ consumers, memory store, started
                    by 4 threads (start_run() waits for a confirm)
  Isoqube Python    the same with Python consumers (python_runs.py)
Latency, one at a time:
  raw hop           publish -> deliver -> ack, one message at a time (also
                    through the MassTransit topology)
  and the chain scenarios above with one run (chain) unfinished at a time.

A step's latency is a run's (chain's) start to its end, / 10; a hop is one
step's end (delivery, task start) to the next one's. Under load both are
mostly time queued behind the other runs, hence the one-at-a-time rows.
Isoqube runs with 2 worker threads, Celery with 2 worker processes. Each
scenario runs in its own process, --repeat times, round by round; the median
by rate is shown. A scenario that fails is shown as unavailable, with its
error (the last line it wrote to stderr).

    .venv/bin/pip install '.[bench]'     # the isoqube package and Celery
    scripts/build-core                   # the C++ drivers
    .venv/bin/python benchmarks/broker.py [--quick] [--repeat N] [--markdown]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from _harness import (
    ROOT,
    Scenario,
    add_driver_option,
    argument_parser,
    markdown_table,
    measure_all,
    print_results,
)

HERE = Path(__file__).parent
IN_FLIGHT = 200
CONCURRENCY = 2
DASH = "—"


@contextmanager
def private_broker() -> Iterator[str]:
    """A RabbitMQ of its own (scripts/rabbitmq), stopped afterwards; its URI."""
    script = str(ROOT / "scripts/rabbitmq")
    with tempfile.TemporaryDirectory(prefix="isoqube-broker-") as folder:
        try:
            out = subprocess.run([script, "start", folder], capture_output=True, text=True)
            if out.returncode != 0:
                sys.exit(f"broker.py: the private broker did not start: {out.stderr.strip()}")
            yield out.stdout.strip().splitlines()[-1]
        finally:
            subprocess.run([script, "stop", folder], capture_output=True)


def throughput_scenarios(uri: str, scale: int, ceiling: Path, bench: Path) -> list[Scenario]:
    python_runs = [sys.executable, str(HERE / "python_runs.py"), uri, "memory://"]
    celery = [sys.executable, str(HERE / "celery_chain.py"), uri]
    flight, threads = str(IN_FLIGHT), str(CONCURRENCY)
    return [
        Scenario(
            "raw ceiling",
            [str(ceiling), uri, "throughput", str(50000 * scale), "500", "500"],
            "messages_per_s",
        ),
        Scenario(
            "raw ceiling, MassTransit topology",
            [str(ceiling), uri, "throughput+masstransit", str(50000 * scale), "500", "500"],
            "messages_per_s",
        ),
        Scenario(
            "raw chains",
            [str(ceiling), uri, "chains", str(2000 * scale), flight, "100"],
            "hops_per_s",
        ),
        Scenario("Celery", celery + [str(300 * scale), flight]),
        Scenario("Isoqube transport", [str(bench), "raw", str(1000 * scale), threads, flight, uri]),
        Scenario("Isoqube C++", [str(bench), "memory://", str(1000 * scale), threads, flight, uri]),
        Scenario("Isoqube Python", python_runs + [str(500 * scale), threads, flight]),
    ]


def latency_scenarios(uri: str, scale: int, ceiling: Path, bench: Path) -> list[Scenario]:
    python_runs = [sys.executable, str(HERE / "python_runs.py"), uri, "memory://"]
    celery = [sys.executable, str(HERE / "celery_chain.py"), uri]
    threads = str(CONCURRENCY)
    return [
        Scenario("raw hop", [str(ceiling), uri, "latency", str(1000 * scale)], "hops_per_s"),
        Scenario(
            "raw hop, MassTransit topology",
            [str(ceiling), uri, "latency+masstransit", str(1000 * scale)],
            "hops_per_s",
        ),
        Scenario(
            "raw chains, 1 at a time",
            [str(ceiling), uri, "chains", str(100 * scale), "1", "100"],
            "hops_per_s",
        ),
        Scenario("Celery, 1 at a time", celery + [str(30 * scale), "1"]),
        Scenario(
            "Isoqube C++, 1 at a time",
            [str(bench), "memory://", str(100 * scale), threads, "1", uri],
        ),
        Scenario("Isoqube Python, 1 at a time", python_runs + [str(100 * scale), threads, "1"]),
    ]


def rate(result: dict) -> float | None:
    for key in ("steps_per_s", "hops_per_s", "messages_per_s"):
        if key in result:
            return result[key]
    return None


def ratio(numerator: float | None, denominator: float | None) -> str:
    if not numerator or not denominator:
        return DASH
    return f"{numerator / denominator:.3f}"


def ms(result: dict, key: str) -> str:
    return f"{result[key]:.3f}" if key in result else DASH


def throughput_table(results: dict[str, dict]) -> str:
    ceiling = rate(results["raw ceiling"])
    chains = rate(results["raw chains"])
    celery = rate(results["Celery"])
    header = ["scenario", "steps/s", "× raw ceiling", "× raw chains", "× Celery"]
    header += ["step p50 ms", "step p99 ms", "hop p50 ms", "hop p99 ms"]
    rows = []
    for name, r in results.items():
        if "unavailable" in r:
            rows.append([name, f"unavailable: {r['unavailable']}"] + [DASH] * 7)
            continue
        value = rate(r)
        rows.append(
            [name, f"{value:,}", ratio(value, ceiling), ratio(value, chains), ratio(value, celery)]
            + [ms(r, f"{k}_ms_{p}") for k in ("step", "hop") for p in ("p50", "p99")]
        )
    return markdown_table(header, rows)


def latency_table(results: dict[str, dict]) -> str:
    hop = results["raw hop"].get("hop_ms_p50")
    header = ["scenario", "step p50 ms", "step p99 ms", "hop p50 ms", "hop p99 ms"]
    header.append("step (hop) p50 ÷ raw hop p50")
    rows = []
    for name, r in results.items():
        if "unavailable" in r:
            rows.append([name, f"unavailable: {r['unavailable']}"] + [DASH] * 4)
            continue
        p50 = r.get("step_ms_p50", r.get("hop_ms_p50"))
        rows.append(
            [name]
            + [ms(r, f"{k}_ms_{p}") for k in ("step", "hop") for p in ("p50", "p99")]
            + [ratio(p50, hop)]
        )
    return markdown_table(header, rows)


def goals_table(throughput: dict[str, dict], latency: dict[str, dict]) -> str:
    """Isoqube against the issue's goals: ≥ 0.7 × the raw ceiling, ≥ 5 ×
    Celery, per-step p50 ≤ 2 × a raw hop."""
    ceiling, celery = rate(throughput["raw ceiling"]), rate(throughput["Celery"])
    hop = latency["raw hop"].get("hop_ms_p50")
    header = ["Isoqube", "÷ raw ceiling (goal ≥ 0.7)", "÷ Celery (goal ≥ 5)"]
    header.append("step p50 ÷ raw hop p50, 1 at a time (goal ≤ 2)")
    rows = []
    for name in ("Isoqube C++", "Isoqube Python"):
        value = rate(throughput[name])
        step = latency[f"{name}, 1 at a time"].get("step_ms_p50")
        rows.append([name, ratio(value, ceiling), ratio(value, celery), ratio(step, hop)])
    return markdown_table(header, rows)


def markdown(throughput: dict[str, dict], latency: dict[str, dict]) -> str:
    parts = [f"Throughput, {IN_FLIGHT} runs (chains) in flight:", throughput_table(throughput)]
    parts += ["One at a time:", latency_table(latency)]
    hop = latency["raw hop"]
    if "confirm_ms_p50" in hop:
        parts.append(
            f"raw hop: publish → confirm p50 {hop['confirm_ms_p50']:.3f} ms, "
            f"p99 {hop['confirm_ms_p99']:.3f} ms"
        )
    parts += ["Goals:", goals_table(throughput, latency)]
    return "\n\n".join(parts)


def main() -> int:
    parser = argument_parser(__doc__)
    add_driver_option(parser, "ceiling", "amqp_ceiling")
    add_driver_option(parser, "bench", "embedded_bench")
    parser.add_argument("--broker", metavar="URI", help="use this broker, not a private one")
    args = parser.parse_args()
    if not args.ceiling.exists():
        parser.error(f"{args.ceiling} not found: run scripts/build-core first")
    scale = 1 if args.quick else 5
    with private_broker() if args.broker is None else nullcontext(args.broker) as uri:
        loaded = throughput_scenarios(uri, scale, args.ceiling, args.bench)
        single = latency_scenarios(uri, scale, args.ceiling, args.bench)
        measured = measure_all(loaded + single, args.repeat)
    throughput = {s.name: measured[s.name] for s in loaded}
    latency = {s.name: measured[s.name] for s in single}
    results = {"throughput": throughput, "one_at_a_time": latency}
    print_results(results, lambda: markdown(throughput, latency), args.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
