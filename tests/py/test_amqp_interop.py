"""Interoperability on RabbitMQ, judged by pika (a client nobody here wrote):
envelopes in MassTransit's shape go both ways, and messages Isoqube cannot
handle end in the endpoint's error queue with MassTransit's fault headers
while the worker goes on consuming.
"""

from __future__ import annotations

import json
import queue
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, TypeVar

import isoqube
import pika
import pytest
from amqp_support import read_queue
from conftest import WAIT, wait_until

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "masstransit"
ENVELOPE = "application/vnd.masstransit+json"
MAX_MESSAGE_BYTES = 4 * 1024 * 1024  # kMaxMessageBytes in message.h
MASSTRANSIT_FIELDS = {
    "messageId",
    "correlationId",
    "conversationId",
    "initiatorId",
    "sourceAddress",
    "destinationAddress",
    "messageType",
    "message",
    "sentTime",
    "headers",
    "host",
}


T = TypeVar("T")


def sample(name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / name).read_text())


def first(read: Callable[[], T]) -> T:
    """Calls `read` until it returns something truthy; fails after WAIT."""
    found: list[T] = []

    def ready() -> bool:
        found.append(read())
        return bool(found[-1])

    assert wait_until(ready), "nothing arrived"
    return found[-1]


class Service:
    """One topic and one consumer that records what it handles, served by
    an engine on the broker; names are unique so tests can share it."""

    def __init__(self, amqp_uri: str, registry: isoqube.Registry) -> None:
        suffix = uuid.uuid4().hex[:8]
        self.topic_name = f"InteropOrder{suffix}"
        self.entity = f"interop-order-{suffix}"
        self.endpoint = f"interop-consumer-{suffix}"
        self.urn = f"urn:message:Isoqube.Topics:{self.topic_name}"
        self.handled: queue.Queue[dict[str, Any]] = queue.Queue()
        topic = registry.topic(self.topic_name, entity_name=self.entity)(
            type(self.topic_name, (), {})
        )

        @registry.consumer(topic, name=f"{self.topic_name}Consumer", endpoint=self.endpoint)
        def handle(ctx: Any) -> None:
            self.handled.put({"payload": ctx.payload, "ingestion_id": ctx.ingestion_id})

        self.engine = isoqube.Engine(amqp_uri, "memory://", registry=registry, concurrency=2)
        self.engine.start()

    def step_envelope(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The .NET endpoint's envelope sample, for this service's topic."""
        envelope = sample("step_message.json")
        envelope["messageId"] = str(uuid.uuid4())
        envelope["messageType"] = [self.urn]
        envelope["message"]["payload"] = payload
        return envelope

    def next_handled(self) -> dict[str, Any]:
        return self.handled.get(timeout=WAIT)


@pytest.fixture
def service(amqp_uri: str, registry: isoqube.Registry) -> Iterator[Service]:
    served = Service(amqp_uri, registry)
    yield served
    served.engine.close()


@pytest.fixture
def broker(amqp_uri: str) -> Iterator[pika.BlockingConnection]:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_uri))
    yield connection
    connection.close()


def publish(
    connection: pika.BlockingConnection,
    exchange: str,
    body: bytes,
    content_type: str = ENVELOPE,
    headers: dict[str, Any] | None = None,
) -> None:
    """Publishes as a MassTransit service would: persistent, confirmed,
    mandatory (so a missing binding fails here, not silently)."""
    channel = connection.channel()
    channel.confirm_delivery()
    properties = pika.BasicProperties(
        content_type=content_type,
        delivery_mode=pika.DeliveryMode.Persistent,
        message_id=str(uuid.uuid4()),
        headers={"Content-Type": content_type, **(headers or {})},
    )
    channel.basic_publish(exchange, "", body, properties, mandatory=True)
    channel.close()


def get_one(channel: Any, name: str) -> tuple[pika.BasicProperties, bytes] | None:
    method, properties, body = channel.basic_get(name, auto_ack=True)
    return (properties, body) if method else None


def test_envelope_published_by_pika_reaches_an_isoqube_consumer(
    service: Service, broker: pika.BlockingConnection
) -> None:
    envelope = service.step_envelope({"repository": "https://git.example.com/app.git"})

    publish(broker, service.entity, json.dumps(envelope, indent=2).encode())

    handled = service.next_handled()
    assert handled["payload"] == {"repository": "https://git.example.com/app.git"}
    assert handled["ingestion_id"] == "ingestion-42"


def test_envelope_published_by_isoqube_has_masstransit_fields_and_properties(
    service: Service, broker: pika.BlockingConnection
) -> None:
    channel = broker.channel()
    watcher = channel.queue_declare("", exclusive=True).method.queue
    channel.queue_bind(watcher, service.entity)

    service.engine.publish(service.topic_name, {"sku": "A-1"}, ingestion_id="ing-7")

    properties, body = first(lambda: get_one(channel, watcher))
    assert properties.content_type == ENVELOPE
    assert properties.delivery_mode == 2
    assert properties.headers["Content-Type"] == ENVELOPE
    envelope = json.loads(body)
    assert MASSTRANSIT_FIELDS <= set(envelope)
    assert properties.message_id == envelope["messageId"]
    uuid.UUID(envelope["messageId"])
    uuid.UUID(envelope["conversationId"])
    assert envelope["messageType"] == [service.urn]
    assert datetime.fromisoformat(envelope["sentTime"].replace("Z", "+00:00"))
    assert envelope["message"]["payload"] == {"sku": "A-1"}
    assert envelope["message"]["ingestionId"] == "ing-7"
    assert isinstance(envelope["host"], dict) and isinstance(envelope["headers"], dict)
    channel.close()


def malformed_json(service: Service) -> tuple[bytes, str, dict]:
    return b'{"messageId": "1", "messageType": [', ENVELOPE, {}


def oversize_body(service: Service) -> tuple[bytes, str, dict]:
    envelope = service.step_envelope({"blob": "x" * MAX_MESSAGE_BYTES})
    return json.dumps(envelope).encode(), ENVELOPE, {}


def masstransit_literal_example(service: Service) -> tuple[bytes, str, dict]:
    return (SAMPLES / "literal_example.json").read_bytes(), ENVELOPE, {}


def raw_json_without_type(service: Service) -> tuple[bytes, str, dict]:
    return b'{"orderId": 7}', "application/json", {}


def unknown_message_type(service: Service) -> tuple[bytes, str, dict]:
    envelope = service.step_envelope({})
    envelope["messageType"] = ["urn:message:Shop.Contracts:SomethingElse"]
    return json.dumps(envelope).encode(), ENVELOPE, {}


def number_out_of_range(service: Service) -> tuple[bytes, str, dict]:
    text = json.dumps(service.step_envelope({"size": 1}))
    return text.replace('"size": 1', '"size": 1e400').encode(), ENVELOPE, {}


def raw_json_number_out_of_range(service: Service) -> tuple[bytes, str, dict]:
    return b'{"size": 1e400}', "application/json", {"MT-MessageType": service.urn}


def malformed_json_with_huge_headers(service: Service) -> tuple[bytes, str, dict]:
    # Headers that fill nearly a frame (131,072 bytes): with the fault's
    # MT-* headers added they no longer fit in one.
    body, content_type, _ = malformed_json(service)
    return body, content_type, {"Filler": "x" * 130_800}


def payload_nested_thirty_thousand_levels(service: Service) -> tuple[bytes, str, dict]:
    # 150 KB, far under the size limit: it overflowed every worker's stack.
    text = json.dumps(service.step_envelope({"tree": 0}))
    deep = "[" * 30_000 + "]" * 30_000
    return text.replace('"tree": 0', f'"tree": {deep}').encode(), ENVELOPE, {}


def text_that_is_not_utf8(service: Service) -> tuple[bytes, str, dict]:
    # The parser's error quotes the bytes it stopped at.
    text = json.dumps(service.step_envelope({"name": "@"})).encode()
    return text.replace(b'"@"', b'"\xff\xfe"'), ENVELOPE, {}


POISON = [
    pytest.param(
        payload_nested_thirty_thousand_levels,
        "nests arrays and objects deeper than 72 levels",
        id="nested-thirty-thousand-levels",
    ),
    pytest.param(text_that_is_not_utf8, "\\xFF", id="not-utf8"),
    pytest.param(malformed_json, "not valid JSON", id="malformed-json"),
    # nlohmann reports 1e400 as out_of_range, not as a parse error.
    pytest.param(number_out_of_range, "number overflow", id="number-out-of-range"),
    pytest.param(
        raw_json_number_out_of_range, "number overflow", id="raw-json-number-out-of-range"
    ),
    pytest.param(oversize_body, "exceeds the limit", id="oversize"),
    pytest.param(malformed_json_with_huge_headers, "not valid JSON", id="huge-headers"),
    pytest.param(masstransit_literal_example, "", id="not-an-isoqube-step"),
    pytest.param(raw_json_without_type, "MT-MessageType", id="raw-json-without-type"),
    pytest.param(
        unknown_message_type,
        "urn:message:Shop.Contracts:SomethingElse",
        id="unknown-message-type",
    ),
]


@pytest.mark.parametrize(("make", "reason"), POISON)
def test_message_isoqube_cannot_handle_ends_in_the_error_queue_and_the_worker_goes_on(
    service: Service, broker: pika.BlockingConnection, make: Any, reason: str
) -> None:
    body, content_type, headers = make(service)

    publish(broker, service.entity, body, content_type, headers)
    publish(broker, service.entity, json.dumps(service.step_envelope({"n": 2})).encode())

    assert service.next_handled()["payload"] == {"n": 2}
    errors = first(lambda: read_queue(broker, f"{service.endpoint}_error"))
    assert len(errors) == 1
    properties, error_body = errors[0]
    assert error_body == body
    assert properties.headers["MT-Reason"] == "fault"
    assert properties.headers["MT-Fault-ExceptionType"].startswith("isoqube.")
    # Valid UTF-8 (pika gives bytes for a header that is not), even where
    # it quotes bad input.
    assert isinstance(properties.headers["MT-Fault-Message"], str)
    assert reason in properties.headers["MT-Fault-Message"]
    assert properties.headers["MT-Fault-RetryCount"] == 0
    assert properties.headers["MT-Fault-Timestamp"]
    assert properties.headers["MT-Host-ProcessId"] > 0
    # Every fault header MassTransit writes on any fault (its own, in
    # fault_submit_order.json) is there; the consumer and message types
    # only come with a consumer's failure.
    masstransit = sample("fault_submit_order.json")["properties"]["headers"]
    always = {name for name in masstransit
              if name.startswith(("MT-Fault-", "MT-Reason"))} - {
        "MT-Fault-ConsumerType", "MT-Fault-MessageType"}
    assert always <= properties.headers.keys()
    assert properties.headers["MT-Fault-InputAddress"].endswith(f"/{service.endpoint}")
    assert properties.headers["MT-Fault-InputAddress"].startswith("rabbitmq://")
    assert properties.delivery_mode == 2
    if make is malformed_json_with_huge_headers:
        # Left out, rather than the message stuck: its headers and the
        # fault's do not fit in one frame.
        assert "Filler" not in properties.headers
        assert "did not fit" in properties.headers["Isoqube-Headers-Dropped"]
    else:
        assert all(properties.headers[name] == value for name, value in headers.items())
    assert service.handled.empty()
