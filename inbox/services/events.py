"""The live events inbox publishes about messages and conversations (types in inbox.event_schema)."""

from __future__ import annotations

from inbox.event_schema import event_build
from inbox.models import Conversation, Message
from inbox.realtime import event_publish


def message_events_publish(*, message: Message, conversation: Conversation) -> None:
    """A new message: `message.created`, then the `conversation.updated` it explains."""
    event_publish(
        shop_id=message.shop_id,
        event=event_build("message.created", conversation_id=conversation.pk, message=message),
    )
    conversation_updated_publish(conversation=conversation)


def message_updated_publish(*, message: Message) -> None:
    event_publish(
        shop_id=message.shop_id,
        event=event_build("message.updated", conversation_id=message.conversation_id, message=message),
    )


def conversation_updated_publish(*, conversation: Conversation) -> None:
    event_publish(shop_id=conversation.shop_id, event=event_build("conversation.updated", conversation=conversation))
