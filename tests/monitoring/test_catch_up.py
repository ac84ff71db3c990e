"""The outage catch-up (many messages per transaction) gives exactly what measuring each message gives.

One scenario is built twice, in two shops with the same structure: shop A's messages are measured
one by one (`waiting_periods_update`, in id order, as the old sweep did), shop B's by the batched
catch-up in small batches (a conversation's messages split across batches). Every monitoring row
is then compared: periods, measurements, alerts, the conversations' state, the marks, the rollups.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from inbox.models import Message, Shop
from monitoring.business_hours import ALWAYS_OPEN
from monitoring.models import (
    Alert,
    ConversationWait,
    MessageTrack,
    ReplyMeasurement,
    ReplyRollupDay,
    ReplyRollupHour,
    SweepCursor,
    WaitingPeriod,
)
from monitoring.services.catch_up import messages_catch_up, unmeasured_rows
from monitoring.services.periods import waiting_periods_update
from monitoring.services.sweep import monitoring_sweep, overdue_periods_check
from tests.factories import ChannelFactory, ContactFactory, ConversationFactory, MessageFactory, ShopFactory
from tests.monitoring.conftest import set_policy

pytestmark = pytest.mark.django_db

# (label, direction, source, status, seconds after the conversation's start, text); listed in the
# order they are stored (their ids), which is not always the order they were sent in.
Q, R = "in", "out"
SCENARIO: list[list[tuple[str, str, str, str, int, str]]] = [
    # answered in time
    [("q", Q, "customer", "received", 0, "Kak ready?"), ("r", R, "echo", "sent", 30, "Ready kak, silakan diorder ya")],
    # answered late
    [("q", Q, "customer", "received", 0, "Kak?"), ("r", R, "echo", "sent", 500, "Maaf kak baru balas, ready ya")],
    # never answered: overdue
    [("q", Q, "customer", "received", 0, "Halo kak, bisa kirim hari ini?")],
    # a burst, its reply, a second question, its reply, a follow-up
    [
        ("q1", Q, "customer", "received", 0, "Kak"),
        ("q2", Q, "customer", "received", 5, "Ready warna merah?"),
        ("q3", Q, "customer", "received", 9, "Ukuran M"),
        ("r1", R, "echo", "sent", 40, "Ready kak, merah M ada"),
        ("q4", Q, "customer", "received", 100, "Ongkir ke Bandung berapa?"),
        ("r2", R, "echo", "sent", 400, "Ongkirnya 15 ribu kak"),
        ("r3", R, "echo", "sent", 420, "Ditunggu ordernya kak"),
    ],
    # out of order: the reply is stored before its question
    [("r", R, "echo", "sent", 50, "Ready kak, silakan"), ("q", Q, "customer", "received", 0, "Kak, ada stok?")],
    # a late question: stored last, sent before the reply
    [
        ("q1", Q, "customer", "received", 0, "Kak"),
        ("r", R, "echo", "sent", 60, "Iya kak, ada yang bisa dibantu?"),
        ("q2", Q, "customer", "received", 200, "Mau tanya promo"),
        ("q0", Q, "customer", "received", 30, "Halo?"),
    ],
    # the shop writes first (a follow-up), then the customer, then a curt reply
    [
        ("r0", R, "echo", "sent", 0, "Halo kak, pesanan sudah dikirim ya"),
        ("q", Q, "customer", "received", 60, "Kapan sampai kak?"),
        ("r", R, "echo", "sent", 700, "ok"),
    ],
    # an auto-reply and a pending reply answer nobody; an API reply does
    [
        ("q", Q, "customer", "received", 0, "Kak, bisa COD?"),
        ("a", R, "auto", "sent", 1, "Terima kasih sudah menghubungi kami"),
        ("p", R, "balas", "pending", 20, "Bisa kak"),
        ("r", R, "api", "sent", 90, "Bisa COD kak, silakan checkout"),
    ],
    # a question whose deadline is still ahead
    [("q", Q, "customer", "received", 3500, "Kak, besok buka jam berapa?")],
    # an earlier reply arrives late: the measured later reply becomes a follow-up (its measurement goes)
    [
        ("q", Q, "customer", "received", 0, "Kak, bisa kirim ke Medan?"),
        ("r2", R, "echo", "sent", 300, "Sudah dikirim ya kak, ini resinya"),
        ("r1", R, "echo", "sent", 100, "Bisa kak, ongkir 25 ribu"),
    ],
]
# Messages measured before the outage (their tasks ran).
MEASURED_BEFORE = {(5, "q1"), (5, "r"), (9, "q"), (9, "r2")}


def _build(shop: Shop, tag: str, start: datetime) -> list[Message]:
    """Store the scenario's messages for `shop` without measuring them (as during an outage)."""
    channel = ChannelFactory(shop=shop, platform="whatsapp", account_id=f"wa-{tag}")
    stored: list[Message] = []
    conversations = [
        ConversationFactory(contact=ContactFactory(channel=channel, shop=shop, name=f"Pelanggan {i}"))
        for i in range(len(SCENARIO))
    ]
    for i, messages in enumerate(SCENARIO):
        for label, direction, source, status, after_s, text in messages:
            message = MessageFactory(
                conversation=conversations[i],
                platform_message_id=f"{tag}-{i}-{label}",
                direction=direction,
                source=source,
                status=status,
                sent_at=start + timedelta(seconds=after_s),
                text=text,
            )
            stored.append(message)
            if (i, label) in MEASURED_BEFORE:
                waiting_periods_update(message=message)
    return stored


def _label(message_id: int | None) -> str | None:
    if message_id is None:
        return None
    return Message.objects.get(pk=message_id).platform_message_id.split("-", 1)[1]


def _snapshot(shop: Shop) -> dict[str, Any]:
    conv = {c.pk: i for i, c in enumerate(shop.conversations.order_by("pk"))}
    periods = sorted(
        (
            _label(p.first_message_id),
            p.kind,
            p.started_at,
            p.target_seconds,
            p.deadline_at,
            p.ended_at,
            _label(p.reply_id),
            p.response_seconds,
            p.response_business_seconds,
        )
        for p in WaitingPeriod.objects.filter(shop=shop)
    )
    measurements = sorted(
        (
            _label(m.message_id),
            _label(m.waiting_period.first_message_id) if m.waiting_period else None,
            m.kind,
            m.source,
            m.started_at,
            m.replied_at,
            m.response_seconds,
            m.response_business_seconds,
            m.target_seconds,
            m.sla_met,
            m.terse,
            m.terse_score,
            tuple(m.terse_reasons),
        )
        for m in ReplyMeasurement.objects.filter(shop=shop).select_related("waiting_period")
    )
    alerts = sorted(
        (
            a.kind,
            conv[a.conversation_id],
            _label(a.waiting_period.first_message_id) if a.waiting_period else None,
            a.state,
            tuple(_label(i) for i in a.message_ids),
            a.count,
            a.title,
            a.detail,
            # A slow alert's latency is "the wait so far" when raised (a clock reading) until the reply sets it.
            a.latency_seconds if a.state == Alert.State.RESOLVED or a.kind == Alert.Kind.TERSE_REPLY else None,
        )
        for a in Alert.objects.filter(shop=shop).select_related("waiting_period")
    )
    waits = sorted(
        (conv[w.conversation_id], w.open_period_since, w.measured_reply_at)
        for w in ConversationWait.objects.filter(conversation__shop=shop)
    )
    tracked = sorted(_label(t.message_id) or "" for t in MessageTrack.objects.filter(message__shop=shop))
    fields = ("day", "count", "sum_seconds", "sum_business_seconds", "sla_met", "terse", "judged")
    days = sorted(
        (*(getattr(r, f) for f in fields), r.member_id, bytes(r.wall_hist), bytes(r.business_hist))
        for r in ReplyRollupDay.objects.filter(shop=shop)
    )
    hours = sorted(
        (r.hour, *(getattr(r, f) for f in fields), bytes(r.wall_hist), bytes(r.business_hist))
        for r in ReplyRollupHour.objects.filter(shop=shop)
    )
    return {
        "periods": periods,
        "measurements": measurements,
        "alerts": alerts,
        "waits": waits,
        "tracked": tracked,
        "rollup_days": days,
        "rollup_hours": hours,
    }


@pytest.fixture
def two_shops(settings: Any) -> tuple[Shop, Shop, datetime]:
    settings.BALAS_SWEEP_MEASURE_GRACE_S = 0
    start = (timezone.now() - timedelta(hours=1)).replace(microsecond=0)
    shops = ShopFactory(name="Toko A"), ShopFactory(name="Toko B")
    for shop in shops:
        set_policy(shop, first=120, reply=300, hours=ALWAYS_OPEN, tz="Asia/Jakarta")
    return shops[0], shops[1], start


def test_batched_catch_up_equals_measuring_each_message(two_shops):
    shop_a, shop_b, start = two_shops
    a_messages = _build(shop_a, "a", start)
    for message in a_messages:
        if not MessageTrack.objects.filter(message=message).exists():
            waiting_periods_update(message=message)
    overdue_periods_check()
    expected = _snapshot(shop_a)

    _build(shop_b, "b", start)
    after, batches = 0, 0
    while rows := unmeasured_rows(after_id=after, limit=5):
        result = messages_catch_up(rows=rows)
        assert result.queued == []  # nobody else holds these conversations here
        after, batches = rows[-1].pk, batches + 1
    overdue_periods_check()
    assert batches > 3  # conversations were split across batches
    actual = _snapshot(shop_b)

    for part in expected:
        assert actual[part] == expected[part], part
    # The scenario is worth comparing: it holds each kind of outcome.
    assert {a[0] for a in expected["alerts"]} == {"slow_first_reply", "slow_reply", "terse_reply"}
    assert len(expected["measurements"]) == 9
    assert ("9-r1", "9-q") in {(m[0], m[1]) for m in expected["measurements"]}  # r2's is gone
    assert len(expected["tracked"]) == sum(len(c) for c in SCENARIO)
    # The shop that wrote first: its customer's wait is a "reply" wait, not a first one.
    assert ("6-q", "reply") in {(p[0], p[1]) for p in expected["periods"]}


def test_a_full_sweep_hands_the_backlog_to_a_chain_and_moves_its_cursor(two_shops, monkeypatch):
    """The sweep measures one batch; a full one starts the chain at its end; the cursor follows."""
    from monitoring.services import catch_up, sweep

    shop, _, start = two_shops
    messages = _build(shop, "a", start)
    chained: list[int] = []
    monkeypatch.setattr(sweep, "catch_up_chain_start", lambda *, after_id: chained.append(after_id) or True)
    monkeypatch.setattr(catch_up, "CATCH_UP_BATCH", 6)
    measured = sweep.unmeasured_messages_measure(limit=6)
    assert measured == 6
    assert len(chained) == 1
    unmeasured = [m.pk for m in messages if not MessageTrack.objects.filter(message=m).exists()]
    assert chained[0] < min(unmeasured) or chained[0] == max(
        m.pk for m in messages if MessageTrack.objects.filter(message=m).exists()
    )
    assert SweepCursor.objects.get().value == min(unmeasured) - 1
    # What the chain's steps do: until nothing is left, then the cursor passes everything.
    while sweep.catch_up_step(after_id=chained.pop(), limit=6):
        if not chained:
            break
    monitoring_sweep()
    assert MessageTrack.objects.filter(message__shop=shop).count() == len(messages)
    assert SweepCursor.objects.get().value >= max(m.pk for m in messages)


def test_a_new_messages_task_after_the_catch_up_does_nothing_but_a_change_is_measured(two_shops, monkeypatch):
    """The worker was down: the per-message tasks queued meanwhile run after the catch-up measured
    their messages. A task for a new message finds it measured and stops; one for a change does not."""
    from monitoring import tasks
    from monitoring.services import periods

    shop, _, start = two_shops
    messages = _build(shop, "a", start)
    while rows := unmeasured_rows(after_id=0):
        messages_catch_up(rows=rows)
    calls: list[int] = []
    real = periods.waiting_periods_update
    monkeypatch.setattr(
        tasks, "waiting_periods_update", lambda *, message: calls.append(message.pk) or real(message=message)
    )
    tasks.message_measure.run(messages[0].pk, True)
    assert calls == []
    tasks.message_measure.run(messages[0].pk)
    assert calls == [messages[0].pk]
