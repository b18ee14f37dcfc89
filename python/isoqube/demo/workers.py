"""The demo's services as separate worker processes, for a broker transport.

Each service runs as ``isoqube worker --service NAME`` on the demo's
transport and store, as it would on its own machine. Their log lines are
passed through to this process's stderr as they come. A worker counts as
ready once it says so (after it has declared its queues and bindings, so no
step published afterwards can miss it); they are stopped with SIGTERM, which
lets running handlers finish.
"""

from __future__ import annotations

import ctypes
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path

from isoqube import errors
from isoqube.cli.common import READY_LINE

_READY_TIMEOUT_SECONDS = 60.0
_STOP_TIMEOUT_SECONDS = 30.0
_KEPT_LINES = 20
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # A worker left behind by a demo that was killed would hold the queues.
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: nothing to set
        pass


class _Worker:
    def __init__(self, service: str, command: list[str]) -> None:
        self.service = service
        self.ready = threading.Event()
        self.last_lines: deque[str] = deque(maxlen=_KEPT_LINES)
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True, bufsize=1, preexec_fn=_die_with_parent)
        self._reader = threading.Thread(target=self._pass_lines, daemon=True,
                                        name=f"isoqube-demo-{service}")
        self._reader.start()

    def _pass_lines(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.last_lines.append(line.rstrip("\n"))
            if READY_LINE in line:
                self.ready.set()
            sys.stderr.write(line)
            sys.stderr.flush()

    def failure(self) -> str:
        tail = "\n".join(f"  {line}" for line in self.last_lines)
        return (f"the {self.service} worker exited with status {self.process.returncode} "
                f"before it was ready" + (f"; its last lines:\n{tail}" if tail else ""))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def join(self, deadline: float) -> None:
        try:
            self.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._reader.join(timeout=5)
        if self.process.stderr is not None:
            self.process.stderr.close()


class ServiceWorkers:
    """Starts one worker process per service and stops them on exit::

        with ServiceWorkers(transport, store, services) as workers:
            ...  # runs started now are executed by the workers
    """

    def __init__(self, transport: str, store: str, services: dict[str, list[str]],
                 concurrency: int = 4, log_collection: str | None = None) -> None:
        """``services`` maps a service name to the worker options that load
        it (``["--import", "pkg.module"]`` or ``["--module", "lib.so"]``);
        ``log_collection`` is the mongodb:// URI each worker sends its log
        lines to (--log-collection), if any."""
        logs = ["--log-collection", log_collection] if log_collection else []
        self._commands = {
            service: [sys.executable, "-m", "isoqube", "--transport", transport,
                      "--store", store, *logs, "worker", *loading, "--service", service,
                      "--concurrency", str(concurrency)]
            for service, loading in services.items()
        }
        self._workers: list[_Worker] = []

    def __enter__(self) -> ServiceWorkers:
        try:
            for service, command in self._commands.items():
                self._workers.append(_Worker(service, command))
            self._wait_ready()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def pids(self) -> dict[str, int]:
        return {w.service: w.process.pid for w in self._workers}

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + _READY_TIMEOUT_SECONDS
        for worker in self._workers:
            while not worker.ready.wait(0.1):
                if worker.process.poll() is not None:
                    worker.ready.wait(0.5)  # let the reader pass the last lines
                    raise errors.Error(worker.failure())
                if time.monotonic() > deadline:
                    raise errors.TimeoutError(
                        f"the {worker.service} worker was not ready after "
                        f"{_READY_TIMEOUT_SECONDS:g} s")

    def close(self) -> None:
        for worker in self._workers:
            worker.stop()
        deadline = time.monotonic() + _STOP_TIMEOUT_SECONDS
        for worker in self._workers:
            worker.join(deadline)
        self._workers.clear()


def demo_services(linux_pool: Path) -> dict[str, list[str]]:
    """The worker options of each of the build-server demo's services."""
    from isoqube.demo import services

    python = {name: ["--import", "isoqube.demo.services"]
              for name in services.PYTHON_SERVICES}
    return {**python, services.LINUX_POOL_SERVICE: ["--module", str(linux_pool)]}
