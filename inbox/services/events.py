"""What happens after a message is committed: live events and queued follow-up work."""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from functools import cache
from typing import Any

from django.db import transaction

from inbox.models import Conversation, Message
from inbox.realtime import event_publish
from inbox.resilience import CircuitOpenError, broker_breaker

logger = logging.getLogger("balas.events")


@cache
def _serializer(name: str) -> Any:
    """One read-only serializer instance per kind, reused for every event.

    DRF builds a serializer's fields (and its nested serializers' fields) anew for each instance;
    for an event payload that was most of the time a webhook spent in Python (docs/benchmarks.md).
    `to_representation` of a bound serializer keeps no per-object state, so the output is the same.
    """
    from inbox import serializers

    return getattr(serializers, name)()


def _message_data(message: Message) -> dict[str, Any]:
    return dict(_serializer("MessageSerializer").to_representation(message))


def message_events_publish(*, message: Message, conversation: Conversation) -> None:
    event_publish(
        shop_id=message.shop_id,
        event_type="message.created",
        payload={"conversation_id": conversation.pk, "message": _message_data(message)},
    )
    conversation_updated_publish(conversation=conversation)


def message_updated_publish(*, message: Message) -> None:
    event_publish(
        shop_id=message.shop_id,
        event_type="message.updated",
        payload={"conversation_id": message.conversation_id, "message": _message_data(message)},
    )


def conversation_updated_publish(*, conversation: Conversation) -> None:
    event_publish(
        shop_id=conversation.shop_id,
        event_type="conversation.updated",
        payload={"conversation": dict(_serializer("ConversationEventSerializer").to_representation(conversation))},
    )


def message_followups_enqueue(*, message_ids: Sequence[int]) -> None:
    """Queue the monitoring work for new messages after commit.

    If the broker is unreachable the messages are still committed; the monitoring sweep
    picks up every message that was never measured.
    """
    ids = list(message_ids)

    def _enqueue() -> None:
        from monitoring.tasks import message_measure

        for message_id in ids:
            try:
                # Fail fast in an outage: the sweep measures whatever is skipped here.
                broker_breaker.call(functools.partial(message_measure.delay, message_id))
            except CircuitOpenError:
                logger.info("tasks.enqueue_skipped task=message_measure message=%s", message_id)
            except Exception:
                logger.warning("tasks.enqueue_failed task=message_measure message=%s", message_id, exc_info=True)

    transaction.on_commit(_enqueue)
