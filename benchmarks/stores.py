"""Store benchmark: the memory, SQLite and MongoDB stores side by side.

Scenarios, all in one run so their ratios are comparable on a noisy machine:
  transitions/<store>  store_bench: a worker's two transitions per step of
                       10-step runs (claim; finish, queueing the next step),
                       2 threads straight on the store
  steps/<store>        embedded_bench: 10-step runs end to end with no-op
                       C++ consumers on the in-process transport (so the
                       store is what differs), 2 worker threads

Each reports the store's round trips (a request to the server, or a SQLite
transaction): per transition, and per step including the run's creation
and start. The MongoDB store runs against ISOQUBE_BENCH_MONGODB_URI (or
--mongodb-uri), else against a private FerretDB that scripts/mongodb starts
and stops (see docs/mongodb.md: its speed is FerretDB's, not MongoDB's).
Each scenario of each round gets a database of its own.

    python benchmarks/stores.py [--quick] [--markdown] [--mongodb-uri URI]
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import tempfile
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

_databases = itertools.count(1)


def with_database(uri: str, database: str) -> str:
    scheme, rest = uri.split("://", 1)
    query = rest.find("?")
    authority, tail = (rest, "") if query < 0 else (rest[:query], rest[query:])
    return f"{scheme}://{authority.split('/', 1)[0]}/{database}{tail}"


class FreshMongo(list):
    """A command whose MongoDB URI names a new database each time it runs
    (measure_all runs scenario.command as a list)."""

    def __init__(self, command: list[str], index: int, uri: str) -> None:
        super().__init__(command)
        self._index, self._uri = index, uri

    def __iter__(self):
        database = f"isoqube_bench_{os.getpid()}_{next(_databases)}"
        items = list(super().__iter__())
        items[self._index] = with_database(self._uri, database)
        return iter(items)


def scenarios(quick: bool, store_bench: Path, embedded_bench: Path, db_dir: Path,
              mongodb_uri: str) -> list[Scenario]:
    scale = 1 if quick else 5
    sqlite = f"sqlite:///{db_dir}/bench.db"
    stores = [("memory", "memory://", 400 * scale, 2000 * scale),
              ("sqlite", sqlite, 40 * scale, 100 * scale),
              ("mongodb", mongodb_uri, 4 * scale, 10 * scale)]
    out = []
    for name, uri, runs, transition_runs in stores:
        for kind, command, rate in (
                ("transitions", [str(store_bench), uri, str(transition_runs), "2"],
                 "transitions_per_s"),
                ("steps", [str(embedded_bench), uri, str(runs), "2", "50"], "steps_per_s")):
            if name == "mongodb":
                command = FreshMongo(command, 1, uri)
            out.append(Scenario(f"{kind}/{name}", command, rate))
    return out


def markdown(results: dict[str, dict]) -> str:
    sqlite_steps = results["steps/sqlite"].get("steps_per_s")
    header = ["store", "transitions/s", "round trips per transition", "steps/s end to end",
              "round trips per step (reads + writes)", "steps/s ratio to SQLite"]
    rows = []
    for store in ("memory", "sqlite", "mongodb"):
        t, s = results[f"transitions/{store}"], results[f"steps/{store}"]
        if "unavailable" in t or "unavailable" in s:
            rows.append([store, "unavailable", "", "", "", ""])
            continue
        trips = t["reads_per_transition"] + t["writes_per_transition"]
        rows.append([
            store, f"{t['transitions_per_s']:,}", f"{trips:.2f}", f"{s['steps_per_s']:,}",
            f"{s['store_reads_per_step']:.2f} + {s['store_writes_per_step']:.2f}",
            f"{s['steps_per_s'] / sqlite_steps:.3f}" if sqlite_steps else "",
        ])
    return markdown_table(header, rows)


def start_private_mongodb(folder: Path) -> str:
    started = subprocess.run([str(ROOT / "scripts" / "mongodb"), "start", str(folder)],
                             capture_output=True, text=True, timeout=600)
    if started.returncode != 0:
        sys.exit(f"stores.py: scripts/mongodb could not start a server: {started.stderr}")
    return started.stdout.split()[-1]


def main() -> int:
    parser = argument_parser(__doc__)
    add_driver_option(parser, "store-bench", "store_bench")
    add_driver_option(parser, "embedded-bench", "embedded_bench")
    parser.add_argument("--mongodb-uri", default=os.environ.get("ISOQUBE_BENCH_MONGODB_URI"),
                        help="a MongoDB server to use (default: start a private FerretDB)")
    args = parser.parse_args()
    for driver in (args.store_bench, args.embedded_bench):
        if not driver.exists():
            parser.error(f"{driver} not found: run scripts/build-core first")
    with tempfile.TemporaryDirectory(prefix="isoqube-bench-") as tmp:
        folder = Path(tmp)
        mongodb_uri = args.mongodb_uri or start_private_mongodb(folder / "mongodb")
        try:
            def remove_databases() -> None:
                for db in folder.glob("*.db*"):
                    db.unlink()

            results = measure_all(
                scenarios(args.quick, args.store_bench, args.embedded_bench, folder,
                          mongodb_uri),
                args.repeat, remove_databases)
        finally:
            if not args.mongodb_uri:
                subprocess.run([str(ROOT / "scripts" / "mongodb"), "stop",
                                str(folder / "mongodb")], capture_output=True, timeout=120)
    failed = [name for name, r in results.items() if "unavailable" in r]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    print_results(results, lambda: markdown(results), args.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
