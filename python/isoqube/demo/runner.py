"""What ``isoqube demo`` does: the build-server simulation in one process.

Loads the four services (three in Python, the Linux pool as a C++ module),
starts an engine on the embedded defaults (or the given URIs), saves the
build-server configuration, starts a run and follows it to its end. On a
broker transport the services run as four worker processes instead (see
workers.py), as they would on separate machines. The
consumers' log lines go to stderr as they run; the final table (or JSON) goes
to stdout.
"""

from __future__ import annotations

from dataclasses import dataclass

from isoqube.cli import common
from isoqube.cli.runs import report
from isoqube.demo import services  # registers the Python services
from isoqube.demo.configuration import STAGES, build_server_configuration
from isoqube.demo.workers import ServiceWorkers, demo_services
from isoqube.model import RetryPolicy
from isoqube.uris import mask_uri

# With --fail, every step may be retried, so the failing one shows its
# retries (the seed retried 3 times at 5 s; shorter here to keep it quick).
FAIL_RETRY = RetryPolicy(attempts=3, interval=0.2, backoff=2.0)


@dataclass
class DemoOptions:
    work_ms: int = 200
    fail: str | None = None
    json: bool = False
    concurrency: int = 4
    timeout: float | None = 120.0
    transport: str | None = None  # None: $ISOQUBE_TRANSPORT, else memory://
    store: str | None = None  # None: $ISOQUBE_STORE, else isoqube.db here
    # Where the worker processes send their log lines (mongodb://…); this
    # process's own lines go there when the CLI was given it.
    log_collection: str | None = None


def run_demo(options: DemoOptions) -> int:
    """Runs the simulation; 0 when the run completed, 1 otherwise."""
    topics = [topic for stage in STAGES for topic in stage]
    if options.fail is not None and options.fail not in topics:
        raise common.UsageError(f"--fail names an unknown topic '{options.fail}'; "
                                f"the demo's topics are: {', '.join(topics)}")
    engine = _open_engine(options)
    try:
        if not engine.distributed:
            engine.start()
            return _run(engine, options)
        if engine.store_uri.startswith("memory:"):
            raise common.UsageError(
                "the store memory:// lives in one process; the demo's worker processes "
                "need a shared store: give --store sqlite:///PATH or mongodb://…")
        common.note("starting the services as worker processes")
        with ServiceWorkers(engine.transport_uri, engine.store_uri,
                            demo_services(services.linux_pool_module()),
                            concurrency=options.concurrency,
                            log_collection=options.log_collection):
            return _run(engine, options)
    finally:
        engine.close()


def _run(engine, options: DemoOptions) -> int:
    """Saves the configuration, starts a run and follows it to its end."""
    retry = FAIL_RETRY if options.fail else None
    config = engine.save_configuration(build_server_configuration(retry))
    payload = {"work_ms": options.work_ms}
    if options.fail:
        payload["fail"] = options.fail
    run = engine.start_run(config.name, "isoqube demo", payload=payload)
    try:
        final = common.follow_run(engine, run.id, options.timeout, cancel_if_left=True)
    except KeyboardInterrupt:
        # Ctrl+C while this thread waited for the GIL, before the wait began.
        common.cancel_left_run(engine, run.id)
        raise
    return report(final, options.json)


def _open_engine(options: DemoOptions):
    module = services.require_linux_pool_module()
    engine = common.open_engine(options, concurrency=options.concurrency)
    engine.load_module(str(module))
    common.note(f"demo services {', '.join(services.PYTHON_SERVICES)} (Python) and "
                f"{services.LINUX_POOL_SERVICE} (C++); transport "
                f"{mask_uri(engine.transport_uri)}, store {mask_uri(engine.store_uri)}")
    return engine
