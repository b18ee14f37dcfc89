"""Embedded benchmark: steps per second and per-step latency of many
concurrent 10-step runs with no-op consumers, on the in-process transport.

Scenarios, all in one run so their ratios are comparable on a noisy machine:
  raw             chains of 10 hops through the memory transport alone
                  (C++; the ceiling: no store, no orchestration)
  cpp/memory      C++ consumers, memory store
  cpp/sqlite      C++ consumers, SQLite store (durable, WAL)
  python/memory   Python consumers, memory store
  python/sqlite   Python consumers, SQLite store

Each scenario runs in its own process (peak memory is per scenario) and is
repeated --repeat times; the median by steps/s is reported.

    python benchmarks/embedded.py [--quick] [--markdown]

The C++ scenarios use build/cpp/benchmarks/cpp/embedded_bench (built by
scripts/build-core); the Python ones use the installed isoqube package.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STEPS = 10


def python_scenario(store: str, runs: int, concurrency: int, in_flight: int) -> dict:
    """Runs in a child process: Python no-op consumers on an isolated registry."""
    import isoqube

    isoqube.set_log_level("warning")
    registry = isoqube.Registry()
    for i in range(STEPS):
        name = f"BenchStep{i}"
        registry.topic(name)(type(name, (), {}))
        registry.consumer(name, service="bench", name=f"{name}Consumer")(lambda ctx: None)
    with isoqube.Engine("memory://", store, concurrency=concurrency, registry=registry) as engine:
        config = engine.save_configuration(
            isoqube.Configuration("bench-10", [f"BenchStep{i}" for i in range(STEPS)])
        )
        started = time.perf_counter()
        ids: list[str] = []
        waited = 0
        for _ in range(runs):
            ids.append(engine.start_run(config.name).id)
            while len(ids) - waited > in_flight:
                engine.wait(ids[waited], timeout=300)
                waited += 1
        while waited < len(ids):
            engine.wait(ids[waited], timeout=300)
            waited += 1
        seconds = time.perf_counter() - started
        hops = []
        for run_id in ids:
            steps = engine.run(run_id).steps
            for a, b in zip(steps, steps[1:]):
                hops.append((b.completed_on - a.completed_on).total_seconds() * 1000)
    hops.sort()
    return {
        "store": store,
        "runs": runs,
        "steps": runs * STEPS,
        "seconds": round(seconds, 3),
        "steps_per_s": round(runs * STEPS / seconds),
        "hop_ms_p50": round(hops[len(hops) // 2], 4),
        "hop_ms_p99": round(hops[int(len(hops) * 0.99)], 4),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def run_child(args: list[str]) -> dict:
    out = subprocess.run(args, check=True, capture_output=True, text=True, timeout=1800)
    return json.loads(out.stdout.strip().splitlines()[-1])


def scenarios(quick: bool, bench: Path, db_dir: Path) -> list[tuple[str, list[str]]]:
    scale = 1 if quick else 5
    me = [sys.executable, __file__, "--child"]
    return [
        ("raw", [str(bench), "raw", str(20000 * scale), "2", "200"]),
        ("cpp/memory", [str(bench), "memory://", str(4000 * scale), "2", "200"]),
        ("cpp/sqlite", [str(bench), f"sqlite:///{db_dir}/cpp.db", str(200 * scale), "2", "100"]),
        ("python/memory", me + ["memory://", str(1000 * scale), "2", "200"]),
        ("python/sqlite", me + [f"sqlite:///{db_dir}/py.db", str(200 * scale), "2", "100"]),
    ]


def markdown(results: dict[str, dict]) -> str:
    base = results["raw"]["steps_per_s"]
    lines = [
        "| scenario | steps/s | ratio to raw transport | hop p50 ms | hop p99 ms | peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['steps_per_s']:,} | {r['steps_per_s'] / base:.3f} | "
            f"{r['hop_ms_p50']:.3f} | {r['hop_ms_p99']:.3f} | {r['peak_rss_mb']} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=4, metavar=("STORE", "RUNS", "CONC", "INFLIGHT"))
    parser.add_argument("--quick", action="store_true", help="smaller runs (a smoke test)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument(
        "--bench",
        type=Path,
        default=ROOT / "build/cpp/benchmarks/cpp/embedded_bench",
        help="the C++ driver (default: %(default)s)",
    )
    args = parser.parse_args()
    if args.child:
        store, runs, conc, inflight = args.child
        print(json.dumps(python_scenario(store, int(runs), int(conc), int(inflight))))
        return 0
    if not args.bench.exists():
        parser.error(f"{args.bench} not found: run scripts/build-core first")
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="isoqube-bench-") as tmp:
        for name, command in scenarios(args.quick, args.bench, Path(tmp)):
            samples = []
            for _ in range(args.repeat):
                for db in Path(tmp).glob("*.db*"):
                    db.unlink()
                samples.append(run_child(command))
            samples.sort(key=lambda r: r["steps_per_s"])
            results[name] = samples[len(samples) // 2]
            r = results[name]
            print(
                f"{name:14} {r['steps_per_s']:>10,} steps/s  hop p50 {r['hop_ms_p50']:.3f} ms"
                f"  p99 {r['hop_ms_p99']:.3f} ms  peak {r['peak_rss_mb']} MB"
                f"  (median of {args.repeat}: {[s['steps_per_s'] for s in samples]})",
                file=sys.stderr,
            )
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        file=sys.stderr,
    )
    print(markdown(results) if args.markdown else json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
