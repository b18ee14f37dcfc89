"""The controlcenter: the web UI and HTTP API over an Engine.

    from isoqube.controlcenter import Server
    with isoqube.Engine() as engine:
        Server(engine, port=8765).run()      # or: isoqube controlcenter

The HTTP layer is Starlette on uvicorn (``pip install isoqube[controlcenter]``).
Starlette is a small, well-kept ASGI toolkit (the base of FastAPI): routing,
JSON and streaming responses, static files, and nothing we would not use.
Being asynchronous, it holds many endless server-sent-event streams open
without a thread each, while blocking engine calls run on its thread pool
(they release the GIL). uvicorn is its reference server and, without its
optional extras, pure Python. Server-sent events are a few lines of text
over a streaming response, so no SSE package is needed; the page is plain
HTML, CSS and JavaScript modules shipped in ``static/``, with no build step.
"""

from __future__ import annotations

try:
    import starlette  # noqa: F401
    import uvicorn  # noqa: F401
except ModuleNotFoundError as e:  # pragma: no cover - depends on the install
    raise ModuleNotFoundError(
        f"the controlcenter needs {e.name}: pip install 'isoqube[controlcenter]'",
        name=e.name) from e

from .app import create_app
from .server import DEFAULT_HOST, DEFAULT_PORT, Server

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "Server", "create_app"]
