"""The one way live events leave the server: published after commit to per-shop groups.

Events are JSON objects with a namespaced `type` (`message.created`, `conversation.updated`,
`alert.created`, `alert.updated`). A failure to publish (Redis down) is logged and dropped:
the database is the truth and the browser re-reads it on reconnect.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
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


def _send(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        # Fail fast in an outage: the database is the truth and browsers re-read on reconnect.
        channel_layer_breaker.call(lambda: async_to_sync(layer.group_send)(group, message))
    except CircuitOpenError:
        logger.info("realtime.publish_skipped group=%s type=%s", group, message["event"]["type"])
    except Exception:
        logger.warning("realtime.publish_failed group=%s type=%s", group, message["event"]["type"], exc_info=True)
