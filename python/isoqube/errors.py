"""The exceptions of isoqube, one per kind of failure.

Each class has a C++ twin of the same name in ``isoqube/errors.h``; the
bindings translate one into the other where C++ calls return to Python, with
the same message. Each also derives from the closest built-in exception, so
``except ValueError`` still catches a bad configuration.

Normal outcomes (a run that is not found by ``Engine.cancel``, a step already
completed) are return values, not exceptions.
"""

from __future__ import annotations

import builtins

__all__ = [
    "Error",
    "ConfigurationError",
    "RegistrationError",
    "NotFoundError",
    "MessageError",
    "TransportError",
    "StoreError",
    "ModuleError",
    "TimeoutError",
]


class Error(Exception):
    """Base class of every isoqube exception."""


class ConfigurationError(Error, ValueError):
    """An invalid configuration, option, URI or argument given by the caller.

    ``field`` is the path of the configuration field the error is about
    (``"steps[2].retry.attempts"``, ``"name"``), or None; ``problem`` is the
    message without the configuration it is about, for showing next to that
    field. Fields read from a dict are named in the dict as given; the
    checks after reading name them as ``Configuration.to_dict()`` writes
    them (``steps[i]``), which is the seed's ``topics[i]`` when only
    ``topics`` was given.
    """

    def __init__(self, message: str = "", field: str | None = None,
                 problem: str | None = None) -> None:
        super().__init__(message)
        self.field = field or None
        self.problem = problem if problem is not None else message


class RegistrationError(Error, ValueError):
    """A topic or consumer that cannot be registered (bad name, duplicate)."""


class NotFoundError(Error, LookupError):
    """A named configuration, run or topic that does not exist."""


class MessageError(Error, ValueError):
    """A message that cannot be decoded, or is too large."""


class TransportError(Error, ConnectionError):
    """The transport (broker) failed or is unreachable."""


class StoreError(Error):
    """The store (database) failed or is unreachable."""


class ModuleError(Error, ImportError):
    """A C++ consumer module could not be loaded."""


class TimeoutError(Error, builtins.TimeoutError):
    """A wait ran out of time."""
