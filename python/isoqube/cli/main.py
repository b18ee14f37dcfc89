"""The ``isoqube`` command: argument parsing and the error policy.

Exit status: 0 success, 1 a failure (a run that failed, a broker or database
error, a timeout), 2 a usage mistake (bad option, unknown run, invalid
configuration file). Errors are one line on stderr; ``--debug`` shows the
traceback instead.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from isoqube import errors
from isoqube.cli import configs, controlcenter, runs, worker
from isoqube.cli.common import UsageError

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

_USER_ERRORS = (
    UsageError,
    errors.ConfigurationError,
    errors.RegistrationError,
    errors.NotFoundError,
    errors.MessageError,
    errors.ModuleError,
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, naming the command whose help explains it.
        self.exit(EXIT_USAGE, f"isoqube: error: {message} (see '{self.prog} --help')\n")


def _global_options(parser: argparse.ArgumentParser, top: bool) -> None:
    # Sub-commands accept the same options after their name; SUPPRESS keeps
    # them from overwriting what was given before it.
    default = None if top else argparse.SUPPRESS
    parser.add_argument("--transport", metavar="URI", default=default,
                        help="memory:// (the default: in-process) or "
                             "amqp://user:pass@host[:port]/vhost (RabbitMQ; amqps:// with "
                             "TLS); default from $ISOQUBE_TRANSPORT")
    parser.add_argument("--store", metavar="URI", default=default,
                        help="sqlite://FILE (the default: isoqube.db in the working "
                             "folder; sqlite:///abs/path.db), "
                             "mongodb://user:pass@host[:port]/Database?options or "
                             "memory://; default from $ISOQUBE_STORE")
    parser.add_argument("--log-level", metavar="LEVEL", default=default,
                        help="trace, debug, info (default), warning, error, critical, off")
    parser.add_argument("--log-collection", metavar="URI", default=default,
                        help="also write the log lines to the Logs collection of this "
                             "mongodb:// database (the worker processes of the demo too); "
                             "default from $ISOQUBE_LOG_COLLECTION; Environment from "
                             "$ISOQUBE_ENVIRONMENT (default Production)")
    parser.add_argument("--debug", action="store_true",
                        default=False if top else argparse.SUPPRESS,
                        help="show tracebacks of errors")


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    _global_options(common, top=False)
    parser = _Parser(
        prog="isoqube",
        description="Isoqube: orchestrate event-driven workflows of C++ and Python consumers.",
    )
    _global_options(parser, top=True)
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument("--cmakedir", action="store_true",
                        help="print the CMake package folder, for find_package(isoqube)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_demo(commands, common)
    configs.add_parsers(commands, common)
    runs.add_parsers(commands, common)
    worker.add_parser(commands, common)
    controlcenter.add_parser(commands, common)
    return parser


def _add_demo(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    demo = commands.add_parser(
        "demo", parents=[common], help="run the build-server simulation end to end",
        description="Runs the seed's build-server simulation in this process: services "
                    "default, linux-pool (C++), windows-pool and deployment.")
    demo.add_argument("--work-ms", type=_non_negative_int, default=200, metavar="N",
                      help="simulated work per step in milliseconds (default 200)")
    demo.add_argument("--fail", metavar="TOPIC",
                      help="make the consumer of TOPIC fail; every step gets 3 attempts")
    demo.add_argument("--json", action="store_true", help="print the final run as JSON")
    demo.add_argument("--concurrency", type=_positive_int, default=4, metavar="N",
                      help="consumer threads (default 4)")
    demo.add_argument("--timeout", type=_positive_float, default=120.0, metavar="S",
                      help="give up after S seconds (default 120)")
    demo.set_defaults(handler=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    from isoqube.demo import runner

    return runner.run_demo(runner.DemoOptions(
        work_ms=args.work_ms, fail=args.fail, json=args.json, concurrency=args.concurrency,
        timeout=args.timeout, transport=args.transport, store=args.store,
        log_collection=log_collection_uri(args)))


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise ValueError(text)
    return value


_non_negative_int.__name__ = "non-negative integer"
_positive_int.__name__ = "positive integer"
_positive_float.__name__ = "positive number"


def _cmake_dir() -> int:
    from pathlib import Path

    import isoqube

    folder = Path(isoqube.get_cmake_dir())
    if not (folder / "isoqubeConfig.cmake").is_file():
        raise errors.Error(f"no CMake package in {folder}: is isoqube installed (pip install)?")
    print(folder)
    return 0


def log_collection_uri(args: argparse.Namespace) -> str | None:
    """The --log-collection URI, or $ISOQUBE_LOG_COLLECTION, or None."""
    return args.log_collection or os.environ.get("ISOQUBE_LOG_COLLECTION") or None


def _log_application(args: argparse.Namespace) -> str:
    # A service's own lines always name their service; this names the rest:
    # a worker by the services it runs, another command by itself.
    services = getattr(args, "services", None)
    if args.command == "worker" and services:
        return ",".join(dict.fromkeys(services))
    return f"isoqube {args.command}" if args.command else "isoqube"


def _dispatch(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    import isoqube

    if args.log_level:
        isoqube.set_log_level(args.log_level)
    uri = log_collection_uri(args)
    if uri is None or args.version or args.cmakedir:
        return _run_command(args, parser)
    with isoqube.send_logs_to(
            uri, application=_log_application(args),
            environment=os.environ.get("ISOQUBE_ENVIRONMENT") or "Production"):
        return _run_command(args, parser)


def _run_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if args.version:
        import isoqube

        print(f"isoqube {isoqube.__version__}")
        return 0
    if args.cmakedir:
        return _cmake_dir()
    handler = getattr(args, "handler", None)
    if handler is None:
        # No command, or a group (configs, runs) without its sub-command.
        group = getattr(args, "group_parser", parser)
        choices = _subcommands(group)
        group.error(f"missing command: one of {', '.join(choices)}")
    return handler(args)


def _subcommands(parser: argparse.ArgumentParser) -> list:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices)
    return []


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _dispatch(args, parser)
    except KeyboardInterrupt:
        print("isoqube: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # Output piped into a command that stopped reading (| head): point
        # stdout at /dev/null so flushing it at exit does not fail again.
        # https://docs.python.org/3/library/signal.html#note-on-sigpipe
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILURE
    except Exception as e:  # noqa: BLE001 - the CLI's single error boundary
        if args.debug:
            raise
        print(f"isoqube: error: {_describe(e)}", file=sys.stderr)
        return EXIT_USAGE if _is_user_error(e) else EXIT_FAILURE


def _is_user_error(e: Exception) -> bool:
    # Bad files (missing, unreadable, malformed) are the user's to fix too.
    return isinstance(e, _USER_ERRORS) or (
        not isinstance(e, errors.Error) and isinstance(e, (OSError, ValueError)))


def _describe(e: Exception) -> str:
    if isinstance(e, errors.Error) or (isinstance(e, OSError) and e.filename):
        text = str(e)
    else:
        text = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
        if not isinstance(e, (OSError, ValueError, ImportError)):
            text = f"unexpected {text} (run with --debug for the traceback)"
    first = text.strip().splitlines()[0] if text.strip() else type(e).__name__
    return first
