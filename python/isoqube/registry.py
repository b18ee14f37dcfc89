"""Topics and consumers written in Python, declared with decorators.

    @isoqube.topic("DefaultSourceIngestion", description="Default ingestion")
    class DefaultSourceIngestion: ...

    @isoqube.consumer(DefaultSourceIngestion, service="default")
    def ingest(ctx):
        ctx.log.info("ingesting %s", ctx.ingestion_id)
        return {"files": 3}

A handler gets one argument, an ``isoqube.Context`` (see ``consumer``).

The decorators validate their arguments when applied (a bad name, an unknown
option or a conflicting second definition raises RegistrationError, a
ValueError, naming the problem), record the definition in a Registry (the
process-wide default one unless used as ``my_registry.topic(...)``) and
return the decorated object unchanged, so a consumer stays a plain callable
function that tests can call directly.

An Engine registers the definitions of its registry into the C++ core when
it is created; definitions made later reach it through ``Engine.register``.
"""

from __future__ import annotations

import inspect
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from . import _core
from .errors import RegistrationError
from .model import Topic

__all__ = [
    "DEFAULT_NAMESPACE",
    "TopicDef",
    "ConsumerDef",
    "Registry",
    "default_registry",
    "topic",
    "consumer",
    "topics",
    "consumers",
]

DEFAULT_NAMESPACE = "Isoqube.Topics"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*\Z")
_ENTITY = re.compile(r"[A-Za-z0-9_.:\-]+\Z")
_TOPIC_OPTIONS = ("description", "entity_name", "namespace", "schema")
_CONSUMER_OPTIONS = ("service", "name", "endpoint")


@dataclass(frozen=True)
class TopicDef:
    """A topic declared in Python (``obj.__isoqube_topic__``)."""

    name: str
    description: str = ""
    entity_name: str = ""
    namespace: str = DEFAULT_NAMESPACE
    schema: Any = None

    def to_topic(self) -> Topic:
        return Topic(self.name, self.description, self.entity_name, self.namespace, self.schema)


@dataclass(frozen=True)
class ConsumerDef:
    """A consumer declared in Python (``fn.__isoqube_consumer__``).
    ``handler(ctx)`` runs for each message; ``origin`` is
    "python:<module>.<qualified name>" of the decorated object."""

    name: str
    topic: str
    handler: Callable[[Any], Any] = field(compare=False, repr=False)
    service: str = "default"
    endpoint: str = ""
    origin: str = ""
    topic_def: TopicDef | None = field(default=None, compare=False, repr=False)

    def same_definition(self, other: ConsumerDef) -> bool:
        """Equal in everything but the handler object: the same function
        defined again (a re-run notebook cell, a reloaded module)."""
        return self == other


def _check_identifier(kind: str, name: Any) -> str:
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise RegistrationError(
            f"invalid {kind} name {name!r}: a name must be an identifier ([A-Za-z_][A-Za-z0-9_.]*)"
        )
    return name


def _check_options(decorator: str, unknown: dict, known: tuple[str, ...]) -> None:
    if unknown:
        names = ", ".join(repr(k) for k in sorted(unknown))
        raise RegistrationError(
            f"@{decorator} got unknown option(s) {names}; known options: {', '.join(known)}"
        )


def _check_str(what: str, value: Any) -> str:
    if not isinstance(value, str):
        raise RegistrationError(f"{what} must be a str, not {type(value).__name__}")
    return value


def _origin(obj: Any) -> str:
    module = getattr(obj, "__module__", None) or "?"
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) or repr(obj)
    return f"python:{module}.{name}"


def _one_argument_handler(name: str, obj: Any) -> Callable[[Any], Any]:
    """The callable that handles one message: the function itself, or for a
    class with a handle(self, ctx) method, a fresh instance per message (as
    C++ consumer classes and MassTransit consumers are)."""
    if inspect.isclass(obj):
        if not callable(getattr(obj, "handle", None)):
            raise RegistrationError(
                f"consumer {name!r}: class {obj.__qualname__} needs a handle(self, ctx) method"
            )
        _check_signature(name, obj.handle, bound_args=2)

        def handle(ctx: Any) -> Any:
            return obj().handle(ctx)

        return handle
    if not callable(obj):
        raise RegistrationError(
            f"consumer {name!r}: handler must be callable, not {type(obj).__name__}"
        )
    if inspect.iscoroutinefunction(obj):
        raise RegistrationError(
            f"consumer {name!r}: handler {obj.__qualname__} is a coroutine function; "
            f"consumers run on worker threads and must be plain functions"
        )
    _check_signature(name, obj, bound_args=1)
    return obj


def _check_signature(name: str, function: Any, bound_args: int) -> None:
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):  # builtins without a signature: trust them
        return
    try:
        signature.bind(*([None] * bound_args))
    except TypeError:
        raise RegistrationError(
            f"consumer {name!r}: handler {getattr(function, '__qualname__', function)}"
            f"{signature} must accept exactly one argument, the context"
        ) from None


class Registry:
    """Python topic and consumer definitions, in declaration order.
    Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._topics: dict[str, TopicDef] = {}
        self._consumers: dict[str, ConsumerDef] = {}

    def topic(
        self,
        name: Any = None,
        *,
        description: str = "",
        entity_name: str | None = None,
        namespace: str = DEFAULT_NAMESPACE,
        schema: dict | None = None,
        **unknown: Any,
    ) -> Any:
        """Decorator declaring a topic; usable as ``@topic``, ``@topic()``
        and ``@topic("Name", description=...)``. The name defaults to the
        decorated object's ``__name__``; entity_name to its kebab-case."""
        _check_options("topic", unknown, _TOPIC_OPTIONS)
        if name is not None and not isinstance(name, str):
            if callable(name):
                return self.topic()(name)  # bare @topic
            _check_identifier("topic", name)

        def decorate(obj: Any) -> Any:
            definition = self._topic_def(
                name if name is not None else getattr(obj, "__name__", None),
                description,
                entity_name,
                namespace,
                schema,
            )
            self.add_topic(definition)
            obj.__isoqube_topic__ = definition
            return obj

        return decorate

    def consumer(
        self,
        topic: Any,
        *,
        service: str = "default",
        name: str | None = None,
        endpoint: str | None = None,
        **unknown: Any,
    ) -> Callable[[Any], Any]:
        """Decorator declaring a consumer of `topic` (a name, or a class
        decorated with @topic) in `service`. The name defaults to the
        decorated object's ``__name__``, the endpoint (queue) to its
        kebab-case without a trailing "Consumer".

        The handler (a function, or a class whose ``handle(self, ctx)`` runs
        on a fresh instance per message) gets one argument, an
        ``isoqube.Context`` (``help(isoqube.Context)``, docs/context.md):
        ``ctx.attempt`` counts from 1; ``ctx.payload`` is the run's payload
        with the step's own keys replacing the run's; ``ctx.inputs`` holds
        the outputs of the steps this one waits for, and only those;
        ``ctx.cancelled`` must be polled (nothing interrupts a handler);
        ``ctx.log``, ``ctx.publish(topic, payload)``, ``ctx.run_id``,
        ``ctx.ingestion_id``, ``ctx.step``. What it returns (JSON) is the
        step's output; what it raises fails the attempt."""
        _check_options("consumer", unknown, _CONSUMER_OPTIONS)
        topic_def = getattr(topic, "__isoqube_topic__", None)
        if topic_def is not None:
            topic_name = topic_def.name
        elif isinstance(topic, str):
            topic_name = _check_identifier("topic", topic)
        else:
            raise RegistrationError(
                f"@consumer needs a topic name or a class decorated with @isoqube.topic, "
                f"not {type(topic).__name__}"
            )
        _check_str("service", service)
        if name is not None:
            _check_identifier("consumer", name)
        if endpoint is not None and not _ENTITY.match(_check_str("endpoint", endpoint)):
            raise RegistrationError(f"invalid endpoint {endpoint!r}: expected a queue name")

        def decorate(obj: Any) -> Any:
            consumer_name = _check_identifier(
                "consumer", name if name is not None else getattr(obj, "__name__", None)
            )
            definition = ConsumerDef(
                name=consumer_name,
                topic=topic_name,
                handler=_one_argument_handler(consumer_name, obj),
                service=service,
                endpoint=endpoint or _core.endpoint_name(consumer_name),
                origin=_origin(obj),
                topic_def=topic_def,
            )
            if topic_def is not None:
                self.add_topic(topic_def)
            self.add_consumer(definition)
            obj.__isoqube_consumer__ = definition
            return obj

        return decorate

    @staticmethod
    def _topic_def(name, description, entity_name, namespace, schema) -> TopicDef:
        _check_identifier("topic", name)
        _check_str("description", description)
        if entity_name is None:
            entity_name = _core.kebab_case(name)
        elif not _ENTITY.match(_check_str("entity_name", entity_name)):
            raise RegistrationError(
                f"invalid entity_name {entity_name!r} of topic {name!r}: expected a "
                f"broker exchange name such as 'default-source-ingestion'"
            )
        _check_identifier("namespace", namespace)
        if schema is not None:
            if not isinstance(schema, dict):
                raise RegistrationError(
                    f"schema of topic {name!r} must be a dict (a JSON schema), "
                    f"not {type(schema).__name__}"
                )
            try:
                _core.to_json_value(schema)
            except (TypeError, ValueError) as e:
                raise RegistrationError(f"schema of topic {name!r} is not JSON: {e}") from None
        return TopicDef(name, description, entity_name, namespace, schema)

    def add_topic(self, definition: TopicDef) -> None:
        """Adds a topic; the same definition again is accepted, a different
        one of the same name raises RegistrationError."""
        with self._lock:
            existing = self._topics.get(definition.name)
            if existing is not None and existing != definition:
                raise RegistrationError(
                    f"topic {definition.name!r} is already defined differently: "
                    f"{existing} vs {definition}"
                )
            self._topics[definition.name] = definition

    def add_consumer(self, definition: ConsumerDef) -> None:
        """Adds a consumer. The same definition again (same origin, topic,
        service, endpoint) replaces the handler; another consumer of the same
        name raises RegistrationError."""
        with self._lock:
            existing = self._consumers.get(definition.name)
            if existing is not None and not existing.same_definition(definition):
                raise RegistrationError(
                    f"consumer {definition.name!r} is already defined by {existing.origin} "
                    f"(topic {existing.topic}); consumer names must be unique"
                )
            self._consumers[definition.name] = definition

    def topics(self) -> list[TopicDef]:
        with self._lock:
            return list(self._topics.values())

    def consumers(self) -> list[ConsumerDef]:
        with self._lock:
            return list(self._consumers.values())

    def find_topic(self, name: str) -> TopicDef | None:
        with self._lock:
            return self._topics.get(name)

    def find_consumer(self, name: str) -> ConsumerDef | None:
        with self._lock:
            return self._consumers.get(name)

    def clear(self) -> None:
        """Forgets every definition (for tests)."""
        with self._lock:
            self._topics.clear()
            self._consumers.clear()

    def copy(self) -> Registry:
        other = Registry()
        other.update(self)
        return other

    def update(self, other: Registry) -> None:
        """Adds every definition of `other`, with the usual checks."""
        for definition in other.topics():
            self.add_topic(definition)
        for consumer_def in other.consumers():
            self.add_consumer(consumer_def)

    def __len__(self) -> int:
        with self._lock:
            return len(self._topics) + len(self._consumers)

    def __repr__(self) -> str:
        with self._lock:
            return f"<Registry: {len(self._topics)} topics, {len(self._consumers)} consumers>"


default_registry = Registry()
"""The process-wide registry the module-level decorators fill."""

topic = default_registry.topic
consumer = default_registry.consumer


def topics() -> list[TopicDef]:
    """The topics of the default registry."""
    return default_registry.topics()


def consumers() -> list[ConsumerDef]:
    """The consumers of the default registry."""
    return default_registry.consumers()
