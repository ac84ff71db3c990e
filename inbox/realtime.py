"""The one way live events leave the server: published after commit to per-shop groups.

Events are JSON objects with a namespaced `type` (every type is declared in inbox.event_schema,
which builds them). A failure to publish (Redis down) is logged and dropped: the database is the
truth and the browser re-reads it on reconnect.

Publishing is handed to one bounded sender per process (`_PublishLoop`), the only background
thread Balas runs: the library path (`async_to_sync(layer.group_send)` per event) starts a thread,
an event loop and new Redis connections for every call, which cost a quarter of a webhook's time
(docs/benchmarks.md, "One dispatch path"). A full queue drops the event, logs it and counts it
(`dropped_total`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from dataclasses import dataclass
from typing import Any

from channels.layers import get_channel_layer
from django.db import transaction

from inbox.resilience import channel_layer_breaker

logger = logging.getLogger("balas.realtime")


def shop_group(shop_id: int) -> str:
    return f"shop.{shop_id}"


@dataclass(frozen=True)
class Audience:
    """Which of the shop's members an event is for: the owners (when `owners`) and these members.

    An event published without one goes to every member of the shop. The consumer applies it
    (inbox.consumers), so the app publishing an event decides who sees it.
    """

    owners: bool = True
    member_ids: tuple[int, ...] = ()

    def as_message(self) -> dict[str, Any]:
        return {"owners": self.owners, "members": list(self.member_ids)}


def event_publish(*, shop_id: int, event: dict[str, Any], audience: Audience | None = None) -> None:
    """Publish to the shop's group once the current transaction commits (at once outside one)."""
    item = {"event": event, "audience": audience.as_message() if audience is not None else None}
    transaction.on_commit(lambda: _publish_loop.submit(shop_group(shop_id), item))


# A publish that takes longer than this counts as a failure (and opens the breaker).
_PUBLISH_TIMEOUT_S = 2.0
# Events waiting for the sender past this are dropped (logged): an outage must not grow memory.
_QUEUE_LIMIT = 10_000


class _PublishLoop:
    """One event loop per process, in a daemon thread, that sends every event in order.

    The Redis channel layer keeps its connections per event loop, and `async_to_sync` from a sync
    view or task starts a new thread and loop (so new Redis connections) for every call: measured
    in docs/benchmarks.md, that was a quarter of a webhook's time. The caller only hands the event
    over (it no longer waits for Redis's answers, which were most of a webhook's remaining time);
    one sender coroutine sends them one after another, so a browser still sees `message.created`
    before the `conversation.updated` it explains. A fork (gunicorn, Celery prefork) gets its own
    loop.
    """

    def __init__(self, limit: int = _QUEUE_LIMIT) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[tuple[str, dict[str, Any]]] | None = None
        self._pid = 0
        self._limit = limit
        self.dropped_total = 0

    def _started(self) -> tuple[asyncio.AbstractEventLoop, asyncio.Queue[tuple[str, dict[str, Any]]]]:
        with self._lock:
            if self._loop is None or self._queue is None or self._pid != os.getpid():
                loop = asyncio.new_event_loop()
                queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue(self._limit)
                threading.Thread(target=loop.run_forever, name="balas-realtime", daemon=True).start()
                asyncio.run_coroutine_threadsafe(_sender(queue), loop)
                self._loop, self._queue, self._pid = loop, queue, os.getpid()
            return self._loop, self._queue

    def close(self) -> None:
        """Stop this sender's loop, dropping what it has not sent (tests, a clean shutdown)."""
        with self._lock:
            loop, self._loop, self._queue = self._loop, None, None
        if loop is not None:
            loop_stop(loop)

    def submit(self, group: str, item: dict[str, Any]) -> None:
        loop, queue = self._started()
        loop.call_soon_threadsafe(self._enqueue, queue, group, item)

    def _enqueue(self, queue: asyncio.Queue[tuple[str, dict[str, Any]]], group: str, item: dict[str, Any]) -> None:
        try:
            queue.put_nowait((group, item))
        except asyncio.QueueFull:
            self.dropped_total += 1
            logger.warning(
                "realtime.publish_dropped group=%s type=%s total=%d", group, item["event"]["type"], self.dropped_total
            )


def loop_stop(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what runs on `loop` (from another thread), then stop it."""

    def stop() -> None:
        for task in asyncio.all_tasks(loop):
            task.cancel()
        loop.call_soon(loop.stop)

    loop.call_soon_threadsafe(stop)


# At most this many events in one channel-layer message.
_BATCH_MAX = 100


def layer_events(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The events one channel-layer message carries (`balas.event`: one, `balas.events`: several)."""
    return [item["event"] for item in layer_items(message)]


def layer_items(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The (event, audience) items one channel-layer message carries."""
    return list(message["items"]) if message["type"] == "balas.events" else [message]


async def _sender(queue: asyncio.Queue[tuple[str, dict[str, Any]]]) -> None:
    while True:
        batch = [await queue.get()]
        while len(batch) < _BATCH_MAX and not queue.empty():
            batch.append(queue.get_nowait())
        # Whatever queued up meanwhile goes in one message per group, in order. A group_send is
        # several Redis round trips (channels_redis: trim and read the group, then per member a
        # trim and a script); one per event was about a third of a webhook's CPU (docs/benchmarks.md).
        # A webhook's message.created and conversation.updated nearly always travel together.
        by_group: dict[str, list[dict[str, Any]]] = {}
        for group, item in batch:
            by_group.setdefault(group, []).append(item)
        for group, items in by_group.items():
            if len(items) == 1:
                message = {"type": "balas.event", **items[0]}
            else:
                message = {"type": "balas.events", "items": items}
            await _group_send(group, message, [item["event"] for item in items])


async def _group_send(group: str, message: dict[str, Any], events: list[dict[str, Any]]) -> None:
    types = ",".join(event["type"] for event in events)
    layer = get_channel_layer()
    if layer is None:
        return
    if channel_layer_breaker.is_open:
        logger.info("realtime.publish_skipped group=%s type=%s", group, types)
        return
    try:
        await asyncio.wait_for(layer.group_send(group, message), _PUBLISH_TIMEOUT_S)
    except Exception:
        # Fail fast in an outage: the database is the truth and browsers re-read on reconnect.
        channel_layer_breaker.failed()
        logger.warning("realtime.publish_failed group=%s type=%s", group, types, exc_info=True)
    else:
        channel_layer_breaker.succeeded()


_publish_loop = _PublishLoop()


def publish_dropped_total() -> int:
    """Events this process dropped because its sender's queue was full."""
    return _publish_loop.dropped_total
