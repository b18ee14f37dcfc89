"""Who may reach the controlcenter, checked before any route runs.

A browser lets any web page send requests to a server on the user's
machine, so the API defends itself as a web application must:

- **Host** must be one of the names the controlcenter answers to (the
  address it listens on, localhost, 127.0.0.1, [::1] and those allowed
  with ``allowed_hosts``), else 400: a page of an attacker's domain that
  rebinds its name to 127.0.0.1 (DNS rebinding) is refused.
- **A token**, when one is set, on every request but the health checks:
  ``Authorization: Bearer TOKEN``, or HTTP basic authentication with the
  token as the password (any user name), which is what a browser asks its
  user for and then sends with every request of the page, the event
  stream included. Else 401 with both challenges.
- **Writes** (every method but GET, HEAD and OPTIONS) that carry
  ``Origin`` must come from the controlcenter's own origin (scheme and
  Host) or one of ``allowed_origins``, else 403. A POST must say
  ``Content-Type: application/json`` (a charset, if any, utf-8), even
  without a body (cancel, resume), else 415: a cross-site form can only
  send other types, and a cross-site script that sets this one needs a
  CORS preflight, which the controlcenter never allows (nor for the other
  methods, which always need one; no route takes them: 405).

Refusals have the API's JSON error body (request_body.ApiError).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Iterable
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from .request_body import ApiError

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")
# Probes (load balancers, orchestrators) reach these without credentials;
# they tell nothing but "up" and "the store answers".
_OPEN_PATHS = ("/api/health/live", "/api/health/ready")
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
_REALM = 'realm="isoqube controlcenter"'


@dataclass(frozen=True)
class Access:
    """What the guard lets in. ``hosts``: the names (or addresses, IPv6 in
    brackets) a request's Host may give, "*" for any; ``origins``: origins
    (``https://ops.example.com``) besides the controlcenter's own whose pages
    may write; ``token``: the secret every request must carry (None: no
    authentication, for loopback only)."""

    hosts: tuple[str, ...] = LOOPBACK_HOSTS
    origins: tuple[str, ...] = ()
    token: str | None = None

    @classmethod
    def for_address(cls, bound: Iterable[str], *, hosts: Iterable[str] = (),
                    origins: Iterable[str] = (), token: str | None = None) -> Access:
        """The defaults for a server bound to the ``bound`` addresses, plus
        ``hosts``."""
        names = [*LOOPBACK_HOSTS, *(_bracketed(h) for h in bound), *hosts]
        return cls(tuple(dict.fromkeys(n.lower().rstrip(".") for n in names)),
                   tuple(o.rstrip("/") for o in origins), token or None)


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


class Guard:
    """ASGI middleware enforcing ``access`` on every HTTP request."""

    def __init__(self, app: ASGIApp, access: Access) -> None:
        self._app = app
        self._access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refusal = self._refusal(scope)
            if refusal is not None:
                await _response(refusal)(scope, receive, send)
                return
        await self._app(scope, receive, send)

    def _refusal(self, scope: Scope) -> ApiError | None:
        headers = Headers(scope=scope)
        return (self._check_host(headers) or self._check_token(scope, headers)
                or self._check_write(scope, headers))

    def _check_host(self, headers: Headers) -> ApiError | None:
        host = headers.get("host", "")
        name = host_name(host)
        if "*" in self._access.hosts or name in self._access.hosts:
            return None
        return ApiError(400, f"the Host header '{host[:100]}' is not a name this "
                             f"controlcenter answers to; allow it with --allowed-host",
                        "Host")

    def _check_token(self, scope: Scope, headers: Headers) -> ApiError | None:
        token = self._access.token
        if token is None or scope["path"] in _OPEN_PATHS:
            return None
        if _carries(headers.get("authorization", ""), token):
            return None
        error = ApiError(401, "authentication required: send the controlcenter's token as "
                              "'Authorization: Bearer TOKEN' or as the password of HTTP basic "
                              "authentication", "Authorization")
        error.headers += [("WWW-Authenticate", f'Basic {_REALM}, charset="UTF-8"'),
                         ("WWW-Authenticate", f"Bearer {_REALM}")]
        return error

    def _check_write(self, scope: Scope, headers: Headers) -> ApiError | None:
        if scope["method"] in _SAFE_METHODS:
            return None
        origin = headers.get("origin")
        if origin is not None and not self._own_origin(scope, headers, origin):
            return ApiError(403, f"requests from the page of origin '{origin[:100]}' may not "
                                 f"change anything here; allow it with --allowed-origin",
                            "Origin")
        content_type = headers.get("content-type")
        if scope["method"] == "POST" and (content_type is None or not is_json(content_type)):
            given = f"not {content_type[:100]}" if content_type else "and none was given"
            return ApiError(415, f"a {scope['method']} must say Content-Type: "
                                 f"application/json (even without a body), {given}",
                            "Content-Type")
        return None

    def _own_origin(self, scope: Scope, headers: Headers, origin: str) -> bool:
        own = f"{scope.get('scheme', 'http')}://{headers.get('host', '')}".lower()
        return origin.lower() in (own, *self._access.origins)


def host_name(host: str) -> str:
    """The name of a Host header without its port, lower case:
    "[::1]:8765" -> "[::1]", "Example.com.:80" -> "example.com"."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[:host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0].rstrip(".") if host.count(":") == 1 else host.rstrip(".")


def is_json(content_type: str) -> bool:
    """application/json, with no charset or utf-8."""
    kind, *params = (part.strip().lower() for part in content_type.split(";"))
    if kind != "application/json":
        return False
    charsets = [p.split("=", 1)[1].strip('"') for p in params if p.startswith("charset=")]
    return all(c in ("utf-8", "utf8") for c in charsets)


def _carries(authorization: str, token: str) -> bool:
    scheme, _, credentials = authorization.strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer":
        given = credentials
    elif scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        given = decoded.partition(":")[2]
    else:
        return False
    return hmac.compare_digest(given.encode(), token.encode())


def _response(error: ApiError) -> JSONResponse:
    response = JSONResponse(error.to_json(), status_code=error.status)
    for key, value in error.headers:
        response.headers.append(key, value)
    return response
