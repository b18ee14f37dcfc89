"""isoqube: orchestration of event-driven workflows, a C++ core with a Python face.

Declare topics and consumers with decorators, describe runs as
configurations of steps, and run them with an Engine:

    import isoqube

    @isoqube.topic("Hello")
    class Hello: ...

    @isoqube.consumer(Hello)
    def greet(ctx):
        return {"greeting": f"hello {ctx.payload.get('name', 'world')}"}

    with isoqube.Engine(store="memory://") as engine:
        run = engine.start_run(isoqube.Configuration("hello", ["Hello"]))
        print(engine.wait(run, timeout=10).steps[0].output)
"""

from __future__ import annotations

from importlib import metadata as _metadata
from pathlib import Path as _Path

from . import _core, errors
from ._core import Context, LogCollection, Logger, log_level, logger, send_logs_to, set_log_level
from .engine import Engine, EventIterator
from .errors import (
    ConfigurationError,
    Error,
    MessageError,
    ModuleError,
    NotFoundError,
    RegistrationError,
    StoreError,
    TimeoutError,
    TransportError,
)
from .model import (
    Configuration,
    ConsumerInfo,
    Event,
    RetryPolicy,
    Run,
    Step,
    StepState,
    Topic,
)
from .registry import (
    ConsumerDef,
    Registry,
    TopicDef,
    consumer,
    consumers,
    default_registry,
    topic,
    topics,
)

try:
    __version__ = _metadata.version("isoqube")
except _metadata.PackageNotFoundError:  # imported from a build tree
    __version__ = _core.__version__


def get_cmake_dir() -> str:
    """The folder holding isoqubeConfig.cmake, to pass as ``isoqube_DIR``
    when building a C++ consumer module against this installation."""
    return str(_Path(__file__).absolute().parent / "cmake" / "isoqube")


def get_include() -> str:
    """The folder holding the C++ headers (``isoqube/engine.h``, ...)."""
    return str(_Path(__file__).absolute().parent / "include")


cmakedir = get_cmake_dir

__all__ = [
    "__version__",
    "errors",
    "Error",
    "ConfigurationError",
    "RegistrationError",
    "NotFoundError",
    "MessageError",
    "TransportError",
    "StoreError",
    "ModuleError",
    "TimeoutError",
    "Engine",
    "EventIterator",
    "Context",
    "Logger",
    "logger",
    "LogCollection",
    "send_logs_to",
    "log_level",
    "set_log_level",
    "Configuration",
    "ConsumerInfo",
    "Event",
    "RetryPolicy",
    "Run",
    "Step",
    "StepState",
    "Topic",
    "Registry",
    "TopicDef",
    "ConsumerDef",
    "default_registry",
    "topic",
    "consumer",
    "topics",
    "consumers",
    "get_cmake_dir",
    "get_include",
    "cmakedir",
]
