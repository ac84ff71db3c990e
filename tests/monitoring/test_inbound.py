"""The webhook's statement measures a customer message itself when the conversation's state decides it.

It opens a waiting period (or joins the open one) exactly as the measuring task would; anything it
cannot decide (an out-of-order message, a policy changed since this process read it, a shop without
a policy) goes to the task. The oracle is the task path: the same scenario through both must leave
the same periods, measurements and conversation state.
"""

from __future__ import annotations

import importlib
import json
import time
from datetime import timedelta
from typing import Any

import pytest
import redis
from django.conf import settings
from django.db import connection

from inbox.models import Channel, Conversation, Message
from inbox.services import ingest
from monitoring.business_hours import business_deadline
from monitoring.models import ConversationWait, MessageTrack, ReplyMeasurement, WaitingPeriod
from monitoring.services.periods import waiting_periods_update
from monitoring.services.policy import policy_for_shop, policy_update
from monitoring.services.waiting import policy_copy_forget
from tests.inbox.test_ingest_fast_path import T0, reply, send
from tests.support import redis_flush, running_worker, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def queued() -> list[tuple[str, str]]:
    """(task name, args) of every task waiting in this run's broker queue."""
    items = redis.Redis.from_url(settings.REDIS_URL).lrange("celery", 0, -1)
    return [(json.loads(i)["headers"]["task"], json.loads(i)["headers"]["argsrepr"]) for i in items]


def measure_tasks() -> list[str]:
    return [args for name, args in queued() if name == "monitoring.tasks.message_measure"]


def deadline_tasks() -> list[str]:
    return [args for name, args in queued() if name == "monitoring.tasks.deadline_check"]


def msg(channel: Channel, mid: str) -> Message:
    return Message.objects.get(channel=channel, platform_message_id=f"{channel.pk}.{mid}")


def customer(client: Any, channel: Channel, mid: str, minutes: float) -> Message:
    send(
        client,
        channel,
        message_id=f"{channel.pk}.{mid}",
        wa_id="6281234567890",
        name="Siti",
        text=f"pesan {mid}",
        at=T0 + timedelta(minutes=minutes),
    )
    return msg(channel, mid)


def shop_reply(channel: Channel, minutes: float) -> Message:
    conversation = Conversation.objects.get(channel=channel)
    reply(conversation, T0 + timedelta(minutes=minutes))
    message = Message.objects.filter(conversation=conversation, direction="out").latest("id")
    waiting_periods_update(message=message)
    return message


def wait_sent() -> None:
    # The sender thread hands the tasks to the broker just after the commit.
    time.sleep(0.3)


@pytest.fixture
def whatsapp(shop: Any) -> Channel:
    redis_flush()
    policy_for_shop(shop_id=shop.pk)
    return Channel.objects.create(
        shop=shop, platform="whatsapp", name="A", account_id="111", secrets={"app_secret": "s"}
    )


def test_a_message_after_the_shops_reply_opens_its_period_in_the_webhook(client, whatsapp):
    first = customer(client, whatsapp, "m1", 0)  # a new customer: the general path and its task
    waiting_periods_update(message=first)
    shop_reply(whatsapp, 2)
    wait_sent()
    redis_flush()

    opener = customer(client, whatsapp, "m2", 10)
    wait_sent()
    period = WaitingPeriod.objects.get(conversation__channel=whatsapp, ended_at__isnull=True)
    policy = policy_for_shop(shop_id=whatsapp.shop_id)
    assert (period.kind, period.first_message_id, period.started_at) == ("reply", opener.pk, opener.sent_at)
    assert period.target_seconds == policy.reply_target_s
    assert period.deadline_at == business_deadline(
        opener.sent_at, policy.reply_target_s, policy.business_hours, policy.timezone
    )
    assert MessageTrack.objects.filter(message=opener).exists()
    assert ConversationWait.objects.get(conversation__channel=whatsapp).open_period_since == opener.sent_at
    # No measuring task: the deadline check is armed instead, for this period.
    assert measure_tasks() == []
    assert deadline_tasks() == [f"({period.pk}, '{period.deadline_at.isoformat()}')"]

    joiner = customer(client, whatsapp, "m3", 11)
    wait_sent()
    assert MessageTrack.objects.filter(message=joiner).exists()
    assert WaitingPeriod.objects.filter(conversation__channel=whatsapp, ended_at__isnull=True).get() == period
    assert measure_tasks() == []
    assert len(deadline_tasks()) == 1


def test_what_the_statement_cannot_decide_goes_to_the_task(client, whatsapp):
    first = customer(client, whatsapp, "m1", 0)
    waiting_periods_update(message=first)
    shop_reply(whatsapp, 5)
    wait_sent()
    redis_flush()

    late = customer(client, whatsapp, "m0", 3)  # sent before the reply: answered already
    early = customer(client, whatsapp, "mx", -1)  # older than the first period's start
    wait_sent()
    assert not MessageTrack.objects.filter(message__in=[late, early]).exists()
    assert sorted(measure_tasks()) == sorted([f"({late.pk}, True)", f"({early.pk}, True)"])
    assert not WaitingPeriod.objects.filter(conversation__channel=whatsapp, ended_at__isnull=True).exists()


def test_a_policy_changed_elsewhere_is_never_used_stale(client, whatsapp):
    first = customer(client, whatsapp, "m1", 0)
    waiting_periods_update(message=first)
    shop_reply(whatsapp, 1)
    customer(client, whatsapp, "m2", 2)  # this process now holds the policy
    shop_reply(whatsapp, 3)
    wait_sent()
    # Another process changes the targets; this one's copy is now stale.
    policy_update(shop_id=whatsapp.shop_id, data={"reply_target_s": 120})
    redis_flush()

    stale = customer(client, whatsapp, "m4", 4)
    wait_sent()
    assert measure_tasks() == [f"({stale.pk}, True)"]
    assert not WaitingPeriod.objects.filter(conversation__channel=whatsapp, ended_at__isnull=True).exists()
    waiting_periods_update(message=stale)  # what the task does
    shop_reply(whatsapp, 5)
    redis_flush()

    fresh = customer(client, whatsapp, "m6", 6)  # the copy was dropped and read again
    wait_sent()
    assert measure_tasks() == []
    period = WaitingPeriod.objects.get(first_message=fresh)
    assert period.target_seconds == 120


def test_a_shop_without_a_policy_row_is_left_to_the_task(client, shop):
    redis_flush()
    channel = Channel.objects.create(
        shop=shop, platform="whatsapp", name="A", account_id="111", secrets={"app_secret": "s"}
    )
    customer(client, channel, "m1", 0)
    policy_copy_forget(shop_id=shop.pk)
    second = customer(client, channel, "m2", 1)
    wait_sent()
    assert f"({second.pk}, True)" in measure_tasks()
    assert not MessageTrack.objects.filter(message=second).exists()


# (kind, id, minutes): "in" a customer message, "out" a human reply measured at once, "drain" waits
# until the worker has measured every message so far (without it, tasks and webhooks race).
SCENARIO: list[tuple[str, str, float]] = [
    ("in", "m1", 0),
    ("in", "m2", 1),
    ("in", "m2", 1),
    ("drain", "", 0),
    ("in", "m0", -2),
    ("out", "r1", 5),
    ("in", "m5", 6),
    ("in", "m4", 4),
    ("in", "m6", 7),
    ("drain", "", 0),
    ("out", "r2", 9),
    ("out", "r3", 9.5),  # a follow-up: it answers nobody, but the next wait counts from it
    ("in", "m7", 10),
    ("in", "m8", 10),  # the same second as the period's start
    ("in", "m9", 30),
]


def run(client: Any, channel: Channel, scenario: list[tuple[str, str, float]]) -> None:
    for kind, mid, minutes in scenario:
        if kind == "in":
            customer(client, channel, mid, minutes)
        elif kind == "out":
            wait_for(lambda: unmeasured(channel) == 0)
            shop_reply(channel, minutes)
        else:
            wait_for(lambda: unmeasured(channel) == 0)
    wait_for(lambda: unmeasured(channel) == 0)


def unmeasured(channel: Channel) -> int:
    return Message.objects.filter(channel=channel, direction="in", monitoring_track__isnull=True).count()


def state(channel: Channel) -> dict[str, Any]:
    def name(message_id: int | None) -> str | None:
        if message_id is None:
            return None
        return Message.objects.get(pk=message_id).platform_message_id.removeprefix(f"{channel.pk}.")

    periods = [
        (name(p.first_message_id), p.kind, p.started_at, p.target_seconds, p.deadline_at, p.ended_at, name(p.reply_id))
        for p in WaitingPeriod.objects.filter(conversation__channel=channel).order_by("started_at")
    ]
    measurements = [
        (name(m.message_id), m.kind, m.response_seconds, m.sla_met)
        for m in ReplyMeasurement.objects.filter(channel=channel).order_by("replied_at")
    ]
    conversation = Conversation.objects.get(channel=channel)
    wait = ConversationWait.objects.get(conversation=conversation)
    return {
        "periods": periods,
        "measurements": measurements,
        "conversation": (wait.open_period_since, wait.measured_reply_at, conversation.waiting_since),
    }


@pytest.mark.parametrize("drain", [True, False], ids=["in-order", "racing"])
def test_the_statement_and_the_task_leave_the_same_periods(client, shop, monkeypatch, drain):
    redis_flush()
    policy_for_shop(shop_id=shop.pk)
    fast, slow = (
        Channel.objects.create(shop=shop, platform="whatsapp", name=n, account_id=a, secrets={"app_secret": s})
        for n, a, s in (("A", "111", "s1"), ("B", "222", "s2"))
    )
    scenario = SCENARIO if drain else [step for step in SCENARIO if step[0] != "drain"]
    with running_worker():
        run(client, fast, scenario)
        with monkeypatch.context() as patch:
            patch.setattr(ingest, "_fast_path_fits", lambda parsed: False)
            run(client, slow, scenario)
        expected, got = state(slow), state(fast)
    assert got == expected
    # The expected values make sense by themselves: three waits, the last still open.
    assert [p[:2] for p in got["periods"]] == [("m0", "first"), ("m5", "reply"), ("m7", "reply")]
    assert got["periods"][-1][5] is None
    assert got["conversation"][0] == T0 + timedelta(minutes=10)
    assert got["conversation"][1] == T0 + timedelta(minutes=9.5)


def test_existing_conversations_are_backfilled_by_the_migration(client, whatsapp):
    migration = importlib.import_module("monitoring.migrations.0003_conversation_wait")
    first = customer(client, whatsapp, "m1", 0)
    waiting_periods_update(message=first)
    shop_reply(whatsapp, 2)
    opener = customer(client, whatsapp, "m2", 3)
    waiting_periods_update(message=opener)
    state = ConversationWait.objects.values_list("open_period_since", "measured_reply_at")
    kept = state.get(conversation__channel=whatsapp)
    assert kept == (opener.sent_at, T0 + timedelta(minutes=2))
    ConversationWait.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(migration.BACKFILL)
    assert state.get(conversation__channel=whatsapp) == kept
