"""Live-event payloads are built by a compiled copy of the serializers for speed; they must stay exactly what the
API serializers give."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from inbox.event_schema import representation
from inbox.models import Conversation, Message
from inbox.serializers import ConversationEventSerializer, MessageSerializer
from tests.factories import ConversationFactory, MemberFactory, MessageFactory

pytestmark = pytest.mark.django_db

T = datetime(2026, 3, 2, 3, 4, 5, 678000, tzinfo=UTC)


@pytest.fixture
def messages() -> list[Message]:
    conversation = ConversationFactory()
    member = MemberFactory(shop=conversation.shop)
    return [
        MessageFactory(conversation=conversation, sent_at=T),
        MessageFactory(
            conversation=conversation,
            direction="out",
            source="inbox",
            status="failed",
            error="window closed",
            sent_by=member,
            sent_at=T,
        ),
        MessageFactory(
            conversation=conversation,
            direction="out",
            source="echo",
            status="sent",
            sender_label="Admin HP",
            kind="image",
            text="",
            attachments=[{"type": "image", "url": "https://example.com/a.jpg", "name": "a.jpg"}],
        ),
        MessageFactory(conversation=conversation, platform_message_id=None, text="<script>x</script> 🙏"),
    ]


@pytest.mark.parametrize("zone", ["Asia/Jakarta", "UTC"])
def test_message_payload_is_the_serializers(messages, zone):
    with timezone.override(zone):
        for message in Message.objects.filter(pk__in=[m.pk for m in messages]).select_related("sent_by"):
            assert representation(MessageSerializer, message) == dict(MessageSerializer(message).data)


@pytest.mark.parametrize("zone", ["Asia/Jakarta", "UTC"])
def test_conversation_payload_is_the_serializers(messages, zone):
    conversation = Conversation.objects.get(pk=messages[0].conversation_id)
    empty = ConversationFactory(contact__channel=conversation.channel, contact__shop=conversation.shop)
    conversation.last_message = messages[1]
    conversation.last_message_at = T
    conversation.waiting_since = T
    conversation.unread_count = 3
    conversation.assignee = MemberFactory(shop=conversation.shop)
    conversation.save()
    with timezone.override(zone):
        for c in (Conversation.objects.get(pk=conversation.pk), Conversation.objects.get(pk=empty.pk)):
            assert representation(ConversationEventSerializer, c) == dict(ConversationEventSerializer(c).data)
