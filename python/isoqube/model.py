"""Plain data of isoqube: configurations, runs, steps, events, topics.

Every class converts to and from the camelCase JSON the C++ core writes
(``to_dict()`` / ``from_dict()``), which is also the form of the HTTP API.
Times are timezone-aware UTC ``datetime`` objects; statuses are lowercase
strings ("pending", "queued", "running", "retrying", "completed", "failed",
"cancelled").
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any, NoReturn

from . import _core
from .display import configuration_html, run_html
from .errors import Error

__all__ = [
    "RUN_STATUSES",
    "STEP_STATUSES",
    "TERMINAL_RUN_STATUSES",
    "RetryPolicy",
    "Step",
    "Configuration",
    "Topic",
    "ConsumerInfo",
    "StepState",
    "Run",
    "Event",
]

RUN_STATUSES = ("pending", "running", "completed", "failed", "cancelled")
STEP_STATUSES = ("pending", "queued", "running", "retrying", "completed", "failed", "cancelled")
TERMINAL_RUN_STATUSES = frozenset({"completed", "failed", "cancelled"})

_TIME_FIELDS = (
    ("invoked_on", "invokedOn"),
    ("completed_on", "completedOn"),
    ("succeeded_on", "succeededOn"),
    ("failed_on", "failedOn"),
    ("retried_on", "retriedOn"),
    ("cancelled_on", "cancelledOn"),
)


def parse_time(value: Any) -> _dt.datetime | None:
    """An aware UTC datetime from the core's ISO-8601 text (None stays None)."""
    if value is None or value == "":
        return None
    if isinstance(value, _dt.datetime):
        moment = value
    else:
        text = str(value)
        # datetime.fromisoformat() accepts "Z" only from Python 3.11 on.
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        moment = _dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=_dt.timezone.utc)
    return moment.astimezone(_dt.timezone.utc)


def format_time(value: _dt.datetime | None) -> str | None:
    """The core's text form of a time: "2026-11-28T01:25:32.123456Z"."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.timezone.utc)
    return value.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _topic_name(topic: Any) -> str:
    if isinstance(topic, str):
        return topic
    definition = getattr(topic, "__isoqube_topic__", None)
    if definition is not None:
        return definition.name
    raise TypeError(
        f"a topic must be a name or a class decorated with @isoqube.topic, "
        f"not {type(topic).__name__}"
    )


@dataclass
class RetryPolicy:
    """How often a step is attempted: ``attempts`` in total (>= 1), the first
    retry ``interval`` seconds after a failure, each later one ``backoff``
    times the previous delay."""

    attempts: int = 1
    interval: float = 0.0
    backoff: float = 1.0

    def to_dict(self) -> dict:
        return {
            "attempts": self.attempts,
            "intervalMs": int(round(self.interval * 1000)),
            "backoff": self.backoff,
        }

    @classmethod
    def from_dict(cls, data: dict) -> RetryPolicy:
        return cls(
            attempts=int(data.get("attempts", 1)),
            interval=data.get("intervalMs", 0) / 1000.0,
            backoff=float(data.get("backoff", 1.0)),
        )


@dataclass
class Step:
    """One step of a configuration: publish ``topic`` once the steps named in
    ``after`` completed (None: the previous step; []: none, a root step).
    The consumer's ``ctx.inputs`` holds the outputs of exactly those steps;
    its ``ctx.payload`` is the run's payload with ``payload``'s keys on top
    (a key in both takes this value, whole); ``retry`` bounds
    ``ctx.attempt``, which counts from 1."""

    topic: str
    name: str | None = None
    after: list[str] | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    payload: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.topic = _topic_name(self.topic)
        if isinstance(self.after, str):
            self.after = [self.after]
        elif self.after is not None:
            self.after = list(self.after)
        if isinstance(self.retry, dict):
            self.retry = RetryPolicy.from_dict(self.retry)

    def to_dict(self) -> dict:
        data: dict[str, Any] = {"name": self.name or "", "topic": self.topic}
        if self.after is not None:
            data["after"] = list(self.after)
        data["retry"] = self.retry.to_dict()
        data["payload"] = dict(self.payload)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Step:
        return cls(**_step_fields(data))


def _step_fields(data: dict) -> dict:
    return {
        "topic": data["topic"],
        "name": data.get("name") or None,
        "after": data.get("after"),
        "retry": RetryPolicy.from_dict(data.get("retry") or {}),
        "payload": dict(data.get("payload") or {}),
    }


@dataclass
class Configuration:
    """A run definition: a name and its steps (Step objects, or topic names
    for sequential steps)."""

    name: str
    steps: list[Step | str] = field(default_factory=list)
    description: str = ""
    id: str | None = None

    def __post_init__(self) -> None:
        self.steps = [_as_step(step) for step in self.steps]

    def normalized(self) -> Configuration:
        """A copy with the core's defaults filled in (step names from topics,
        ``after`` from the previous step), checked as the engine checks it
        except for topics being registered. Raises ConfigurationError naming
        the first problem."""
        return Configuration.from_dict(_core.normalize_configuration(self.to_dict()))

    def to_dict(self) -> dict:
        return {
            "id": self.id or "",
            "name": self.name,
            "description": self.description,
            "steps": [step.to_dict() for step in self.steps],  # type: ignore[union-attr]
        }

    def _repr_html_(self) -> str:
        return configuration_html(self)

    @classmethod
    def from_dict(cls, data: dict) -> Configuration:
        steps: list[Step | str]
        if "steps" in data:
            steps = [Step.from_dict(s) for s in data["steps"]]
        else:  # the seed's shape: {"topics": [{"name": ...}]}
            steps = [t["name"] if isinstance(t, dict) else t for t in data.get("topics", [])]
        return cls(
            name=data.get("name", ""),
            steps=steps,
            description=data.get("description", ""),
            id=data.get("id") or None,
        )


def _as_step(step: Any) -> Step:
    if isinstance(step, Step):
        return step
    if isinstance(step, dict):
        return Step.from_dict(step)
    return Step(topic=_topic_name(step))


@dataclass(frozen=True)
class Topic:
    """A registered topic (event type)."""

    name: str
    description: str = ""
    entity_name: str = ""
    namespace: str = "Isoqube.Topics"
    schema: Any = None

    @property
    def urn(self) -> str:
        return f"urn:message:{self.namespace}:{self.name}"

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "description": self.description,
            "entityName": self.entity_name,
            "namespace": self.namespace,
            "schema": self.schema,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Topic:
        return cls(
            name=data["name"],
            description=data.get("description", ""),
            entity_name=data.get("entityName", ""),
            namespace=data.get("namespace", "Isoqube.Topics"),
            schema=data.get("schema"),
        )


@dataclass(frozen=True)
class ConsumerInfo:
    """A consumer registered in an engine. ``origin`` is the C++ module it
    came from, "python:<module>.<name>" for Python ones, "" when built in."""

    name: str
    topic: str
    service: str = ""
    endpoint: str = ""
    origin: str = ""

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "topic": self.topic,
            "service": self.service,
            "endpoint": self.endpoint,
            "origin": self.origin,
        }

    @classmethod
    def from_dict(cls, data: dict) -> ConsumerInfo:
        keys = ("name", "topic", "service", "endpoint", "origin")
        return cls(**{k: data.get(k, "") for k in keys})


@dataclass
class StepState:
    """One step of a run with its state and timestamps (the seed's TopicRun)."""

    name: str
    topic: str
    after: list[str] | None = None
    status: str = "pending"
    attempts: int = 0
    invoked_on: _dt.datetime | None = None
    completed_on: _dt.datetime | None = None
    succeeded_on: _dt.datetime | None = None
    failed_on: _dt.datetime | None = None
    retried_on: _dt.datetime | None = None
    cancelled_on: _dt.datetime | None = None
    error: str = ""
    output: Any = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    payload: dict = field(default_factory=dict)

    @property
    def duration(self) -> _dt.timedelta | None:
        """completed_on - invoked_on, or None while either is missing."""
        if self.invoked_on is None or self.completed_on is None:
            return None
        return self.completed_on - self.invoked_on

    def to_dict(self) -> dict:
        data = Step(self.topic, self.name, self.after, self.retry, self.payload).to_dict()
        data["status"] = self.status
        data["attempts"] = self.attempts
        for attr, key in _TIME_FIELDS:
            data[key] = format_time(getattr(self, attr))
        data["error"] = self.error
        data["output"] = self.output
        return data

    @classmethod
    def from_dict(cls, data: dict) -> StepState:
        spec = _step_fields(data)
        times = {attr: parse_time(data.get(key)) for attr, key in _TIME_FIELDS}
        return cls(
            name=spec["name"] or spec["topic"],
            topic=spec["topic"],
            after=spec["after"],
            status=data.get("status", "pending"),
            attempts=int(data.get("attempts", 0)),
            error=data.get("error", ""),
            output=data.get("output"),
            retry=spec["retry"],
            payload=spec["payload"],
            **times,
        )


@dataclass
class Run:
    """A run of a configuration, as read at one moment: plain data, holding
    no engine. ``engine.wait(run)``, ``engine.watch(run)`` and
    ``engine.run(run.id)`` give a newer reading."""

    id: str
    configuration_id: str = ""
    configuration_name: str = ""
    description: str = ""
    ingestion_id: str = ""
    status: str = "pending"
    created_on: _dt.datetime | None = None
    modified_on: _dt.datetime | None = None
    error: str = ""
    payload: dict = field(default_factory=dict)
    steps: list[StepState] = field(default_factory=list)

    @property
    def done(self) -> bool:
        """True once the run is completed, failed or cancelled."""
        return self.status in TERMINAL_RUN_STATUSES

    def step(self, name: str) -> StepState:
        """The step of that name; KeyError when there is none."""
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(f"run {self.id} has no step named {name!r}")

    # Runs held their engine once; these say what to call now.

    def refresh(self) -> NoReturn:
        """Gone (a run holds no engine): raises isoqube.Error naming
        ``engine.run(run.id)``."""
        _moved("refresh()", "run = engine.run(run.id)")

    def wait(self, timeout: float | None = None) -> NoReturn:
        """Gone (a run holds no engine): raises isoqube.Error naming
        ``engine.wait(run)``."""
        _moved("wait()", "run = engine.wait(run, timeout=...)")

    def watch(self, timeout: float | None = None) -> NoReturn:
        """Gone (a run holds no engine): raises isoqube.Error naming
        ``engine.watch(run)``."""
        _moved("watch()", "run = engine.watch(run, timeout=...)")

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "configurationId": self.configuration_id,
            "configurationName": self.configuration_name,
            "description": self.description,
            "ingestionId": self.ingestion_id,
            "status": self.status,
            "createdOn": format_time(self.created_on),
            "modifiedOn": format_time(self.modified_on),
            "error": self.error,
            "payload": dict(self.payload),
            "steps": [step.to_dict() for step in self.steps],
        }

    @classmethod
    def from_dict(cls, data: dict) -> Run:
        return cls(
            id=data["id"],
            configuration_id=data.get("configurationId", ""),
            configuration_name=data.get("configurationName", ""),
            description=data.get("description", ""),
            ingestion_id=data.get("ingestionId", ""),
            status=data.get("status", "pending"),
            created_on=parse_time(data.get("createdOn")),
            modified_on=parse_time(data.get("modifiedOn")),
            error=data.get("error", ""),
            payload=dict(data.get("payload") or {}),
            steps=[StepState.from_dict(s) for s in data.get("steps", [])],
        )

    def __repr__(self) -> str:
        name = self.configuration_name or self.configuration_id
        return (
            f"Run(id={self.id!r}, configuration={name!r}, status={self.status!r}, "
            f"steps={len(self.steps)})"
        )

    def _repr_html_(self) -> str:
        return run_html(self)


def _moved(method: str, instead: str) -> NoReturn:
    raise Error(f"Run.{method} is gone: a run is data and holds no engine; call {instead}")


@dataclass(frozen=True)
class Event:
    """One transition of a run (step -1) or of one of its steps."""

    seq: int
    run_id: str
    step: int
    step_name: str
    from_status: str
    to_status: str
    time: _dt.datetime | None
    detail: str = ""

    @property
    def is_run_event(self) -> bool:
        return self.step < 0

    @property
    def ends_run(self) -> bool:
        """True for the run event that makes the run completed, failed or
        cancelled."""
        return self.is_run_event and self.to_status in TERMINAL_RUN_STATUSES

    def to_dict(self) -> dict:
        return {
            "seq": self.seq,
            "runId": self.run_id,
            "step": self.step,
            "stepName": self.step_name,
            "from": self.from_status,
            "to": self.to_status,
            "time": format_time(self.time),
            "detail": self.detail,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Event:
        return cls(
            seq=int(data.get("seq", 0)),
            run_id=data.get("runId", ""),
            step=int(data.get("step", -1)),
            step_name=data.get("stepName", ""),
            from_status=data.get("from", ""),
            to_status=data["to"],
            time=parse_time(data.get("time")),
            detail=data.get("detail", ""),
        )

    def __str__(self) -> str:
        what = "run" if self.is_run_event else f"step {self.step_name}"
        moved = f"{self.from_status} -> {self.to_status}" if self.from_status else self.to_status
        detail = f" ({self.detail})" if self.detail else ""
        return f"{format_time(self.time)} {self.run_id} {what}: {moved}{detail}"
