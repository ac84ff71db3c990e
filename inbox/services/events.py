"""What happens after a message is committed: live events and queued follow-up work."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.db import transaction

from inbox.models import Conversation, Message
from inbox.realtime import event_publish
from inbox.resilience import CircuitOpenError, broker_breaker

logger = logging.getLogger("balas.events")


def message_events_publish(*, message: Message, conversation: Conversation) -> None:
    from inbox.serializers import MessageSerializer

    event_publish(
        shop_id=message.shop_id,
        event_type="message.created",
        payload={"conversation_id": conversation.pk, "message": MessageSerializer(message).data},
    )
    conversation_updated_publish(conversation=conversation)


def message_updated_publish(*, message: Message) -> None:
    from inbox.serializers import MessageSerializer

    event_publish(
        shop_id=message.shop_id,
        event_type="message.updated",
        payload={"conversation_id": message.conversation_id, "message": MessageSerializer(message).data},
    )


def conversation_updated_publish(*, conversation: Conversation) -> None:
    from inbox.serializers import ConversationEventSerializer

    event_publish(
        shop_id=conversation.shop_id,
        event_type="conversation.updated",
        payload={"conversation": ConversationEventSerializer(conversation).data},
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
                broker_breaker.call(lambda message_id=message_id: message_measure.delay(message_id))
            except CircuitOpenError:
                logger.info("tasks.enqueue_skipped task=message_measure message=%s", message_id)
            except Exception:
                logger.warning("tasks.enqueue_failed task=message_measure message=%s", message_id, exc_info=True)

    transaction.on_commit(_enqueue)
