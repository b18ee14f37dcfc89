"""Serving the app with uvicorn on a socket bound before it starts, so that
the address (with the port the system chose for port 0) is known at once."""

from __future__ import annotations

import contextlib
import ipaddress
import signal
import socket
import threading
from collections.abc import Iterable, Iterator
from typing import Any

import uvicorn

from isoqube import errors

from .app import create_app
from .guard import Access

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
# Seconds open event streams get to end when the server stops; they are
# endless, so waiting longer would only delay Ctrl+C.
_GRACEFUL_SECONDS = 1


class Server:
    """The controlcenter of ``engine`` on ``host``:``port``.

        server = Server(engine, port=0)
        print(server.url)
        server.run()              # until SIGINT/SIGTERM; or start()/stop()

    Who may reach it (guard.py): requests whose Host names the listening
    address, localhost, 127.0.0.1, [::1] or one of ``allowed_hosts`` ("*":
    any); writes from pages of its own origin or of ``allowed_origins``; and
    with a ``token``, only requests that carry it. A token is required when
    the address is not a loopback one.

    Raises OSError when the address cannot be bound, ConfigurationError
    when it is beyond loopback and there is no token.
    """

    def __init__(self, engine: Any, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
                 *, poll: float = 0.25, token: str | None = None,
                 allowed_hosts: Iterable[str] = (), allowed_origins: Iterable[str] = ()
                 ) -> None:
        self._socket = _bind(host, port)
        bound = self._socket.getsockname()[0]
        if not token and not ipaddress.ip_address(bound).is_loopback:
            self._socket.close()
            raise errors.ConfigurationError(
                f"{host} ({bound}) is reachable from other machines: the controlcenter "
                f"needs a token there (--token or ISOQUBE_TOKEN)")
        access = Access.for_address((host, bound), hosts=allowed_hosts,
                                    origins=allowed_origins, token=token)
        self._server = _Uvicorn(uvicorn.Config(
            create_app(engine, poll=poll, access=access), log_config=None, access_log=False,
            timeout_graceful_shutdown=_GRACEFUL_SECONDS))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._socket.getsockname()[:2]
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port}/"

    def run(self) -> None:
        """Serves until SIGINT or SIGTERM (or stop() from another thread)."""
        try:
            self._server.run(sockets=[self._socket])
        finally:
            self._socket.close()

    def start(self) -> None:
        """Serves on a thread of its own; returns once the app is up."""
        self._thread = threading.Thread(target=self.run, name="isoqube-controlcenter",
                                        daemon=True)
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the controlcenter stopped while starting")
            self._thread.join(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join()
            self._thread = None


class _Uvicorn(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # As uvicorn's, but without raising the signal again after the
        # graceful stop: the caller still has an engine to close, and a
        # stop asked for is a success (exit status 0), as for `isoqube worker`.
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit)
                    for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _bind(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
        sock.set_inheritable(True)
    except OSError:
        sock.close()
        raise
    return sock
