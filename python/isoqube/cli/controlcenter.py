"""``isoqube controlcenter``: the web UI and HTTP API, until SIGINT or SIGTERM.

Beside running workers it reads the shared store and follows their events;
with --import/--module (or --demo) it also hosts those consumers, so that
runs started from the page are executed in this process (the only way on
the memory:// transport).
"""

from __future__ import annotations

import argparse
import ipaddress
import os
from typing import Any

from isoqube import errors
from isoqube.cli.common import (
    UsageError,
    add_consumer_options,
    is_memory_transport,
    names,
    note,
    open_engine,
    warn,
)
from isoqube.uris import mask_uri


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser(
        "controlcenter", parents=[common], help="serve the web UI and HTTP API",
        description="Serves the controlcenter (web UI, HTTP API, live events, metrics) until "
                    "SIGINT or SIGTERM, and prints its address. Consumers given with "
                    "--import/--module (or --demo) run in this process.")
    parser.add_argument("--host", default=None, metavar="HOST",
                        help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=_port, default=None, metavar="N",
                        help="port (default 8765; 0: any free port)")
    parser.add_argument("--token", default=None, metavar="TOKEN",
                        help="require this secret on every request: 'Authorization: Bearer "
                             "TOKEN', or as the password of HTTP basic authentication (what "
                             "the browser asks for; any user name). Default: the variable "
                             "ISOQUBE_TOKEN, which other users cannot read in the process "
                             "list. Required with a --host beyond this machine")
    parser.add_argument("--allowed-host", dest="allowed_hosts", action="append", default=[],
                        metavar="NAME",
                        help="a name clients reach this server by (its Host header), beside "
                             "the listening address, localhost, 127.0.0.1 and [::1]; "
                             "repeatable; '*' allows any")
    parser.add_argument("--allowed-origin", dest="allowed_origins", action="append",
                        default=[], metavar="ORIGIN",
                        help="another origin (https://ops.example.com) whose pages may "
                             "start, cancel and resume runs here; repeatable")
    add_consumer_options(parser)
    parser.add_argument("--demo", action="store_true",
                        help="host the build-server demo's services and save its "
                             "configuration, to run it from the page")
    parser.add_argument("--concurrency", type=int, default=4, metavar="N",
                        help="consumer threads of the hosted consumers (default 4)")
    parser.set_defaults(handler=run_controlcenter)


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise ValueError(text)
    return value


_port.__name__ = "port number (0 to 65535)"


def run_controlcenter(args: argparse.Namespace) -> int:
    try:
        from isoqube import controlcenter
    except ModuleNotFoundError as e:
        raise UsageError(str(e)) from None
    host = args.host or controlcenter.DEFAULT_HOST
    port = controlcenter.DEFAULT_PORT if args.port is None else args.port
    token = args.token or os.environ.get("ISOQUBE_TOKEN") or None
    if token is None and not _is_loopback(host):
        raise UsageError(f"--host {host} reaches beyond this machine: give a token "
                         f"(--token or ISOQUBE_TOKEN) that requests must carry")
    if args.demo:
        _add_demo_services(args)
    engine = open_engine(args, consumers=True, concurrency=args.concurrency)
    try:
        engine.start()
        if args.demo:
            _save_demo_configuration(engine)
        _say_who_executes(engine)
        try:
            server = controlcenter.Server(engine, host, port, token=token,
                                          allowed_hosts=args.allowed_hosts,
                                          allowed_origins=args.allowed_origins)
        except OSError as e:
            raise errors.Error(f"cannot listen on {host}:{port}: {e.strerror or e}; "
                               f"choose another --port (0: any free one)") from None
        note(f"store {mask_uri(engine.store_uri)}, transport {mask_uri(engine.transport_uri)}")
        print(f"isoqube controlcenter on {server.url}", flush=True)
        server.run()
    finally:
        engine.close()
    note("controlcenter stopped")
    return 0


def _add_demo_services(args: argparse.Namespace) -> None:
    from isoqube.demo import services  # registers the Python services

    args.modules = [*(args.modules or ()), str(services.require_linux_pool_module())]


def _save_demo_configuration(engine: Any) -> None:
    from isoqube.demo.configuration import build_server_configuration
    from isoqube.demo.runner import FAIL_RETRY

    config = engine.save_configuration(build_server_configuration(FAIL_RETRY))
    note(f"saved the demo's configuration '{config.name}'")


def _say_who_executes(engine: Any) -> None:
    consumers = engine.consumers()
    if consumers:
        note(f"hosting {len(consumers)} consumers of {names({c.service for c in consumers})}")
    elif is_memory_transport(engine):
        warn("no consumers here and the transport is memory://: runs started from the page "
             "will not progress; pass --import/--module or --demo, or use a shared "
             "--transport")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


