"""Reading a RabbitMQ broker with pika, a client nobody here wrote, to judge
what Isoqube put there."""

from __future__ import annotations

import pika
from pika.exceptions import ChannelClosedByBroker


def read_queue(
    connection: pika.BlockingConnection, name: str
) -> list[tuple[pika.BasicProperties, bytes]]:
    """Every message in a queue, left in place (none if it does not exist)."""
    channel = connection.channel()
    messages = []
    try:
        channel.queue_declare(name, passive=True)
        while True:
            method, properties, body = channel.basic_get(name, auto_ack=False)
            if method is None:
                break
            messages.append((properties, body))
    except ChannelClosedByBroker:
        return []
    channel.close()  # gives the unacknowledged messages back
    return messages
