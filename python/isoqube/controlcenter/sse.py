"""``GET /api/events``: run events as server-sent events.

    GET /api/events[?run=ID]     every run's events, or one run's

Each event is ``id: <seq>`` and ``data: <the event's JSON>`` (isoqube.Event
in its camelCase form). A client that reconnects with ``Last-Event-ID``
(browsers' EventSource does so by itself) first gets the events it missed,
read from the store's event log, then the live ones; without it, the stream
starts with the next event stored after the request. A client too slow to keep up is disconnected
rather than buffered without bound; it reconnects and catches up the same
way. https://html.spec.whatwg.org/multipage/server-sent-events.html
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import StreamingResponse

from isoqube.follow import Follower
from isoqube.model import Event

from .context import Context, context
from .events import latest_seq
from .request_body import bad_request

_QUEUE_LIMIT = 10000
_KEEPALIVE_SECONDS = 15.0
_RECONNECT_MS = 1000
_OVERFLOW = None  # queued in place of an event when the queue is full


async def events(request: Request) -> StreamingResponse:
    ctx = context(request)
    run_id = request.query_params.get("run") or None
    after = _last_event_id(request)
    stream = _stream(ctx, run_id, after)
    return StreamingResponse(stream, media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def _last_event_id(request: Request) -> int | None:
    text = request.headers.get("last-event-id") or request.query_params.get("after")
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        raise bad_request(f"Last-Event-ID must be an event seq (an integer), not '{text}'",
                          "Last-Event-ID") from None
    if value < 0:
        raise bad_request(f"Last-Event-ID must not be negative, not {value}", "Last-Event-ID")
    return value


async def _stream(ctx: Context, run_id: str | None, after: int | None) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Event | None] = asyncio.Queue()

    def offer(event: Event) -> None:
        if queue.qsize() >= _QUEUE_LIMIT:
            queue.put_nowait(_OVERFLOW)
        else:
            queue.put_nowait(event)

    def listener(event: Event) -> None:
        if run_id is None or event.run_id == run_id:
            loop.call_soon_threadsafe(offer, event)

    # Every event after `live_from` comes through the listener; the missed
    # ones before it are read from the log.
    live_from = ctx.hub.add_listener(listener)
    try:
        if after is None:
            # "The next event" is the next one stored, not the next one the
            # hub hands out: the hub may be a poll behind the store.
            after = await ctx.call(latest_seq, ctx.engine)
        yield f"retry: {_RECONNECT_MS}\n\n"
        sent = after
        # The hub hands out each event once, some (committed late, on
        # MongoDB) below seqs it handed out before: only those read from the
        # log here are dropped when the hub brings them too.
        from_log: set[int] = set()
        if after < live_from:
            for event in await ctx.call(_missed, ctx.engine, run_id, after, live_from):
                sent = event.seq
                from_log.add(event.seq)
                yield _message(event, sent)
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), _KEEPALIVE_SECONDS)
            except asyncio.TimeoutError:
                yield ": keepalive\n\n"
                continue
            if event is _OVERFLOW:
                return
            if event.seq not in from_log:
                sent = max(sent, event.seq)
                yield _message(event, sent)
    finally:
        ctx.hub.remove_listener(listener)


def _missed(engine: Any, run_id: str | None, after: int, until: int) -> list[Event]:
    missed: list[Event] = []
    for event in Follower(engine, run_id, after_seq=after).read():
        if event.seq > until:
            break
        missed.append(event)
    return missed


def _message(event: Event, resume_after: int) -> str:
    # The id is where a reconnecting client resumes: the greatest seq sent.
    return f"id: {resume_after}\ndata: {json.dumps(event.to_dict())}\n\n"
