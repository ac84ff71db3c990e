"""Latency semantics of the contract, through the measuring service, on real PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from inbox.models import Message
from monitoring.business_hours import ALWAYS_OPEN, DEFAULT_BUSINESS_HOURS
from monitoring.models import MessageTrack, ReplyMeasurement, WaitingPeriod
from monitoring.services.periods import waiting_periods_update
from tests.factories import ConversationFactory, MessageFactory
from tests.monitoring.conftest import set_policy

pytestmark = pytest.mark.django_db

WIB = ZoneInfo("Asia/Jakarta")
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=WIB)  # a Monday, inside opening hours


@pytest.fixture
def conversation(shop):
    set_policy(shop, first=300, reply=600, hours=DEFAULT_BUSINESS_HOURS)
    return ConversationFactory(contact__channel__shop=shop)


def msg(conversation, seconds: float, direction: str = "in", source: str | None = None, **kw) -> Message:
    """Store a message at T0+seconds and measure it (as the task would)."""
    message = MessageFactory(
        conversation=conversation,
        direction=direction,
        source=source or ("customer" if direction == "in" else "inbox"),
        status="received" if direction == "in" else "sent",
        sent_at=T0 + timedelta(seconds=seconds),
        **kw,
    )
    waiting_periods_update(message=message)
    return message


def periods(conversation) -> list[WaitingPeriod]:
    return list(WaitingPeriod.objects.filter(conversation=conversation).order_by("started_at"))


def snapshot(conversation) -> list[tuple]:
    rows = [
        (p.first_message_id, p.kind, p.started_at, p.deadline_at, p.ended_at, p.reply_id, p.response_seconds)
        for p in periods(conversation)
    ]
    rows += [
        (m.message_id, m.response_seconds, m.response_business_seconds, m.sla_met)
        for m in ReplyMeasurement.objects.filter(conversation=conversation).order_by("message_id")
    ]
    return rows


def test_burst_counts_once_from_its_first_message(conversation, owner):
    first = msg(conversation, 0)
    msg(conversation, 30, text="ongkir ke Bandung?")
    msg(conversation, 60, text="halo kak?")
    [period] = periods(conversation)
    assert period.first_message == first
    assert period.kind == "first"
    assert period.started_at == first.sent_at
    assert period.deadline_at == first.sent_at + timedelta(seconds=300)
    assert period.ended_at is None

    reply = msg(conversation, 120, "out", "inbox", sent_by=owner, text="Ready kak, ongkir ke Bandung 12 ribu ya")
    [period] = periods(conversation)
    assert period.ended_at == reply.sent_at and period.reply == reply
    measurement = reply.measurement
    assert measurement.response_seconds == 120
    assert measurement.response_business_seconds == 120
    assert measurement.member == owner
    assert measurement.source == "inbox"
    assert measurement.kind == "first"
    assert measurement.target_seconds == 300
    assert measurement.sla_met is True
    assert measurement.started_at == T0 and measurement.replied_at == reply.sent_at


def test_echo_from_the_phone_app_ends_the_wait(conversation):
    msg(conversation, 0)
    echo = msg(conversation, 400, "out", "echo", sender_label="HP toko")
    measurement = ReplyMeasurement.objects.get(message=echo)
    assert measurement.response_seconds == 400
    assert measurement.member is None
    assert measurement.sla_met is False  # 400 s > 300 s first-reply target


def test_auto_reply_never_ends_the_wait_and_api_reply_does(conversation):
    msg(conversation, 0)
    auto = msg(conversation, 2, "out", "auto", text="Terima kasih, pesan Anda akan kami balas")
    [period] = periods(conversation)
    assert period.ended_at is None
    assert not ReplyMeasurement.objects.filter(message=auto).exists()
    api = msg(conversation, 200, "out", "api", text="Halo kak, ready ya")
    assert ReplyMeasurement.objects.get(message=api).response_seconds == 200
    assert periods(conversation)[0].reply == api


def test_follow_up_reply_is_not_a_new_measurement(conversation):
    msg(conversation, 0)
    msg(conversation, 60, "out")
    follow = msg(conversation, 90, "out", text="Sudah kami kirim ya kak")
    assert not ReplyMeasurement.objects.filter(message=follow).exists()
    assert len(periods(conversation)) == 1


def test_later_wait_is_a_reply_period_with_its_own_target(conversation):
    msg(conversation, 0)
    msg(conversation, 60, "out")
    second = msg(conversation, 1000)
    p1, p2 = periods(conversation)
    assert (p1.kind, p2.kind) == ("first", "reply")
    assert p2.first_message == second
    assert p2.deadline_at == second.sent_at + timedelta(seconds=600)


def test_failed_or_pending_send_answers_nobody(conversation, owner):
    msg(conversation, 0)
    failed = MessageFactory(
        conversation=conversation, direction="out", source="inbox", status="failed", sent_at=T0 + timedelta(seconds=5)
    )
    waiting_periods_update(message=failed)
    assert periods(conversation)[0].ended_at is None
    assert not ReplyMeasurement.objects.exists()


def test_reply_arriving_before_the_late_customer_message(conversation):
    """Out of order: the reply's webhook came first, the customer's came late."""
    reply = msg(conversation, 90, "out", "echo")
    assert periods(conversation) == []  # nothing to answer yet, as far as we know
    assert not ReplyMeasurement.objects.exists()
    customer = msg(conversation, 0)
    [period] = periods(conversation)
    assert period.first_message == customer
    assert period.ended_at == reply.sent_at and period.response_seconds == 90
    assert ReplyMeasurement.objects.get(message=reply).response_seconds == 90


def test_earlier_message_arriving_late_moves_the_start_back(conversation):
    second = msg(conversation, 60)
    [period] = periods(conversation)
    assert period.started_at == second.sent_at
    first = msg(conversation, 0)
    [period] = periods(conversation)
    assert period.first_message == first
    assert period.started_at == T0
    assert period.deadline_at == T0 + timedelta(seconds=300)
    reply = msg(conversation, 100, "out")
    assert reply.measurement.response_seconds == 100


def test_late_reply_splits_a_wait_in_two(conversation):
    msg(conversation, 0)
    later = msg(conversation, 600)
    old_reply = msg(conversation, 900, "out")
    # The reply sent at +300 (before the customer's second message) arrives late.
    late_reply = msg(conversation, 300, "out", "echo")
    p1, p2 = periods(conversation)
    assert (p1.reply, p1.response_seconds, p1.kind) == (late_reply, 300, "first")
    assert (p2.first_message, p2.reply, p2.response_seconds, p2.kind) == (later, old_reply, 300, "reply")
    assert ReplyMeasurement.objects.get(message=late_reply).response_seconds == 300
    assert ReplyMeasurement.objects.get(message=old_reply).response_seconds == 300


def test_late_reply_makes_a_later_reply_a_follow_up(conversation):
    msg(conversation, 0)
    later_reply = msg(conversation, 500, "out")
    assert later_reply.measurement.response_seconds == 500
    early_reply = msg(conversation, 100, "out", "echo")
    [period] = periods(conversation)
    assert period.reply == early_reply and period.response_seconds == 100
    assert not ReplyMeasurement.objects.filter(message=later_reply).exists()


def test_customer_message_in_the_same_second_as_the_reply_is_answered(conversation):
    msg(conversation, 0)
    msg(conversation, 50, "out")
    msg(conversation, 50)
    [period] = periods(conversation)
    assert period.ended_at is not None


def test_measuring_twice_changes_nothing(conversation, owner):
    messages = [msg(conversation, 0), msg(conversation, 20), msg(conversation, 200, "out", sent_by=owner)]
    messages.append(msg(conversation, 500))
    before = snapshot(conversation)
    for message in messages:
        waiting_periods_update(message=message)
        waiting_periods_update(message=message)
    assert snapshot(conversation) == before
    assert WaitingPeriod.objects.filter(conversation=conversation, ended_at__isnull=True).count() == 1
    assert MessageTrack.objects.filter(message__in=messages).count() == 4


def test_business_seconds_skip_the_night(shop):
    set_policy(shop, first=300, reply=600, hours=DEFAULT_BUSINESS_HOURS)
    conversation = ConversationFactory(contact__channel__shop=shop)
    evening = datetime(2026, 3, 2, 20, 50, tzinfo=WIB)
    customer = MessageFactory(conversation=conversation, direction="in", sent_at=evening)
    waiting_periods_update(message=customer)
    [period] = periods(conversation)
    assert period.deadline_at == datetime(2026, 3, 2, 20, 55, tzinfo=WIB)
    reply = MessageFactory(
        conversation=conversation,
        direction="out",
        source="echo",
        status="sent",
        sent_at=datetime(2026, 3, 3, 8, 10, tzinfo=WIB),
    )
    waiting_periods_update(message=reply)
    measurement = ReplyMeasurement.objects.get(message=reply)
    assert measurement.response_seconds == 11 * 3600 + 20 * 60
    assert measurement.response_business_seconds == 1200
    assert measurement.sla_met is False


def test_deadline_after_closing_moves_to_next_opening(shop):
    set_policy(shop, first=300, reply=600, hours=DEFAULT_BUSINESS_HOURS)
    conversation = ConversationFactory(contact__channel__shop=shop)
    saturday_late = datetime(2026, 3, 7, 20, 58, tzinfo=WIB)
    customer = MessageFactory(conversation=conversation, direction="in", sent_at=saturday_late)
    waiting_periods_update(message=customer)
    assert periods(conversation)[0].deadline_at == datetime(2026, 3, 9, 8, 3, tzinfo=WIB)


def test_policy_change_recomputes_open_deadlines(shop):
    set_policy(shop, first=300, reply=600, hours=ALWAYS_OPEN)
    conversation = ConversationFactory(contact__channel__shop=shop)
    customer = MessageFactory(conversation=conversation, direction="in", sent_at=T0)
    waiting_periods_update(message=customer)
    set_policy(shop, first=120, reply=600, hours=ALWAYS_OPEN)
    [period] = periods(conversation)
    assert period.deadline_at == T0 + timedelta(seconds=120)
    assert period.target_seconds == 120
