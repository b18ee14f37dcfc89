"""The Engine: transport, store, orchestrator and worker in one object.

    with isoqube.Engine() as engine:           # memory:// + sqlite://isoqube.db
        run = engine.start_run("build", "nightly")
        run = engine.wait(run, timeout=60)    # a Run is data: the ended one

Python consumers run on the engine's C++ worker threads, taking the GIL only
while Python code runs. Every call that may block (start, stop, runs,
publishes, waits, events) releases the GIL, so other Python threads keep
running meanwhile.
"""

from __future__ import annotations

import atexit
import os
import types
import weakref
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

from . import _core
from .display import RunList
from .errors import NotFoundError, RegistrationError
from .follow import Follower
from .model import Configuration, ConsumerInfo, Event, Run, Topic
from .registry import ConsumerDef, Registry, TopicDef, default_registry
from .uris import mask_uri
from .watch import watch

__all__ = ["Engine", "EventIterator"]

# Engines still open, closed at interpreter exit: their worker threads must
# be gone before Python finalizes, or a handler could need a dying GIL.
_open_engines: weakref.WeakSet[Engine] = weakref.WeakSet()


@atexit.register
def _close_open_engines() -> None:
    for engine in list(_open_engines):
        engine.close()


def _topic_name(topic: Any) -> str:
    definition = getattr(topic, "__isoqube_topic__", None)
    if definition is not None:
        return definition.name
    if isinstance(topic, str):
        return topic
    raise TypeError(
        f"topic must be a name or a class decorated with @isoqube.topic, not {type(topic).__name__}"
    )


def _run_id(run: Run | str) -> str:
    if isinstance(run, Run):
        return run.id
    if isinstance(run, str):
        return run
    raise TypeError(f"run must be a Run or a run id, not {type(run).__name__}")


def _configuration_arg(configuration: Any) -> str | dict:
    if isinstance(configuration, (str, dict)):
        return configuration
    if isinstance(configuration, Configuration):
        return configuration.to_dict()
    raise TypeError(
        f"configuration must be a saved configuration's id or name, a Configuration "
        f"or a dict, not {type(configuration).__name__}"
    )


class Engine:
    """An isoqube engine built from URIs.

    transport, store: URIs; None uses $ISOQUBE_TRANSPORT / $ISOQUBE_STORE,
    else memory:// and sqlite://isoqube.db (in the working folder).
    concurrency: worker threads. services: run only the consumers of these
    services (None: all). registry: the Python definitions to register (None:
    the process-wide one). modules: C++ consumer modules (.so) to load.
    register_static: also register C++ consumers linked into the process.

    Raises ConfigurationError for bad URIs or options, TransportError /
    StoreError when they cannot be opened.
    """

    def __init__(
        self,
        transport: str | None = None,
        store: str | None = None,
        *,
        concurrency: int = 4,
        services: Iterable[str] | None = None,
        registry: Registry | None = None,
        modules: Iterable[str | os.PathLike] = (),
        register_static: bool = True,
    ) -> None:
        if isinstance(services, str):
            services = [services]
        self._core = _core.Engine(
            transport or "", store or "", concurrency, list(services or ()), register_static
        )
        _open_engines.add(self)
        self._start_called = False
        self._topic_defs: dict[str, TopicDef] = {}
        self._consumer_defs: dict[str, ConsumerDef] = {}
        registry = default_registry if registry is None else registry
        # Python topics first, so modules may consume them; then modules,
        # whose topics Python consumers may handle.
        for topic_def in registry.topics():
            self._add_topic(topic_def)
        for path in modules:
            self.load_module(path)
        for consumer_def in registry.consumers():
            self._add_consumer(consumer_def)

    @property
    def transport_uri(self) -> str:
        return self._core.transport_uri

    @property
    def store_uri(self) -> str:
        return self._core.store_uri

    @property
    def distributed(self) -> bool:
        """Whether the transport is shared with other processes (a broker),
        so that workers elsewhere can execute this engine's runs."""
        return self._core.distributed

    def __repr__(self) -> str:
        if self._core.closed:
            return "<isoqube Engine (closed)>"
        state = "started" if self._core.started else "stopped"
        return (f"<isoqube Engine {mask_uri(self.transport_uri)} "
                f"{mask_uri(self.store_uri)} ({state})>")

    # Registration: before or after start(); a started engine's worker is
    # stopped (its running handlers finish) and started again with the new
    # consumers. Not while other threads use the engine.

    def load_module(self, path: str | os.PathLike) -> None:
        """Loads a C++ consumer module and registers its topics and
        consumers. Raises ModuleError naming the path and the reason."""
        self._core.load_module(os.fspath(path))

    def register(self, obj: Any) -> None:
        """Registers a function or class decorated with @isoqube.topic /
        @isoqube.consumer, or every decorated object of a Python module."""
        restart = self._start_called
        if restart:
            self._core.stop()
        try:
            self._register(obj)
        finally:
            if restart:
                self._core.start()

    def _register(self, obj: Any) -> None:
        if isinstance(obj, types.ModuleType):
            members = list(vars(obj).values())
        elif hasattr(obj, "__isoqube_topic__") or hasattr(obj, "__isoqube_consumer__"):
            members = [obj]
        else:
            raise RegistrationError(
                f"{obj!r} is neither decorated with @isoqube.topic or @isoqube.consumer "
                f"nor a module"
            )
        definitions = [getattr(m, "__isoqube_topic__", None) for m in members]
        consumers = [getattr(m, "__isoqube_consumer__", None) for m in members]
        for definition in definitions:
            if isinstance(definition, TopicDef):
                self._add_topic(definition)
        for consumer_def in consumers:
            if isinstance(consumer_def, ConsumerDef):
                if consumer_def.topic_def is not None:
                    self._add_topic(consumer_def.topic_def)
                self._add_consumer(consumer_def)

    def _add_topic(self, definition: TopicDef) -> None:
        if self._topic_defs.get(definition.name) == definition:
            return
        self._core.add_topic(
            definition.name,
            definition.description,
            definition.entity_name,
            definition.namespace,
            definition.schema,
        )
        self._topic_defs[definition.name] = definition

    def _add_consumer(self, definition: ConsumerDef) -> None:
        if self._consumer_defs.get(definition.name) is definition:
            return
        self._core.add_consumer(
            definition.name,
            definition.topic,
            definition.handler,
            definition.service,
            definition.endpoint,
            definition.origin,
        )
        self._consumer_defs[definition.name] = definition

    def topics(self) -> list[Topic]:
        return [Topic.from_dict(t) for t in self._core.topics()]

    def stored_topics(self) -> list[Topic]:
        """Topics saved in the store by engines that started there (workers
        of any process), by name."""
        return [Topic.from_dict(t) for t in self._core.stored_topics()]

    def consumers(self) -> list[ConsumerInfo]:
        return [ConsumerInfo.from_dict(c) for c in self._core.consumers()]

    # Lifetime.

    def start(self) -> None:
        """Saves the registered topics to the store and starts the worker
        (when any consumer matches the services). Idempotent."""
        self._core.start()
        self._start_called = True

    def stop(self) -> None:
        """Stops the worker after in-flight handlers finish. Idempotent."""
        self._start_called = False
        self._core.stop()

    @property
    def started(self) -> bool:
        return self._core.started

    def close(self) -> None:
        """Stops the worker and closes transport and store; the engine is
        unusable afterwards. Idempotent."""
        self._core.close()
        _open_engines.discard(self)

    def __enter__(self) -> Engine:
        self.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    def worker_stats(self) -> dict | None:
        """handled / failed / skipped / rejected counts, or None when no
        worker runs."""
        return self._core.worker_stats()

    # Configurations.

    def save_configuration(self, config: Configuration | dict) -> Configuration:
        """Validates against the registered topics, assigns an id when
        missing (reusing the id of a saved configuration of the same name)
        and saves. Raises ConfigurationError naming the first problem."""
        if isinstance(config, Configuration):
            config = config.to_dict()
        return Configuration.from_dict(self._core.save_configuration(config))

    def configuration(self, id_or_name: str) -> Configuration:
        found = self._core.find_configuration(id_or_name)
        if found is None:
            raise NotFoundError(f"no configuration named or with id {id_or_name!r}")
        return Configuration.from_dict(found)

    def configurations(self) -> list[Configuration]:
        return [Configuration.from_dict(c) for c in self._core.configurations()]

    # Runs.

    def start_run(
        self,
        configuration: str | Configuration | dict,
        description: str = "",
        *,
        ingestion_id: str | None = None,
        payload: dict | None = None,
    ) -> Run:
        """Starts a run of a saved configuration (id or name) or of an
        unsaved one (a Configuration or dict, validated, not saved).

        On memory:// only this engine executes runs: a run that some step's
        topic has no started consumer for here (or any run of an engine not
        started) raises ConfigurationError naming them, and nothing is
        stored. Raises TransportError when the first steps cannot be
        published (broker unreachable, nothing bound to the topic): the run
        then stays "pending", never started; resume() publishes it."""
        return self._core.start_run(
            _configuration_arg(configuration), description, ingestion_id or "", payload
        )

    def rerun(self, run_id: str, description: str = "") -> Run:
        """A new run of the same configuration snapshot."""
        return self._core.rerun(run_id, description)

    def resume(self, run_id: str) -> Run:
        """Re-executes a failed or cancelled run from its unfinished steps,
        or starts a pending one whose first steps could not be published."""
        return self._core.resume(run_id)

    def cancel(self, run_id: str) -> bool:
        """Cancels a pending or running run; False when it already finished."""
        return self._core.cancel(run_id)

    def run(self, run: Run | str) -> Run:
        """The run as stored now (of that id, or a newer reading of a Run).
        Raises NotFoundError when there is none."""
        found = self._core.find_run(_run_id(run))
        if found is None:
            raise NotFoundError(f"no run with id {_run_id(run)!r}")
        return found

    def runs(
        self,
        *,
        limit: int = 100,
        offset: int = 0,
        status: str | None = None,
        configuration: str | None = None,
    ) -> RunList:
        """Runs, newest first (a list, shown as a table in Jupyter)."""
        found = self._core.runs(limit, offset, status, configuration or "")
        return RunList(found)

    def wait(self, run: Run | str, timeout: float | None = None) -> Run:
        """Blocks, without the GIL, until the run (a Run or its id) is
        completed, failed or cancelled; returns it as it ended. Raises
        TimeoutError after `timeout` seconds (None: none)."""
        return self._core.wait(_run_id(run), timeout)

    def watch(self, run: Run | str, timeout: float | None = None) -> Run:
        """Like wait(), showing the run as it goes: in Jupyter a table that
        updates in place, elsewhere a line per transition. Follows runs
        that other processes execute too."""
        return watch(self, _run_id(run), timeout)

    # Messages and events.

    def publish(
        self, topic: Any, payload: dict | None = None, *, ingestion_id: str | None = None
    ) -> None:
        """Publishes a topic outside any run: its consumers run, nothing is
        tracked. Raises NotFoundError for an unknown topic."""
        self._core.publish(_topic_name(topic), payload, ingestion_id or "")

    def events(self, run_id: str | None = None, *, timeout: float | None = None) -> EventIterator:
        """Live events committed by this process. With a run id: that run's
        events from its creation on (stored ones first), ending after the
        event that finishes the run. Ends after `timeout` seconds without an
        event (None: never)."""
        return EventIterator(self, run_id, timeout)

    def event_log(
        self, run_id: str | None = None, *, after_seq: int = 0, limit: int = 1000
    ) -> list[Event]:
        """Stored events (of one run, or all), oldest first."""
        return [Event.from_dict(e) for e in self._core.event_log(run_id or "", after_seq, limit)]

    def last_event_seq(self) -> int:
        """The seq of the newest stored event (0 when there is none): where
        a reader of every run's events starts to see only what comes next."""
        return int(self._core.last_event_seq())


def _close_stream(core: Any, stream: Any) -> None:
    try:
        core.unsubscribe(stream)
    except Exception:  # the engine may be closed already; the stream ends anyway
        stream.close()


class EventIterator(Iterator[Event]):
    """Iterator of Engine.events(). Subscribes when created, so no event
    committed after the call is missed; close() (or leaving a ``with``
    block) unsubscribes."""

    def __init__(self, engine: Engine, run_id: str | None, timeout: float | None) -> None:
        self._run_id = run_id
        self._timeout = timeout
        self._stream = engine._core.subscribe(run_id or "")
        self._closer = weakref.finalize(self, _close_stream, engine._core, self._stream)
        self._pending: deque[Event] = deque()
        self._seen: set[int] = set()
        self._finished = False
        self._last_stored: Event | None = None
        if run_id:
            self._load_history(engine)

    def _load_history(self, engine: Engine) -> None:
        # Subscribed first, read the log second: an event committed in
        # between is in both, and dropped from the live feed by its seq.
        self._pending.extend(Follower(engine, self._run_id).read())
        self._seen.update(e.seq for e in self._pending)
        run_events = [e for e in self._pending if e.is_run_event]
        # Only the latest run event tells whether the run is over: a failed
        # run may have been resumed since.
        if run_events and run_events[-1].ends_run:
            self._last_stored = run_events[-1]

    def __iter__(self) -> EventIterator:
        return self

    def __next__(self) -> Event:
        while not self._finished:
            if self._pending:
                event = self._pending.popleft()
                if event is self._last_stored:
                    self._finished = True
                return event
            data = self._stream.next(self._timeout)
            if data is None:
                break
            event = Event.from_dict(data)
            if event.seq and event.seq in self._seen:
                continue
            if self._run_id and event.ends_run:
                self._finished = True
            return event
        self.close()
        raise StopIteration

    @property
    def dropped(self) -> int:
        """Events lost because this reader fell too far behind."""
        return self._stream.dropped

    def close(self) -> None:
        self._finished = True
        self._closer()

    def __enter__(self) -> EventIterator:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()
