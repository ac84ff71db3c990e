"""Reactions, edits, deletes, system notices and unhandled events never move a waiting period.

Each scenario goes through the real ingest (`deliveries_ingest`, the webhook's own entry point, with
the adapters' shapes built directly), the real announcement, a real Celery worker measuring on
Redis, the real deadline tasks, and asserts both the periods and the alerts. The targets are two
seconds: a reaction, edit or notice that wrongly opened a period would raise its slow alert while
the test waits.
"""

from __future__ import annotations

import itertools
import time
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from inbox.adapters.base import MessageDelete, MessageEdit, NormalizedMessage, ParsedEvent, Reaction
from inbox.models import Channel, Conversation, Message, WebhookEvent
from inbox.models import Reaction as ReactionRow
from inbox.services import deliveries_ingest
from monitoring.models import Alert, MessageTrack, ReplyMeasurement, WaitingPeriod
from tests.factories import ChannelFactory
from tests.monitoring.conftest import set_policy
from tests.support import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

CUSTOMER = "6281211112222"
# Past every 2-second target: a period wrongly opened now would be alerted within this.
QUIET_S = 4.5
_ids = itertools.count(1)
SLOW = ("slow_first_reply", "slow_reply")


@pytest.fixture
def channel(shop: Any) -> Channel:
    set_policy(shop, first=2, reply=2)
    return ChannelFactory(shop=shop, platform="whatsapp")


def ingest(channel: Channel, **parsed: Any) -> None:
    results = deliveries_ingest(deliveries=[(channel, ParsedEvent(**parsed))], raw_body="{}")
    assert results is not None


def normalized(
    *, direction: str = "in", text: str = "Kak ready?", ago: float = 0, kind: str = "text"
) -> NormalizedMessage:
    return NormalizedMessage(
        platform_message_id=f"wamid.CHG-{next(_ids)}-{time.monotonic_ns()}",
        contact_external_id=CUSTOMER,
        contact_name="Siti",
        direction=direction,  # type: ignore[arg-type]
        source="customer" if direction == "in" else "echo",
        sent_at=timezone.now() - timedelta(seconds=ago),
        kind=kind,
        text=text,
    )


def store(channel: Channel, *messages: NormalizedMessage) -> list[Message]:
    """The messages stored by one delivery (several in one: no task sees one without the others)."""
    ingest(channel, messages=messages)
    return [Message.objects.get(channel=channel, platform_message_id=m.platform_message_id) for m in messages]


def message(channel: Channel, **fields: Any) -> Message:
    return store(channel, normalized(**fields))[0]


def measured(*messages: Message) -> None:
    wait_for(lambda: MessageTrack.objects.filter(message__in=messages).count() == len(messages))


def answered_conversation(channel: Channel) -> tuple[Message, Message]:
    """A customer's question, answered from the platform's app within the target: one closed period."""
    question, reply = store(
        channel,
        normalized(text="Kak, serum ini ready? ongkir ke Bandung berapa?", ago=30),
        normalized(direction="out", text="Ready kak, ongkir 12 ribu ya kak 😊 silakan diorder", ago=29),
    )
    measured(question, reply)
    period = WaitingPeriod.objects.get()
    assert (period.first_message_id, period.reply_id) == (question.pk, reply.pk)
    return question, reply


def test_a_reaction_after_the_shops_reply_opens_no_period(channel, celery_worker):
    _, reply = answered_conversation(channel)
    ingest(
        channel,
        reactions=(
            Reaction(
                target_platform_message_id=reply.platform_message_id or "",
                contact_external_id=CUSTOMER,
                emoji="👍",
                from_shop=False,
                at=timezone.now(),
            ),
        ),
    )
    time.sleep(QUIET_S)
    assert Message.objects.count() == 2  # never a message of its own
    assert list(ReactionRow.objects.values_list("message_id", "reactor", "emoji")) == [(reply.pk, "customer", "👍")]
    reply.refresh_from_db()
    assert [r["emoji"] for r in reply.reactions] == ["👍"]
    period = WaitingPeriod.objects.get()
    assert (period.reply_id, period.ended_at) == (reply.pk, reply.sent_at)
    conversation = Conversation.objects.get()
    assert (conversation.waiting_since, conversation.unread_count) == (None, 0)
    assert list(Alert.objects.filter(kind__in=SLOW)) == []


def test_a_later_reaction_replaces_and_an_empty_one_removes(channel, celery_worker):
    _, reply = answered_conversation(channel)
    target = reply.platform_message_id or ""
    now = timezone.now()
    for emoji, at in (("👍", now), ("❤️", now + timedelta(seconds=1)), ("😮", now - timedelta(seconds=5))):
        ingest(
            channel,
            reactions=(Reaction(target, CUSTOMER, emoji, False, at),),
        )
    reply.refresh_from_db()
    # The stale 😮 (older than the ❤️) changed nothing: one row per reactor.
    assert [(r["emoji"], r["from"]) for r in reply.reactions] == [("❤️", "customer")]
    ingest(channel, reactions=(Reaction(target, CUSTOMER, "", False, now + timedelta(seconds=2)),))
    reply.refresh_from_db()
    assert reply.reactions == [] and not ReactionRow.objects.exists()


def test_a_reaction_to_an_unknown_message_is_recorded_as_ignored(channel, celery_worker):
    answered_conversation(channel)
    ingest(channel, reactions=(Reaction("wamid.NEVER-STORED", CUSTOMER, "👍", False, timezone.now()),))
    event = WebhookEvent.objects.order_by("-pk").first()
    assert event is not None and event.outcome == "ignored"
    assert "reaction to unknown message 'wamid.NEVER-STORED'" in event.detail
    time.sleep(QUIET_S)
    assert WaitingPeriod.objects.count() == 1
    assert not Alert.objects.exists()


def test_a_customer_edit_while_waiting_keeps_the_same_period(channel, celery_worker):
    question = message(channel, text="Kak ready?", ago=1)
    measured(question)
    period = WaitingPeriod.objects.get()
    ingest(
        channel,
        edits=(
            MessageEdit(
                target_platform_message_id=question.platform_message_id or "",
                contact_external_id=CUSTOMER,
                text="Kak ready warna pink?",
                from_shop=False,
                at=timezone.now(),
            ),
        ),
    )
    question.refresh_from_db()
    assert question.text == "Kak ready warna pink?"
    assert question.edited_at is not None
    assert [e["text"] for e in question.edits] == ["Kak ready?"]
    # The period's deadline passes: exactly one alert, for the one period that was open all along.
    wait_for(lambda: Alert.objects.filter(kind="slow_first_reply").exists())
    time.sleep(QUIET_S)
    again = WaitingPeriod.objects.get()
    assert (again.pk, again.started_at, again.ended_at) == (period.pk, question.sent_at, None)
    assert list(Alert.objects.filter(kind__in=SLOW).values_list("kind", "waiting_period_id", "state")) == [
        ("slow_first_reply", period.pk, "open")
    ]
    # Whatever else is raised (a warning before the breach) is about that same period.
    assert set(Alert.objects.values_list("waiting_period_id", flat=True)) == {period.pk}
    conversation = Conversation.objects.get()
    assert (conversation.waiting_since, conversation.unread_count) == (question.sent_at, 1)


def test_the_shops_business_app_delete_leaves_the_period_open(channel, celery_worker):
    _, reply = answered_conversation(channel)
    follow_up = message(channel, text="Kak, bisa COD?", ago=5)
    measured(follow_up)
    ingest(
        channel,
        deletes=(
            MessageDelete(
                target_platform_message_id=reply.platform_message_id or "",
                contact_external_id=CUSTOMER,
                from_shop=True,
                at=timezone.now(),
            ),
        ),
    )
    reply.refresh_from_db()
    assert reply.deleted_at is not None and reply.text.startswith("Ready kak")  # the shop still sees it
    assert Message.objects.count() == 3
    wait_for(lambda: Alert.objects.filter(kind="slow_reply").exists())
    time.sleep(1)
    closed, still_open = WaitingPeriod.objects.order_by("started_at")
    assert (closed.reply_id, closed.ended_at) == (reply.pk, reply.sent_at)
    assert (still_open.first_message_id, still_open.ended_at, still_open.reply_id) == (follow_up.pk, None, None)
    assert list(Alert.objects.filter(kind__in=SLOW).values_list("kind", "waiting_period_id", "state")) == [
        ("slow_reply", still_open.pk, "open")
    ]
    assert set(Alert.objects.values_list("waiting_period_id", flat=True)) == {still_open.pk}
    assert Conversation.objects.get().waiting_since == follow_up.sent_at


def test_a_system_notice_changes_nothing(channel, celery_worker):
    _, reply = answered_conversation(channel)
    notice = message(channel, kind="system", text="Nomor pelanggan berganti ke 6281299998888")
    assert notice.kind == "system"
    time.sleep(QUIET_S)
    period = WaitingPeriod.objects.get()
    assert period.reply_id == reply.pk
    conversation = Conversation.objects.get()
    assert (conversation.waiting_since, conversation.unread_count, conversation.last_message_id) == (None, 0, reply.pk)
    assert not Alert.objects.exists()


def test_a_system_notice_while_waiting_neither_joins_nor_ends_the_period(channel, celery_worker):
    question = message(channel, ago=1)
    measured(question)
    message(channel, direction="out", kind="system", text="Identitas pelanggan berubah")
    wait_for(lambda: Alert.objects.filter(kind="slow_first_reply").exists())
    period = WaitingPeriod.objects.get()
    assert (period.first_message_id, period.ended_at) == (question.pk, None)
    assert Conversation.objects.get().waiting_since == question.sent_at


def test_an_unhandled_event_changes_nothing(channel, celery_worker):
    answered_conversation(channel)
    ingest(channel, ignored=("field 'account_update': not a chat event",))
    event = WebhookEvent.objects.order_by("-pk").first()
    assert event is not None
    assert (event.outcome, event.detail) == ("ignored", "field 'account_update': not a chat event")
    time.sleep(QUIET_S)
    assert WaitingPeriod.objects.count() == 1 and WaitingPeriod.objects.get().ended_at is not None
    assert not Alert.objects.exists()
    assert Message.objects.count() == 2


def test_an_edit_of_the_shops_reply_is_judged_again(channel, celery_worker):
    # Long past: no follow-up can still complete the reply, so its verdict is final at once.
    question, curt = store(
        channel,
        normalized(text="Kak, serum ini ready? ongkir ke Bandung berapa?", ago=600),
        normalized(direction="out", text="iya", ago=599),
    )
    measured(question, curt)
    wait_for(lambda: Alert.objects.filter(kind="terse_reply").exists())
    assert ReplyMeasurement.objects.get(message=curt).terse is True
    period = WaitingPeriod.objects.get()
    ingest(
        channel,
        edits=(
            MessageEdit(
                target_platform_message_id=curt.platform_message_id or "",
                contact_external_id=CUSTOMER,
                text="Halo kak, terima kasih sudah bertanya 😊 Serumnya ready ya kak, ongkir ke Bandung 12 ribu.",
                from_shop=True,
                at=timezone.now(),
            ),
        ),
    )
    wait_for(lambda: ReplyMeasurement.objects.get(message=curt).terse is False)
    alert = Alert.objects.get(kind="terse_reply")
    assert (alert.state, alert.message_ids) == ("resolved", [])
    again = WaitingPeriod.objects.get()
    assert (again.pk, again.reply_id, again.ended_at, again.response_seconds) == (
        period.pk,
        curt.pk,
        curt.sent_at,
        period.response_seconds,
    )
    assert not Alert.objects.filter(kind__in=SLOW).exists()
