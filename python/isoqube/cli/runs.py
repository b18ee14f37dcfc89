"""``isoqube runs start|list|show|rerun|resume|cancel|watch``."""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any, Callable

from isoqube import console, errors
from isoqube.cli.common import (
    UsageError,
    add_consumer_options,
    cancel_left_run,
    find_run,
    follow_run,
    is_memory_transport,
    open_engine,
    parse_json_object,
)
from isoqube.cli.progress import Progress
from isoqube.follow import Follower
from isoqube.model import RUN_STATUSES

# The terminal display of `runs watch` is redrawn at most this often.
_REDRAW_SECONDS = 0.1


def add_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    group = commands.add_parser("runs", parents=[common], help="start, inspect and control runs",
                                description="Runs of configurations.")
    group.set_defaults(group_parser=group)
    sub = group.add_subparsers(dest="runs_command", metavar="COMMAND")

    start = _executing(sub, common, "start", "start a run of a configuration", _start)
    start.add_argument("configuration", metavar="CONFIG", help="configuration name or id")
    start.add_argument("--description", "-d", default="", help="what this run is for")
    start.add_argument("--payload", metavar="JSON", help="the run's payload, a JSON object")
    start.add_argument("--ingestion-id", default="", metavar="ID",
                       help="external id of what is processed (default: a new UUID)")

    rerun = _executing(sub, common, "rerun", "start a new run of a run's configuration", _rerun)
    rerun.add_argument("run_id", metavar="ID", help="run id (or a unique prefix)")
    rerun.add_argument("--description", "-d", default="", help="what this run is for")

    resume = _executing(sub, common, "resume", "continue a failed or cancelled run", _resume)
    resume.add_argument("run_id", metavar="ID", help="run id (or a unique prefix)")

    listing = sub.add_parser("list", parents=[common], help="list runs, newest first")
    listing.add_argument("--status", choices=RUN_STATUSES, help="only runs in this status")
    listing.add_argument("--configuration", default="", metavar="CONFIG",
                         help="only runs of this configuration")
    listing.add_argument("--limit", type=int, default=20, metavar="N",
                         help="at most N runs (default 20)")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=_list)

    show = sub.add_parser("show", parents=[common], help="show a run and its steps")
    show.add_argument("run_id", metavar="ID", help="run id (or a unique prefix)")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(handler=_show)

    cancel = sub.add_parser("cancel", parents=[common], help="cancel a pending or running run")
    cancel.add_argument("run_id", metavar="ID", help="run id (or a unique prefix)")
    cancel.set_defaults(handler=_cancel)

    watch = sub.add_parser(
        "watch", parents=[common], help="follow a run's transitions live",
        description="Follows a run until it ends, whichever process executes it: on a "
                    "terminal as a progress display of its steps, otherwise as one line per "
                    "transition. Exits 0 when the run completed.")
    watch.add_argument("run_id", metavar="ID", help="run id (or a unique prefix)")
    watch.add_argument("--timeout", type=float, metavar="S", help="stop after S seconds")
    watch.set_defaults(handler=_watch)


def _executing(sub: Any, common: argparse.ArgumentParser, name: str, help_text: str,
               handler: Callable) -> argparse.ArgumentParser:
    parser = sub.add_parser(
        name, parents=[common], help=help_text,
        description=f"{help_text[0].upper()}{help_text[1:]}. With --wait and --import/--module, "
                    "this process also runs those consumers until the run ends. On the "
                    "memory:// transport only this process can execute the run: --wait is "
                    "required, and a step whose topic no loaded consumer handles is an error "
                    "before anything is stored.")
    parser.add_argument("--wait", action="store_true", help="wait until the run ends")
    parser.add_argument("--timeout", type=float, metavar="S",
                        help="with --wait: give up after S seconds")
    parser.add_argument("--concurrency", type=int, default=4, metavar="N",
                        help="consumer threads of the in-process worker (default 4)")
    parser.add_argument("--json", action="store_true", help="print the run as JSON")
    add_consumer_options(parser)
    parser.set_defaults(handler=handler)
    return parser


def _start(args: argparse.Namespace) -> int:
    payload = parse_json_object(args.payload, "--payload") if args.payload else None
    return _execute(args, lambda engine: engine.start_run(
        args.configuration, args.description, ingestion_id=args.ingestion_id or None,
        payload=payload))


def _rerun(args: argparse.Namespace) -> int:
    return _execute(args, lambda engine: engine.rerun(
        find_run(engine, args.run_id).id, args.description))


def _resume(args: argparse.Namespace) -> int:
    return _execute(args, lambda engine: engine.resume(find_run(engine, args.run_id).id))


def _execute(args: argparse.Namespace, begin: Callable[[Any], Any]) -> int:
    engine = open_engine(args, consumers=True, concurrency=args.concurrency)
    run = None
    try:
        if is_memory_transport(engine) and not args.wait:
            # Nothing would execute the run once this process exits.
            raise UsageError("on memory:// a run is executed by the process that starts it, "
                             "and this one would exit now: add --wait (with --import/--module "
                             "for its consumers), or use a shared --transport")
        engine.start()
        # On memory:// the engine refuses a run whose consumers are missing.
        run = begin(engine)
        if not args.wait:
            if args.json:
                console.print_json(run.to_dict())
            else:
                print(run.id)
            return 0
        print(f"isoqube: run {run.id} of {run.configuration_name} started", file=sys.stderr)
        # On memory:// nothing else can finish the run once this process ends.
        final = follow_run(engine, run.id, args.timeout,
                           cancel_if_left=is_memory_transport(engine))
        return report(final, args.json)
    except KeyboardInterrupt:
        # Ctrl+C may come before the wait begins (the run's consumers start
        # at once): the run is this process's to cancel all the same.
        if run is not None and args.wait and is_memory_transport(engine):
            cancel_left_run(engine, run.id)
        raise
    finally:
        engine.close()


def report(run: Any, as_json: bool) -> int:
    """Prints a finished run (table and summary, or JSON); its exit status."""
    colour = console.use_colour(sys.stdout)
    if as_json:
        console.print_json(run.to_dict())
    else:
        print(console.steps_table(run, colour))
        print()
        print(console.run_summary(run, colour))
    if run.status == "completed":
        return 0
    print(f"isoqube: run {run.id} {run.status}" + (f": {run.error}" if run.error else ""),
          file=sys.stderr)
    return 1


def _list(args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise UsageError(f"--limit must be at least 1, not {args.limit}")
    engine = open_engine(args)
    found = engine.runs(limit=args.limit, status=args.status, configuration=args.configuration)
    if args.json:
        console.print_json([run.to_dict() for run in found])
    elif found:
        print(console.runs_table(found, console.use_colour(sys.stdout)))
    else:
        print("no runs", file=sys.stderr)
    return 0


def _show(args: argparse.Namespace) -> int:
    run = find_run(open_engine(args), args.run_id)
    if args.json:
        console.print_json(run.to_dict())
        return 0
    colour = console.use_colour(sys.stdout)
    print(console.run_header(run, colour))
    print()
    print(console.steps_table(run, colour))
    return 0


def _cancel(args: argparse.Namespace) -> int:
    engine = open_engine(args)
    run = find_run(engine, args.run_id)
    if engine.cancel(run.id):
        print(f"cancelled run {run.id}")
        return 0
    print(f"isoqube: run {run.id} is already {engine.run(run.id).status}; nothing to cancel",
          file=sys.stderr)
    return 1


def _watch(args: argparse.Namespace) -> int:
    engine = open_engine(args)
    run = find_run(engine, args.run_id)
    colour = console.use_colour(sys.stdout)
    progress = Progress(sys.stdout, colour) if _is_terminal(sys.stdout) else None
    if progress is None:
        print(f"watching run {run.id} of {run.configuration_name} ({run.status})", flush=True)
    width = console.name_width(run)
    shown = 0.0
    try:
        for batch in Follower(engine, run.id).until_run_ends(args.timeout):
            if progress is None:
                for event in batch:
                    print(console.event_line(event, width, colour), flush=True)
            elif time.monotonic() - shown >= _REDRAW_SECONDS:
                progress.show(engine.run(run.id))
                shown = time.monotonic()
    except errors.TimeoutError:
        print(f"isoqube: stopped watching run {run.id} after {args.timeout:g} s",
              file=sys.stderr)
        return 1
    final = engine.run(run.id)
    if progress is not None:
        progress.show(final)
    print(console.run_summary(final, colour))
    return 0 if final.status == "completed" else 1


def _is_terminal(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"
