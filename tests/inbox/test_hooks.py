"""inbox announces committed messages through one hook (inbox.hooks), and works without anyone listening."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any

import pytest
import redis
from django.conf import settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inbox.adapters.base import NormalizedMessage
from inbox.hooks import (
    MessageChange,
    StoredMessage,
    messages_stored_subscribe,
    messages_stored_unsubscribe,
    statement_part_register,
    statement_part_unregister,
    statement_parts,
)
from inbox.models import Channel, Conversation, Message
from inbox.services import ingest, message_push, reply_send
from monitoring.models import MessageTrack, WaitingPeriod
from monitoring.receivers import messages_stored
from monitoring.services.periods import waiting_periods_update
from monitoring.services.policy import policy_for_shop
from monitoring.services.waiting import PART_NAME, in_order_part
from tests.factories import ChannelFactory
from tests.inbox.test_ingest_fast_path import T0, send
from tests.support import redis_flush

pytestmark = pytest.mark.django_db(transaction=True)


class Recorder:
    def __init__(self) -> None:
        self.batches: list[tuple[StoredMessage, ...]] = []

    def __call__(self, messages: Sequence[StoredMessage]) -> None:
        self.batches.append(tuple(messages))

    @property
    def changes(self) -> list[tuple[int, MessageChange]]:
        return [(m.id, m.change) for batch in self.batches for m in batch]


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    recording = Recorder()
    messages_stored_subscribe(recording)
    yield recording
    messages_stored_unsubscribe(recording)


@pytest.fixture
def api_channel(shop: Any) -> Channel:
    return ChannelFactory(shop=shop, platform="api")


def pushed(external_id: str, minutes: float = 0) -> NormalizedMessage:
    return NormalizedMessage(
        platform_message_id=external_id,
        contact_external_id="c1",
        direction="in",
        source="customer",
        sent_at=T0 + timedelta(minutes=minutes),
        text="halo",
    )


def queued_tasks() -> list[str]:
    return [json.loads(i)["headers"]["task"] for i in redis.Redis.from_url(settings.REDIS_URL).lrange("celery", 0, -1)]


def test_subscribers_hear_of_messages_after_the_commit_and_never_of_a_rollback(recorder, api_channel):
    with transaction.atomic():
        message, _ = message_push(channel=api_channel, normalized=pushed("m1"))
        assert recorder.batches == []  # not yet committed
    assert recorder.changes == [(message.pk, MessageChange.CREATED)]
    stored = recorder.batches[0][0]
    assert (stored.shop_id, stored.conversation_id, stored.direction, stored.sent_at) == (
        message.shop_id,
        message.conversation_id,
        "in",
        message.sent_at,
    )

    with pytest.raises(RuntimeError), transaction.atomic():
        message_push(channel=api_channel, normalized=pushed("m2", 1))
        raise RuntimeError("rolled back")
    assert len(recorder.batches) == 1
    assert not Message.objects.filter(platform_message_id="m2").exists()


def test_a_failing_subscriber_is_contained(recorder, api_channel, caplog):
    def broken(messages: Sequence[StoredMessage]) -> None:
        raise ValueError("a subscriber bug")

    messages_stored_subscribe(broken)
    try:
        with caplog.at_level(logging.ERROR, logger="balas.hooks"):
            message, created = message_push(channel=api_channel, normalized=pushed("m1"))
    finally:
        messages_stored_unsubscribe(broken)
    assert created
    assert recorder.changes == [(message.pk, MessageChange.CREATED)]  # the later subscriber still heard
    assert "hooks.subscriber_failed" in caplog.text


def test_a_reply_is_announced_when_stored_and_again_when_sent(recorder, client, channels, admin_member, fake_platforms):
    channel = channels["whatsapp"]
    send(client, channel, message_id="wamid.1", wa_id="628111", name="Ani", text="ready?", at=T0)
    Conversation.objects.update(last_inbound_at=timezone.now())
    recorder.batches.clear()
    reply = reply_send(conversation=Conversation.objects.get(), member=admin_member, text="Ready kak 😊")
    assert recorder.changes == [(reply.pk, MessageChange.CREATED), (reply.pk, MessageChange.SENT)]
    created, sent = (m for batch in recorder.batches for m in batch)
    assert (created.status, sent.status) == ("pending", "sent")
    assert not created.is_human_reply and sent.is_human_reply


def test_the_webhooks_statement_part_reaches_its_subscriber(recorder, client, channels):
    channel = channels["whatsapp"]
    policy_for_shop(shop_id=channel.shop_id)
    send(client, channel, message_id="a", wa_id="628111", name="Ani", text="halo", at=T0)  # a new customer
    first = recorder.batches[-1][0]
    assert first.statement == {}  # the general path: no statement, so no part
    waiting_periods_update(message=Message.objects.get(pk=first.id))  # what its task does
    send(client, channel, message_id="b", wa_id="628111", name="Ani", text="ready?", at=T0 + timedelta(minutes=1))
    second = recorder.batches[-1][0]
    assert second.statement[PART_NAME] == {
        "measured": True,
        "period_id": None,  # it joined the period the first message opened
        "deadline_at": None,
        "warn_at": None,
        "policy_same": True,
    }


def test_inbox_works_alone_when_no_app_listens(client, channels, monkeypatch):
    """Without monitoring's subscriber and statement part, a known customer's message is still one
    statement, stored in full, and nothing is measured or queued."""
    channel = channels["whatsapp"]
    redis_flush()
    send(client, channel, message_id="a", wa_id="628111", name="Ani", text="halo", at=T0)
    redis_flush()
    part = next(p for p in statement_parts() if p.name == PART_NAME)
    texts: list[str] = []
    original = ingest._fast_sql
    monkeypatch.setattr(ingest, "_fast_sql", lambda *args: texts.append(original(*args)) or texts[-1])
    messages_stored_unsubscribe(messages_stored)
    statement_part_unregister(PART_NAME)
    try:
        with CaptureQueriesContext(connection) as queries:
            send(
                client, channel, message_id="b", wa_id="628111", name="Ani", text="ready?", at=T0 + timedelta(minutes=1)
            )
        assert len(queries.captured_queries) == 1
        assert len(texts) == 1 and "monitoring_" not in texts[0]
    finally:
        messages_stored_subscribe(messages_stored)
        statement_part_register(part)
    assert in_order_part().name == part.name
    message = Message.objects.get(platform_message_id="b")
    assert Conversation.objects.get().last_message_id == message.pk
    assert not WaitingPeriod.objects.filter(first_message=message).exists()
    assert not MessageTrack.objects.filter(message=message).exists()
    assert queued_tasks() == []


def test_a_deleted_duplicate_is_announced_as_removed(recorder, channels, admin_member, fake_platforms):
    """An echo stored before the send API answered is merged into the reply Balas sent."""
    channel = channels["shopee"]
    conversation = Conversation.objects.create(
        shop=channel.shop,
        channel=channel,
        contact=channel.contacts.create(shop=channel.shop, external_id="buyer"),
        platform_conversation_id="conv-1",
        last_inbound_at=timezone.now(),
    )
    reply = reply_send(conversation=conversation, member=admin_member, text="Siap kak 🙏")
    echo = Message.objects.create(
        shop=channel.shop,
        channel=channel,
        conversation=conversation,
        platform_message_id="dup",
        direction="out",
        source="echo",
        text="Siap kak 🙏",
        sent_at=timezone.now(),
        status="sent",
    )
    from inbox.services.replies import _sent

    recorder.batches.clear()
    _sent(message=reply, conversation=conversation, platform_message_id="dup")
    assert recorder.changes == [(echo.pk, MessageChange.REMOVED), (reply.pk, MessageChange.SENT)]
    assert not Message.objects.filter(pk=echo.pk).exists()
