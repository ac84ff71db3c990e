"""The one way live events leave the server: published after commit to per-shop groups.

Events are JSON objects with a namespaced `type` (`message.created`, `conversation.updated`,
`alert.created`, `alert.updated`). A failure to publish (Redis down) is logged and dropped:
the database is the truth and the browser re-reads it on reconnect.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Coroutine
from typing import Any

from channels.layers import get_channel_layer
from django.db import transaction

from inbox.resilience import CircuitOpenError, channel_layer_breaker

logger = logging.getLogger("balas.realtime")


def shop_group(shop_id: int) -> str:
    return f"shop.{shop_id}"


def conversation_group(conversation_id: int) -> str:
    return f"conversation.{conversation_id}"


def event_publish(*, shop_id: int, event_type: str, payload: dict[str, Any]) -> None:
    """Publish to the shop's group once the current transaction commits (at once outside one)."""
    message = {"type": "balas.event", "event": {"type": event_type, **payload}}
    transaction.on_commit(lambda: _send(shop_group(shop_id), message))


# A publish that takes longer than this counts as a failure (and opens the breaker).
_PUBLISH_TIMEOUT_S = 2.0


class _PublishLoop:
    """One event loop per process, in a daemon thread, that every publish runs on.

    The Redis channel layer keeps its connections per event loop, and `async_to_sync` from a sync
    view or task starts a new thread and loop (so new Redis connections) for every call: measured
    in docs/benchmarks.md, that was a quarter of a webhook's time. A fork (gunicorn, Celery prefork)
    gets its own loop.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid = 0

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float) -> Any:
        with self._lock:
            if self._loop is None or self._pid != os.getpid():
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="balas-realtime", daemon=True).start()
                self._loop, self._pid = loop, os.getpid()
            loop = self._loop
        future = asyncio.run_coroutine_threadsafe(coro, loop)
        try:
            return future.result(timeout)
        except BaseException:
            future.cancel()
            raise


_publish_loop = _PublishLoop()


def _send(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        # Fail fast in an outage: the database is the truth and browsers re-read on reconnect.
        channel_layer_breaker.call(lambda: _publish_loop.run(layer.group_send(group, message), _PUBLISH_TIMEOUT_S))
    except CircuitOpenError:
        logger.info("realtime.publish_skipped group=%s type=%s", group, message["event"]["type"])
    except Exception:
        logger.warning("realtime.publish_failed group=%s type=%s", group, message["event"]["type"], exc_info=True)
