"""Controlcenter benchmark: how fast the runs page and the runs API answer
with many runs in the store.

Fills a SQLite store with --runs runs of a 10-step configuration (one in
ten failed), starts `isoqube controlcenter` on it in a process of its own
(no consumers, as beside workers) and measures, with a keep-alive HTTP
client, the latency of:

  page shell        GET /                                the runs page's HTML
  runs, seed shape  GET /api/configuration/run/all       100 runs, full form
  runs, page view   GET .../run/all?view=summary&limit=50   what the page reads
  runs, last page   GET .../run/all?view=summary&limit=50&offset=<end>
  runs, failed      GET .../run/all?view=summary&limit=50&status=failed
  one run           GET /api/configuration/run/<id>
  metrics           GET /metrics

and, when Debian's chromium is there, the runs page in a real browser: from
navigation to 50 rendered rows. Also how long the metrics take to read
every run in the background.

    python benchmarks/controlcenter.py [--runs 10000] [--store PATH] [--requests 30]

A --store file that already holds enough runs is reused (filling 10,000
runs takes about half a minute).
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STEPS = 10
CHROMIUM = Path("/usr/bin/chromium")


def fill(store: str, runs: int) -> None:
    """Runs `runs` runs of a 10-step configuration to their end."""
    import isoqube

    registry = isoqube.Registry()
    for i in range(STEPS):
        name = f"BenchStep{i}"
        registry.topic(name, description=f"Benchmark step {i}")(type(name, (), {}))

        def handle(ctx, step=i):
            if step == STEPS // 2 and ctx.payload.get("fail"):
                raise RuntimeError("failed on purpose")
            return {"step": step}

        registry.consumer(name, service="bench", name=f"{name}Consumer")(handle)
    config = isoqube.Configuration("bench-10", [f"BenchStep{i}" for i in range(STEPS)])
    started = time.monotonic()
    with isoqube.Engine("memory://", store, registry=registry, concurrency=2) as engine:
        engine.save_configuration(config)
        pending: list[str] = []
        for k in range(runs):
            payload = {"fail": True} if k % 10 == 9 else {}
            pending.append(engine.start_run("bench-10", f"run {k}", payload=payload).id)
            if len(pending) >= 200:
                engine.wait(pending.pop(0), timeout=120)
        for run_id in pending:
            engine.wait(run_id, timeout=120)
    print(f"filled {runs} runs in {time.monotonic() - started:.1f} s", file=sys.stderr)


def measure(client, path: str, requests: int) -> list[float]:
    client.get(path).raise_for_status()  # warm up
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return times


def browser_page(url: str, requests: int) -> list[float] | None:
    if not CHROMIUM.exists():
        return None
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=["--no-sandbox"])
        page = browser.new_page()
        rows = "document.querySelectorAll('table.runs tr[data-run]').length === 50"
        for i in range(requests + 1):
            started = time.perf_counter()
            page.goto(f"{url}#/runs")
            page.wait_for_function(rows)
            if i:  # the first load fills the browser's cache
                times.append((time.perf_counter() - started) * 1000)
            page.goto("about:blank")
        browser.close()
    return times


def row(name: str, path: str, times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return (f"| {name} | `{path}` | {statistics.median(ordered):.1f} | {p95:.1f} | "
            f"{ordered[-1]:.1f} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10000)
    parser.add_argument("--store", help="SQLite file to fill or reuse (default: a temporary one)")
    parser.add_argument("--requests", type=int, default=30, help="requests per measurement")
    args = parser.parse_args()

    import httpx
    import isoqube

    # The failed runs' errors are expected; keep them off the report.
    isoqube.set_log_level("off")
    folder = tempfile.mkdtemp(prefix="isoqube-cc-bench-")
    path = Path(args.store) if args.store else Path(folder) / "bench.db"
    store = f"sqlite:///{path.absolute()}"
    probe = isoqube.Engine("memory://", store, registry=isoqube.Registry())
    have = len(probe.runs(limit=args.runs))
    probe.close()
    if have < args.runs:
        fill(store, args.runs - have)

    started = time.monotonic()
    server = subprocess.Popen(
        [sys.executable, "-m", "isoqube", "--store", store, "--log-level", "warning",
         "controlcenter", "--port", "0"], stdout=subprocess.PIPE, text=True)
    try:
        url = server.stdout.readline().split(" on ")[-1].strip()
        if not url.startswith("http"):
            raise SystemExit("the controlcenter did not start")
        with httpx.Client(base_url=url, timeout=60) as client:
            while "isoqube_metrics_loaded 1" not in client.get("/metrics").text:
                time.sleep(0.05)
            loaded = time.monotonic() - started
            newest = client.get("/api/configuration/run/all", params={"limit": 1}).json()[0]
            last = max(0, args.runs - 50)
            cases = [
                ("page shell", "/"),
                ("runs, seed shape", "/api/configuration/run/all"),
                ("runs, page view", "/api/configuration/run/all?view=summary&limit=50"),
                ("runs, last page",
                 f"/api/configuration/run/all?view=summary&limit=50&offset={last}"),
                ("runs, failed", "/api/configuration/run/all?view=summary&limit=50&status=failed"),
                ("one run", f"/api/configuration/run/{newest['id']}"),
                ("metrics", "/metrics"),
            ]
            lines = [row(name, path_, measure(client, path_, args.requests))
                     for name, path_ in cases]
        in_browser = browser_page(url, max(5, args.requests // 3))
        if in_browser:
            lines.append(row("runs page in Chromium", "/#/runs (50 rows drawn)", in_browser))
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}; {args.runs} runs of {STEPS} steps in SQLite",
          file=sys.stderr)
    print(f"from start to metrics with every run read: {loaded:.2f} s\n")
    print("| measure | request | p50 ms | p95 ms | max ms |")
    print("|---|---|---:|---:|---:|")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
