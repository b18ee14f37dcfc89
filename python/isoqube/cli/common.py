"""What the commands share: opening the engine, loading consumers, finding
runs, waiting, and the CLI's own error type."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import sys
import time
from collections.abc import Iterable
from types import ModuleType
from typing import Any

from isoqube import errors
from isoqube.uris import mask_uri

# Engine.wait is called in slices this long so that Ctrl+C (handled by
# Python between calls into C++) stops a wait promptly.
_WAIT_SLICE_SECONDS = 0.25
# What `isoqube worker` says once it consumes (its queues and bindings are
# declared); process supervisors such as the demo's wait for it.
READY_LINE = "worker ready:"
# A prefix shorter than this is too likely to be ambiguous to be useful.
_MIN_ID_PREFIX = 4
_PREFIX_SEARCH_LIMIT = 1000


class UsageError(errors.Error, ValueError):
    """A mistake in what the user asked for (exit status 2)."""


def add_consumer_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--import", dest="imports", action="append", metavar="PYMODULE",
                        help="import a Python module (or .py file) of topics and consumers; "
                             "repeatable")
    parser.add_argument("--module", dest="modules", action="append", metavar="PATH",
                        help="load a C++ consumer module (.so); repeatable")


def warn(message: str) -> None:
    print(f"isoqube: warning: {message}", file=sys.stderr)


def note(message: str) -> None:
    print(f"isoqube: {message}", file=sys.stderr)


def import_python(name: str) -> ModuleType:
    """Imports a module by dotted name, or a ``.py`` file by path, so that
    its decorated topics and consumers register themselves. Raises
    UsageError naming the module when it is missing or fails to import."""
    try:
        return _import(name)
    except UsageError:
        raise
    except Exception as e:  # the user's module: any error is theirs to fix
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        reason = f"{type(e).__name__}: {first}" if first else type(e).__name__
        raise UsageError(f"cannot import '{name}': {reason}") from e


def _import(name: str) -> ModuleType:
    if name.endswith(".py"):
        path = os.path.abspath(name)
        if not os.path.isfile(path):
            raise UsageError(f"cannot import '{name}': no such file")
        module_name = os.path.splitext(os.path.basename(path))[0]
        if module_name in sys.modules:
            # Never shadow a loaded module (a user's json.py, say).
            module_name = f"isoqube_import_{module_name}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise UsageError(f"cannot import '{name}': not a Python module")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
        return module
    # As `python -m` does, let modules in the working folder be found.
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name and name.startswith(e.name):
            raise UsageError(f"cannot import '{name}': no module named '{e.name}'") from e
        raise


def open_engine(args: Any, *, consumers: bool = False, **options: Any) -> Any:
    """An Engine on the URIs of the global options. With ``consumers``, the
    modules named by --import are imported first (the engine registers what
    they define) and the --module libraries are loaded."""
    from isoqube import Engine

    if consumers:
        for name in dict.fromkeys(getattr(args, "imports", None) or ()):
            import_python(name)
    try:
        engine = Engine(args.transport, args.store, **options)
    except errors.Error as e:
        raise type(e)(_with_uris(str(e), args)) from e
    if consumers:
        for path in getattr(args, "modules", None) or ():
            if not os.path.exists(path):
                raise UsageError(f"cannot load module '{path}': no such file")
            engine.load_module(path)
    return engine


def _with_uris(message: str, args: Any) -> str:
    # Name the URI the user gave when the core's message does not already.
    given = [mask_uri(uri) for uri in (args.transport, args.store) if uri]
    if any(uri in message for uri in given):
        return message
    uris = ", ".join(f"{flag} '{mask_uri(uri)}'" for flag, uri in
                     (("--transport", args.transport), ("--store", args.store)) if uri)
    return f"{message} ({uris})" if uris else message


def is_memory_transport(engine: Any) -> bool:
    return engine.transport_uri.startswith("memory:")


def find_run(engine: Any, run_id: str) -> Any:
    """The run with that id, or with that unique id prefix."""
    try:
        return engine.run(run_id)
    except errors.NotFoundError:
        if len(run_id) < _MIN_ID_PREFIX:
            raise
        matches = [r for r in engine.runs(limit=_PREFIX_SEARCH_LIMIT) if r.id.startswith(run_id)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise UsageError(f"run id prefix '{run_id}' is ambiguous: it matches "
                             f"{len(matches)} runs") from None
        raise


def wait_for_run(engine: Any, run_id: str, timeout: float | None) -> Any:
    """Waits until the run is finished; raises isoqube TimeoutError after
    ``timeout`` seconds (None: no limit)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        left = _WAIT_SLICE_SECONDS if deadline is None else deadline - time.monotonic()
        try:
            return engine.wait(run_id, timeout=max(0.0, min(left, _WAIT_SLICE_SECONDS)))
        except errors.TimeoutError:
            if deadline is not None and time.monotonic() >= deadline:
                run = engine.run(run_id)
                raise errors.TimeoutError(
                    f"run {run_id} is still {run.status} after {timeout:g} s") from None


def follow_run(engine: Any, run_id: str, timeout: float | None, *, cancel_if_left: bool) -> Any:
    """Waits for the run; when the wait is given up (timeout, Ctrl+C) and
    ``cancel_if_left``, cancels the run, so that a run nobody else can
    process does not stay "running" in the store."""
    try:
        return wait_for_run(engine, run_id, timeout)
    except (errors.TimeoutError, KeyboardInterrupt):
        if cancel_if_left:
            cancel_left_run(engine, run_id)
        raise


def cancel_left_run(engine: Any, run_id: str) -> None:
    """Cancels a run this process gives up on while only it can execute the
    run (memory://), so that the run does not stay "running" in the store."""
    if engine.cancel(run_id):
        note(f"cancelled run {run_id}: this process was executing it")


def parse_json_object(text: str, what: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise UsageError(f"{what} is not valid JSON: {e}") from None
    if not isinstance(value, dict):
        raise UsageError(f"{what} must be a JSON object, not {type(value).__name__}")
    return value


def names(items: Iterable[str]) -> str:
    return ", ".join(sorted(items)) or "none"
