"""``isoqube worker``: run consumers until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import signal
import threading
from typing import Any

from isoqube.cli.common import (
    READY_LINE,
    UsageError,
    add_consumer_options,
    is_memory_transport,
    names,
    note,
    open_engine,
    warn,
)
from isoqube.uris import mask_uri

# The main thread wakes this often so Python can run signal handlers.
_WAKE_SECONDS = 0.5


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser(
        "worker", parents=[common], help="run consumers until stopped",
        description="Consumes the topics of the services in --import/--module until SIGINT or "
                    "SIGTERM, then lets running handlers finish and exits.")
    add_consumer_options(parser)
    parser.add_argument("--service", dest="services", action="append", metavar="NAME",
                        help="only consumers of this service; repeatable (default: all)")
    parser.add_argument("--concurrency", type=int, default=4, metavar="N",
                        help="consumer threads (default 4)")
    parser.set_defaults(handler=run_worker)


def run_worker(args: argparse.Namespace) -> int:
    if not args.imports and not args.modules:
        raise UsageError("no consumers to run: pass --import PYMODULE or --module PATH.so")
    engine = open_engine(args, consumers=True, concurrency=args.concurrency,
                         services=args.services or [])
    consumers = [c for c in engine.consumers()
                 if not args.services or c.service in args.services]
    if not consumers:
        known = {c.service for c in engine.consumers()}
        raise UsageError(f"no consumers of the services {names(args.services or [])} "
                         f"(loaded services: {names(known)})")
    if is_memory_transport(engine):
        warn("the transport is memory://: this worker only sees runs started in this process; "
             "to share work between processes, give --transport amqp://…")
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set())
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        engine.start()
        note(f"{READY_LINE} {len(consumers)} consumers of "
             f"{names({c.service for c in consumers})} on {mask_uri(engine.transport_uri)} "
             f"(store {mask_uri(engine.store_uri)}); stop with Ctrl+C")
        while not stop.wait(_WAKE_SECONDS):
            pass
        stats = engine.worker_stats()
        note("stopping: waiting for running handlers"
             + (f" ({_stats_text(stats)} so far)" if stats else ""))
    finally:
        engine.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    note("worker stopped")
    return 0


def _stats_text(stats: dict) -> str:
    return ", ".join(f"{key} {value}" for key, value in stats.items())

