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
scripts/build-core); the Python ones (python_runs.py) use the installed
isoqube package.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from _harness import (
    Scenario,
    add_driver_option,
    argument_parser,
    markdown_table,
    measure_all,
    print_results,
)

PYTHON_RUNS = [sys.executable, str(Path(__file__).with_name("python_runs.py")), "memory://"]


def scenarios(quick: bool, bench: Path, db_dir: Path) -> list[Scenario]:
    scale = 1 if quick else 5
    return [
        Scenario("raw", [str(bench), "raw", str(20000 * scale), "2", "200"]),
        Scenario("cpp/memory", [str(bench), "memory://", str(4000 * scale), "2", "200"]),
        Scenario(
            "cpp/sqlite", [str(bench), f"sqlite:///{db_dir}/cpp.db", str(200 * scale), "2", "100"]
        ),
        Scenario("python/memory", PYTHON_RUNS + ["memory://", str(1000 * scale), "2", "200"]),
        Scenario(
            "python/sqlite",
            PYTHON_RUNS + [f"sqlite:///{db_dir}/py.db", str(200 * scale), "2", "100"],
        ),
    ]


def markdown(results: dict[str, dict]) -> str:
    base = results["raw"]["steps_per_s"]
    header = [
        "scenario",
        "steps/s",
        "ratio to raw transport",
        "hop p50 ms",
        "hop p99 ms",
        "peak RSS MB",
    ]
    rows = [
        [
            name,
            f"{r['steps_per_s']:,}",
            f"{r['steps_per_s'] / base:.3f}",
            f"{r['hop_ms_p50']:.3f}",
            f"{r['hop_ms_p99']:.3f}",
            str(r["peak_rss_mb"]),
        ]
        for name, r in results.items()
    ]
    return markdown_table(header, rows)


def main() -> int:
    parser = argument_parser(__doc__)
    add_driver_option(parser, "bench", "embedded_bench")
    args = parser.parse_args()
    if not args.bench.exists():
        parser.error(f"{args.bench} not found: run scripts/build-core first")
    with tempfile.TemporaryDirectory(prefix="isoqube-bench-") as tmp:

        def remove_databases() -> None:
            for db in Path(tmp).glob("*.db*"):
                db.unlink()

        results = measure_all(
            scenarios(args.quick, args.bench, Path(tmp)), args.repeat, remove_databases
        )
    failed = [name for name, r in results.items() if "unavailable" in r]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    print_results(results, lambda: markdown(results), args.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
