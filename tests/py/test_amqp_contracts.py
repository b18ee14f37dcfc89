"""Contracts of other systems on RabbitMQ, sent by pika exactly as those
systems write them (tests/data/): MassTransit's documented envelope and the
seed's DefaultSourceIngestion reach Isoqube consumers, the seed's advances
the run it names; and what Isoqube sends names its cause and addresses as
MassTransit does."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import isoqube
import pika
import pytest
from conftest import WAIT
from test_amqp_interop import ENVELOPE, first, get_one, publish

DATA = Path(__file__).resolve().parents[1] / "data"
SEED_NAMESPACE = "Isoqube.Orchestration.Core.ServiceBus.Topics"
HOST_FIELDS = {
    "machineName",
    "processName",
    "processId",
    "assembly",
    "assemblyVersion",
    "frameworkVersion",
    "massTransitVersion",
    "operatingSystemVersion",
}


def data(name: str) -> bytes:
    return (DATA / name).read_bytes()


@pytest.fixture
def broker(amqp_uri: str) -> Iterator[pika.BlockingConnection]:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_uri))
    yield connection
    connection.close()


def watch(connection: pika.BlockingConnection, exchange: str) -> tuple[Any, str]:
    """A channel and a private queue bound to the exchange."""
    channel = connection.channel()
    channel.exchange_declare(exchange, "fanout", durable=True)
    queue = channel.queue_declare("", exclusive=True).method.queue
    channel.queue_bind(queue, exchange)
    return channel, queue


def address(amqp_uri: str, name: str) -> str:
    """What MassTransit writes for an entity of the test broker (vhost /)."""
    host = amqp_uri.split("@")[-1].split("/")[0]
    return f"rabbitmq://{host}/{name}"


def test_masstransits_documented_envelope_reaches_a_consumer_of_its_contract(
    amqp_uri: str, registry: isoqube.Registry, broker: pika.BlockingConnection
) -> None:
    handled: list[dict] = []
    # MassTransit publishes Company.Project.SubmitOrder to the exchange of
    # that name; the endpoint is this test's own.
    topic = registry.topic(
        "SubmitOrder", namespace="Company.Project", entity_name="Company.Project:SubmitOrder"
    )(type("SubmitOrder", (), {}))
    endpoint = f"submit-order-{uuid.uuid4().hex[:8]}"

    @registry.consumer(topic, endpoint=endpoint)
    def submit(ctx: Any) -> None:
        handled.append({"payload": ctx.payload, "run_id": ctx.run_id})

    example = data("masstransit/literal_example.json")
    with isoqube.Engine(amqp_uri, "memory://", registry=registry) as engine:
        engine.start()
        publish(broker, "Company.Project:SubmitOrder", example)

        assert first(lambda: handled)
    assert handled == [{"payload": json.loads(example)["message"], "run_id": ""}]


@pytest.fixture
def seed_service(
    amqp_uri: str, registry: isoqube.Registry, tmp_path: Path
) -> Iterator[dict[str, Any]]:
    """DefaultSourceIngestion as the seed declares it (its URN), then Build,
    and an engine consuming both."""
    suffix = uuid.uuid4().hex[:8]
    ingestion = registry.topic(
        "DefaultSourceIngestion",
        namespace=SEED_NAMESPACE,
        entity_name=f"default-source-ingestion-{suffix}",
    )(type("DefaultSourceIngestion", (), {}))
    registry.topic(f"Build{suffix}", entity_name=f"seed-build-{suffix}")(type("Build", (), {}))
    seen: list[dict] = []

    @registry.consumer(ingestion, endpoint=f"seed-ingestion-{suffix}")
    def ingest(ctx: Any) -> dict:
        seen.append({"run_id": ctx.run_id, "step": ctx.step, "payload": ctx.payload})
        return {"fetched": True}

    @registry.consumer(f"Build{suffix}", endpoint=f"seed-build-endpoint-{suffix}")
    def compile_(ctx: Any) -> None:
        pass

    store = f"sqlite:///{tmp_path / 'runs.db'}"
    engine = isoqube.Engine(amqp_uri, store, registry=registry, concurrency=1)
    try:
        yield {
            "engine": engine,
            "seen": seen,
            "exchange": f"default-source-ingestion-{suffix}",
            "queue": f"seed-ingestion-{suffix}",
            "build_exchange": f"seed-build-{suffix}",
            "config": isoqube.Configuration(
                f"seed-{suffix}", ["DefaultSourceIngestion", f"Build{suffix}"]
            ),
        }
    finally:
        engine.close()


def test_the_seeds_contract_advances_the_waiting_step_of_the_run_it_names(
    seed_service: dict[str, Any], broker: pika.BlockingConnection, amqp_uri: str
) -> None:
    engine = seed_service["engine"]
    engine.start()  # declares the endpoints and their bindings
    engine.stop()
    engine.save_configuration(seed_service["config"])
    run = engine.start_run(seed_service["config"].name, "started by Isoqube")
    # Isoqube's own first message is taken away: only the seed's is left.
    broker.channel().queue_purge(seed_service["queue"])
    channel, builds = watch(broker, seed_service["build_exchange"])
    contract = json.loads(data("seed/default_source_ingestion.json"))
    contract["message"]["correlationId"] = run.id

    publish(broker, seed_service["exchange"], json.dumps(contract).encode())
    engine.start()

    done = engine.wait(run.id, timeout=WAIT)
    assert done.status == "completed"
    assert done.steps[0].output == {"fetched": True}
    assert seed_service["seen"][0]["run_id"] == run.id
    assert seed_service["seen"][0]["payload"]["timestamp"] == contract["message"]["timestamp"]
    properties, body = first(lambda: get_one(channel, builds))
    successor = json.loads(body)
    assert properties.content_type == ENVELOPE
    assert successor["initiatorId"] == contract["messageId"]
    assert successor["sourceAddress"] == address(amqp_uri, seed_service["queue"])
    assert successor["destinationAddress"] == address(
        amqp_uri, seed_service["build_exchange"]
    )
    assert set(successor["host"]) == HOST_FIELDS
    uuid.UUID(successor["messageId"])
    channel.close()


def test_a_message_published_outside_any_run_has_null_correlation_ids(
    amqp_uri: str, registry: isoqube.Registry, broker: pika.BlockingConnection
) -> None:
    entity = f"outside-{uuid.uuid4().hex[:8]}"
    registry.topic("Outside", entity_name=entity)(type("Outside", (), {}))
    channel, queue = watch(broker, entity)
    with isoqube.Engine(amqp_uri, "memory://", registry=registry) as engine:
        engine.publish("Outside", {"n": 1})

        _, body = first(lambda: get_one(channel, queue))
    envelope = json.loads(body)
    # A .NET Guid parses null, not "".
    assert envelope["correlationId"] is None
    assert envelope["message"]["correlationId"] is None
    assert envelope["initiatorId"] is None
    assert envelope["destinationAddress"] == address(amqp_uri, entity)
    assert envelope["sourceAddress"].startswith(address(amqp_uri, ""))
    assert envelope["sourceAddress"].endswith("?temporary=true")
    assert set(envelope["host"]) == HOST_FIELDS
    channel.close()
