"""What the controlcenter knows of topics and consumers.

Topics come from this process's engine (what --import/--module registered)
and from the store (what workers of every process saved when they started),
so the controlcenter beside running workers knows theirs too. The store's
list is re-read at most every ``ttl`` seconds: workers start at any time,
and every configuration save checks its topics against this list.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from isoqube.model import ConsumerInfo, Topic

from .shapes import topic_json


class Catalog:
    def __init__(self, engine: Any, ttl: float = 2.0) -> None:
        self._engine = engine
        self._ttl = ttl
        self._lock = threading.Lock()
        self._read_at = float("-inf")
        self._topics: dict[str, Topic] = {}

    def topics(self) -> dict[str, Topic]:
        """Every known topic by name (blocking: call it off the event loop)."""
        with self._lock:
            if time.monotonic() - self._read_at > self._ttl:
                topics = {t.name: t for t in self._engine.stored_topics()}
                topics.update((t.name, t) for t in self._engine.topics())
                self._topics = dict(sorted(topics.items()))
                self._read_at = time.monotonic()
            return self._topics

    def consumers(self) -> list[ConsumerInfo]:
        """The consumers of this process (other processes' are not stored)."""
        return self._engine.consumers()

    def topics_json(self) -> list[dict]:
        by_topic: dict[str, list[ConsumerInfo]] = {}
        for consumer in self.consumers():
            by_topic.setdefault(consumer.topic, []).append(consumer)
        return [topic_json(t, by_topic.get(name, ())) for name, t in self.topics().items()]

    def unknown_topics(self, config: dict) -> list[tuple[str, str]]:
        """(field, topic) for each step of ``config`` (isoqube's shape or the
        seed's) whose topic nobody registered; none when no topic is known
        at all (nothing to check against, as on a fresh store)."""
        known = self.topics()
        if not known:
            return []
        unknown = []
        for key, field in (("steps", "topic"), ("topics", "name")):
            steps = config.get(key)
            for index, step in enumerate(steps if isinstance(steps, list) else ()):
                topic = step.get(field) if isinstance(step, dict) else step
                if isinstance(topic, str) and topic and topic not in known:
                    unknown.append((f"{key}[{index}].{field}", topic))
        return unknown
