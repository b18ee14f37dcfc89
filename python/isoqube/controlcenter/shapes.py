"""The JSON the HTTP API sends: model objects in their own camelCase form,
plus the seed's fields beside them.

The seed's Configurator read a configuration as ``{id, name, description,
topics: [{name, description, type, version}]}`` and a run as ``{id,
description, createdOn, modifiedOn, topics: [{name, description, type,
invokedOn, completedOn, ...}]}``. Every configuration and run sent here has
those fields, and also ``steps`` with what the seed lacked (``after``,
retry policies, statuses, errors, outputs), so clients of either kind read
the same documents.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from isoqube.model import Configuration, ConsumerInfo, Run, Topic

# The seed's topics carried a version; isoqube's topics have none yet.
TOPIC_VERSION = "1.0"
_SEED_STEP_TIMES = (
    "invokedOn", "completedOn", "failedOn", "retriedOn", "cancelledOn", "succeededOn")


def topic_type(topic: Topic) -> str:
    """The seed's ``type`` of a topic: its message class's full name."""
    return f"{topic.namespace}.{topic.name}"


def topic_json(topic: Topic, consumers: Iterable[ConsumerInfo] = ()) -> dict:
    data = topic.to_dict()
    data["type"] = topic_type(topic)
    data["version"] = TOPIC_VERSION
    data["consumers"] = [{"name": c.name, "service": c.service} for c in consumers]
    return data


def _seed_topic(name: str, topics: Mapping[str, Topic]) -> dict:
    topic = topics.get(name) or Topic(name)
    return {"name": name, "description": topic.description, "type": topic_type(topic),
            "version": TOPIC_VERSION}


def configuration_json(config: Configuration, topics: Mapping[str, Topic]) -> dict:
    """``topics`` maps topic names to what is known of them (descriptions)."""
    data = config.to_dict()
    data["topics"] = [_seed_topic(step.topic, topics) for step in config.steps]
    return data


def run_json(run: Run, topics: Mapping[str, Topic]) -> dict:
    data = run.to_dict()
    seed_topics = []
    for step in data["steps"]:
        seed = _seed_topic(step["topic"], topics)
        seed.update((key, step[key]) for key in _SEED_STEP_TIMES)
        seed_topics.append(seed)
    data["topics"] = seed_topics
    return data


_SUMMARY_STEP_FIELDS = ("name", "topic", "status", "attempts", "invokedOn", "completedOn")


def run_summary_json(run: Run) -> dict:
    """A run without its steps' specs, outputs and the seed's fields: what a
    list of runs shows, a tenth of the full form's size."""
    data = run.to_dict()
    del data["payload"]
    data["steps"] = [{key: step[key] for key in _SUMMARY_STEP_FIELDS} for step in data["steps"]]
    return data


def json_bytes(value: Any) -> bytes:
    """JSON as Starlette's JSONResponse writes it (compact UTF-8)."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
