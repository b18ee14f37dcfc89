"""What the benchmark harnesses (embedded.py, broker.py) share: running a
scenario in its own process, repeating it and keeping the median, the
percentiles every driver reports, and printing the results.

A scenario is a command that prints one JSON object as its last line of
output. One that fails is reported as unavailable with the last line of its
error output, so that a missing piece (a transport not built yet) costs its
own row and not the whole run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STEPS = 10  # steps (hops) per run or chain in every scenario
CHILD_TIMEOUT_S = 1800


@dataclass
class Scenario:
    name: str
    command: list[str]
    rate: str = "steps_per_s"  # the JSON key the median is taken by


class Unavailable(Exception):
    """A scenario could not run; the message says why, in one line."""


def percentiles(samples: Sequence[float]) -> tuple[float, float]:
    """(p50, p99), nearest rank below, as the C++ drivers compute them."""
    if not samples:
        return 0.0, 0.0
    ordered = sorted(samples)
    last = len(ordered) - 1
    return ordered[int(0.5 * last)], ordered[int(0.99 * last)]


def latency_fields(hops_ms: Sequence[float], steps_ms: Sequence[float]) -> dict:
    """The latency keys every scenario reports: p50/p99 of hops and steps."""
    fields = {}
    for key, samples in (("hop", hops_ms), ("step", steps_ms)):
        p50, p99 = percentiles(samples)
        fields[f"{key}_ms_p50"], fields[f"{key}_ms_p99"] = round(p50, 4), round(p99, 4)
    return fields


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM). Not ru_maxrss: Linux
    carries that across exec, so a child reported its parent's peak."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def run_child(command: list[str]) -> dict:
    """Runs one scenario process; its last line of output is the result."""
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S)
    except subprocess.TimeoutExpired as error:
        raise Unavailable(f"no result within {CHILD_TIMEOUT_S} s") from error
    except OSError as error:
        raise Unavailable(f"{command[0]}: {error.strerror}") from error
    lines = out.stdout.strip().splitlines()
    if out.returncode != 0 or not lines:
        errors = [line for line in out.stderr.strip().splitlines() if line.strip()]
        raise Unavailable(errors[-1].strip() if errors else f"exit status {out.returncode}")
    return json.loads(lines[-1])


def measure_all(
    scenarios: Sequence[Scenario],
    repeat: int,
    before_each: Callable[[], None] = lambda: None,
) -> dict[str, dict]:
    """Runs every scenario `repeat` times and returns each one's median by
    its rate, or {"unavailable": reason} from its first failure (after which
    it is not run again). The repeats go round by round, all scenarios in
    each, so that a noisy spell on the shared machine spreads over all of
    them instead of sinking one."""
    samples: dict[str, list[dict]] = {s.name: [] for s in scenarios}
    failures: dict[str, str] = {}
    for round_number in range(1, repeat + 1):
        print(f"round {round_number} of {repeat}", file=sys.stderr)
        for scenario in scenarios:
            if scenario.name in failures:
                continue
            before_each()
            try:
                samples[scenario.name].append(run_child(scenario.command))
            except Unavailable as error:
                failures[scenario.name] = str(error)
    return {s.name: median(s, samples[s.name], failures.get(s.name)) for s in scenarios}


def median(scenario: Scenario, samples: list[dict], failure: str | None) -> dict:
    if failure is not None:
        print(f"{scenario.name:28} unavailable: {failure}", file=sys.stderr)
        return {"unavailable": failure}
    samples.sort(key=lambda r: r[scenario.rate])
    result = samples[len(samples) // 2]
    print(
        f"{scenario.name:28} {summary(result, scenario.rate)}"
        f"  (median of {len(samples)}: {[s[scenario.rate] for s in samples]})",
        file=sys.stderr,
    )
    return result


def summary(result: dict, rate: str) -> str:
    """One line: the rate, then whichever latencies and memory it has."""
    parts = [f"{result[rate]:>10,} {rate.replace('_per_s', '/s')}"]
    for key in ("step", "hop", "confirm"):
        if f"{key}_ms_p50" in result:
            p50, p99 = result[f"{key}_ms_p50"], result[f"{key}_ms_p99"]
            parts.append(f"{key} p50 {p50:.3f} ms p99 {p99:.3f} ms")
    if "peak_rss_mb" in result:
        parts.append(f"peak {result['peak_rss_mb']} MB")
    return "  ".join(parts)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table; every column but the first is right-aligned."""
    lines = ["| " + " | ".join(header) + " |", "|---" + "|---:" * (len(header) - 1) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> str:
    cores, python = os.cpu_count(), platform.python_version()
    return f"machine: {platform.machine()}, {cores} cores, Python {python}"


def argument_parser(doc: str) -> argparse.ArgumentParser:
    """The options every harness takes: --quick, --repeat, --markdown."""
    parser = argparse.ArgumentParser(
        description=doc.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smaller runs (a smoke test)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per scenario (median)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    return parser


def add_driver_option(parser: argparse.ArgumentParser, option: str, name: str) -> None:
    """Adds --OPTION: the path of a C++ driver built by scripts/build-core."""
    parser.add_argument(
        f"--{option}",
        type=Path,
        default=ROOT / "build/cpp/benchmarks/cpp" / name,
        help="the C++ driver (default: %(default)s)",
    )


def print_results(results: dict[str, dict], as_markdown: Callable[[], str], markdown: bool) -> None:
    print(machine(), file=sys.stderr)
    print(as_markdown() if markdown else json.dumps(results, indent=2))
