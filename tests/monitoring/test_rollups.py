"""The dashboard's rollups: histogram arithmetic, equality with a rebuild after every kind of measurement
change (through the real measuring service), concurrent writers, and rollup-based reports against the
exact percentile_cont within the stated bound (|error| < 1 s + 5% of the exact value)."""

from __future__ import annotations

import json
import math
import random
import threading
from datetime import datetime, timedelta
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection, connections

from inbox.models import Member, Message
from monitoring.histogram import (
    THRESHOLDS,
    bucket_bounds,
    bucket_of,
    counts_decode,
    counts_encode,
    packed,
    percentile_from_counts,
    unpack,
)
from monitoring.models import ReplyMeasurement, ReplyRollupDay, ReplyRollupHour, ReplyRollupState, ShopPolicy
from monitoring.reports import GROUPINGS, percentile, report_filters_build, report_groups
from monitoring.services.periods import waiting_periods_update
from monitoring.services.rollups import reply_measurements_delete, rollups_rebuild
from tests.factories import ChannelFactory, ConversationFactory, MemberFactory, MessageFactory, ShopFactory
from tests.monitoring.conftest import set_policy
from tests.monitoring.test_reports import SINCE, UNTIL, build_history, measurement_create, utc

WIB = ZoneInfo("Asia/Jakarta")
# 23:58 local: replies a few minutes later fall on the next local day and hour.
T0 = datetime(2026, 3, 2, 23, 58, tzinfo=WIB)


def within_bound(estimate: float | None, exact: float | None) -> bool:
    if exact is None:
        return estimate is None
    return estimate is not None and abs(estimate - exact) < 1.0 + 0.05 * exact


# ---------------------------------------------------------------------------------------------
# histogram arithmetic (pure)


def test_buckets_are_five_percent_wide_from_one_second() -> None:
    assert bucket_of(0.0) == bucket_of(0.99) == bucket_of(-3.0) == bucket_of(float("nan")) == 0
    assert bucket_of(1.0) == 1 and bucket_bounds(1) == (1.0, 1.05)
    for k in (1, 2, 50, 273, 400):
        low, high = bucket_bounds(k)
        assert bucket_of(low) == k
        assert bucket_of(math.nextafter(high, 0)) == k
        assert high / low == pytest.approx(1.05)
    assert bucket_of(7 * 86400) == 273  # a week needs about 273 buckets
    assert bucket_of(1e15) == len(THRESHOLDS)  # the last bucket takes anything beyond


def test_packed_histograms_add_field_by_field() -> None:
    a, b = [3, 0, 7, 1], [0, 5, 2, 0, 0, 9]
    assert counts_decode(counts_encode(a)) == a
    assert counts_encode([1, 0, 0]) == counts_encode([1])  # trailing empties are not stored
    assert unpack(packed(counts_encode(a)) + packed(counts_encode(b))) == [3, 5, 9, 1, 0, 9]
    big = [2**32 - 1, 0, 2**31]
    assert unpack(packed(counts_encode(big))) == big
    with pytest.raises(ValueError):
        counts_encode([-1])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_percentile_from_buckets_is_within_the_bound(seed: int) -> None:
    rng = random.Random(seed)
    for n in (1, 2, 3, 10, 101, 5000):
        values = sorted(min(math.exp(rng.gauss(math.log(240), 1.6)), 3 * 86400) * rng.random() ** 3 for _ in range(n))
        counts: list[int] = []
        for v in values:
            b = bucket_of(v)
            counts.extend([0] * (b + 1 - len(counts)))
            counts[b] += 1
        for p in (0.0, 0.1, 0.5, 0.9, 0.99, 1.0):
            exact = percentile(values, p)
            assert within_bound(percentile_from_counts(counts, p), exact), (n, p)
    assert percentile_from_counts([], 0.5) is None


# ---------------------------------------------------------------------------------------------
# equality with a rebuild


def rollup_state(shop_id: int) -> dict[str, Any]:
    """Every rollup row of the shop, sums rounded (adding and subtracting floats leaves dust)."""

    def rows(model: Any, key: tuple[str, ...]) -> dict[tuple[Any, ...], tuple[Any, ...]]:
        out = {}
        for r in model.objects.filter(shop_id=shop_id):
            out[tuple(getattr(r, k) for k in key)] = (
                r.count,
                round(r.sum_seconds, 6),
                round(r.sum_business_seconds, 6),
                r.sla_met,
                r.terse,
                r.judged,
                counts_decode(r.wall_hist),
                counts_decode(r.business_hist),
            )
        return out

    return {
        "day": rows(ReplyRollupDay, ("day", "member_id", "channel_id")),
        "hour": rows(ReplyRollupHour, ("day", "hour", "channel_id")),
    }


def assert_equals_rebuild(shop_id: int) -> dict[str, Any]:
    assert ReplyRollupState.objects.filter(shop_id=shop_id).exists()
    live = rollup_state(shop_id)
    rollups_rebuild(shop_id=shop_id)
    rebuilt = rollup_state(shop_id)
    assert live == rebuilt
    total = sum(v[0] for v in rebuilt["day"].values())
    assert total == ReplyMeasurement.objects.filter(shop_id=shop_id).count()
    assert total == sum(v[0] for v in rebuilt["hour"].values())
    return rebuilt


def msg(conversation: Any, seconds: float, direction: str = "in", **kw: Any) -> Message:
    """Store a message at T0 + seconds and run the measuring service, as the task does."""
    message = MessageFactory(
        conversation=conversation,
        direction=direction,
        source=kw.pop("source", "customer" if direction == "in" else "inbox"),
        status="received" if direction == "in" else "sent",
        sent_at=T0 + timedelta(seconds=seconds),
        **kw,
    )
    waiting_periods_update(message=message)
    return message


@pytest.fixture
def conv(shop: Any) -> Any:
    set_policy(shop, first=300, reply=600)
    return ConversationFactory(contact__channel__shop=shop)


@pytest.mark.django_db
def test_creates_follow_every_measurement(conv: Any, owner: Member) -> None:
    msg(conv, 0)
    msg(conv, 70, "out", sent_by=owner, text="Halo kak, ready ya 🙏")  # 23:59:10, day 1
    msg(conv, 100, text="Ongkir ke Bandung?")
    msg(conv, 400, "out", source="echo", text="ok")  # 00:04:40 local: the next day and hour, no member
    rebuilt = assert_equals_rebuild(conv.shop_id)
    assert sorted(rebuilt["day"]) == [
        (T0.date(), owner.pk, conv.channel_id),
        (T0.date() + timedelta(days=1), None, conv.channel_id),
    ]
    assert sorted(k[1] for k in rebuilt["hour"]) == [0, 23]
    first = rebuilt["day"][(T0.date(), owner.pk, conv.channel_id)]
    assert first[:6] == (1, 70.0, 70.0, 1, 0, 1)  # count, sums, SLA met, not terse, judged
    assert sum(first[6]) == 1 and first[6][bucket_of(70.0)] == 1


@pytest.mark.django_db
def test_recompute_after_out_of_order_arrival_moves_the_bucket(conv: Any, owner: Member) -> None:
    msg(conv, 100)
    reply = msg(conv, 200, "out", sent_by=owner, text="Ready kak")
    assert reply.measurement.response_seconds == 100
    before = rollup_state(conv.shop_id)
    # A customer message sent earlier arrives late: the wait now started at 10 s.
    msg(conv, 10, text="Halo")
    reply.refresh_from_db()
    assert ReplyMeasurement.objects.get(message=reply).response_seconds == 190
    after = assert_equals_rebuild(conv.shop_id)
    [(key, row)] = after["day"].items()
    assert row[0] == 1 and row[1] == 190.0
    assert row[6][bucket_of(190.0)] == 1 and sum(row[6]) == 1
    assert before["day"][key][6] != row[6]


@pytest.mark.django_db
def test_reply_that_becomes_a_follow_up_is_taken_out(conv: Any, owner: Member) -> None:
    msg(conv, 0)
    late = msg(conv, 300, "out", source="echo", text="ok kak")
    assert ReplyMeasurement.objects.filter(message=late).exists()
    # An earlier reply arrives late: it answers the customer; the echo is a follow-up now.
    msg(conv, 60, "out", sent_by=owner, text="Halo kak, ready")
    assert not ReplyMeasurement.objects.filter(message=late).exists()
    rebuilt = assert_equals_rebuild(conv.shop_id)
    assert [v[0] for v in rebuilt["day"].values()] == [1]


@pytest.mark.django_db
def test_merged_periods_and_merged_echo_leave_nothing_behind(conv: Any, owner: Member) -> None:
    msg(conv, 0)
    msg(conv, 50, "out", sent_by=owner, text="Ready kak")
    msg(conv, 100, text="Size M?")
    echo = msg(conv, 400, "out", source="echo", text="Ada kak")
    assert ReplyMeasurement.objects.filter(conversation=conv).count() == 2
    # The first reply turns out to have failed (not delivered): the two waits become one period.
    first_reply = Message.objects.get(conversation=conv, direction="out", sent_by=owner)
    first_reply.status = "failed"
    first_reply.save(update_fields=["status"])
    waiting_periods_update(message=first_reply)
    assert list(ReplyMeasurement.objects.filter(conversation=conv).values_list("response_seconds", flat=True)) == [
        400.0
    ]
    assert_equals_rebuild(conv.shop_id)
    # The echo row merged into a reply sent from Balas (inbox.services.replies): its measurement goes.
    assert reply_measurements_delete(message_ids=[echo.pk]) == 1
    echo.delete()
    rebuilt = assert_equals_rebuild(conv.shop_id)
    assert rebuilt == {"day": {}, "hour": {}}


@pytest.mark.django_db
def test_rerun_changes_nothing_and_deleted_rows_leave_no_zeros(conv: Any, owner: Member) -> None:
    msg(conv, 0)
    reply = msg(conv, 90, "out", sent_by=owner, text="Halo kak")
    before = rollup_state(conv.shop_id)
    waiting_periods_update(message=reply)
    assert rollup_state(conv.shop_id) == before
    reply_measurements_delete(message_ids=[reply.pk])
    assert not ReplyRollupDay.objects.filter(shop_id=conv.shop_id).exists()
    assert not ReplyRollupHour.objects.filter(shop_id=conv.shop_id).exists()


@pytest.mark.django_db
def test_a_write_around_the_service_is_detected_and_healed(
    conv: Any, owner: Member, django_capture_on_commit_callbacks: Any
) -> None:
    msg(conv, 0)
    reply = msg(conv, 90, "out", sent_by=owner, text="Halo kak")
    # Changed behind the service's back: the rollups still hold 90 s.
    ReplyMeasurement.objects.filter(message=reply).update(response_seconds=5000.0)
    with django_capture_on_commit_callbacks(execute=True):
        reply_measurements_delete(message_ids=[reply.pk])
    # Not trusted any more (reports are exact meanwhile); the next measurement rebuilds them.
    assert not ReplyRollupState.objects.filter(shop_id=conv.shop_id).exists()
    msg(conv, 200, text="Kak?")
    msg(conv, 260, "out", sent_by=owner, text="Siap kak")
    rebuilt = assert_equals_rebuild(conv.shop_id)
    assert [v[:2] for v in rebuilt["day"].values()] == [(1, 60.0)]


@pytest.mark.django_db
def test_time_zone_change_rebuilds_in_the_new_zone(conv: Any, owner: Member) -> None:
    msg(conv, 0)
    msg(conv, 90, "out", sent_by=owner, text="Halo kak")  # 23:59:30 in Jakarta, 00:59:30 in Makassar
    [(day, _, _)] = rollup_state(conv.shop_id)["day"]
    assert day == T0.date()
    set_policy(conv.shop, tz="Asia/Makassar")
    state = ReplyRollupState.objects.get(shop_id=conv.shop_id)
    assert state.timezone == "Asia/Makassar"
    rebuilt = assert_equals_rebuild(conv.shop_id)
    assert [k[0] for k in rebuilt["day"]] == [T0.date() + timedelta(days=1)]
    assert [k[1] for k in rebuilt["hour"]] == [0]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("state_first", [True, False], ids=["rollups-exist", "first-rollup-of-the-shop"])
def test_concurrent_writers_keep_rollups_exact(state_first: bool) -> None:
    """Eight workers measure replies at once on one channel: same day row (no member) and hour row."""
    shop = ShopFactory()
    set_policy(shop, first=300, reply=600)
    channel = ChannelFactory(shop=shop, platform="api", account_id=f"conc-{shop.pk}")
    if state_first:
        rollups_rebuild(shop_id=shop.pk)
    else:
        ReplyRollupState.objects.filter(shop_id=shop.pk).delete()
    # One reply measured first, so the rows exist and every worker updates the same two rows.
    warm = ConversationFactory(contact__channel=channel)
    MessageFactory(conversation=warm, direction="in", sent_at=T0)
    waiting_periods_update(
        message=MessageFactory(
            conversation=warm,
            direction="out",
            source="api",
            status="sent",
            text="Ok",
            sent_at=T0 + timedelta(seconds=99),
        )
    )
    replies = []
    for i in range(8):
        conversation = ConversationFactory(contact__channel=channel)
        MessageFactory(conversation=conversation, direction="in", sent_at=T0 + timedelta(seconds=i))
        replies.append(
            MessageFactory(
                conversation=conversation,
                direction="out",
                source="api",
                status="sent",
                text="Siap kak",
                sent_at=T0 + timedelta(seconds=100 + 7 * i),
            )
        )
    barrier = threading.Barrier(len(replies))
    errors: list[Exception] = []

    def work(message: Message) -> None:
        try:
            barrier.wait(timeout=10)
            waiting_periods_update(message=message)
        except Exception as exc:  # noqa: BLE001 - any failure in a worker thread fails the test below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(m,)) for m in replies]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    rebuilt = assert_equals_rebuild(shop.pk)
    assert sum(v[0] for v in rebuilt["day"].values()) == 9


# ---------------------------------------------------------------------------------------------
# reports from the rollups


def _pairs(fast: Any, exact: Any) -> list[tuple[Any, Any]]:
    out = []
    for grouping in GROUPINGS:
        a = [fast.total] if grouping == "total" else getattr(fast, grouping)
        b = [exact.total] if grouping == "total" else getattr(exact, grouping)
        assert [s.key for s in a] == [s.key for s in b], grouping
        out += list(zip(a, b, strict=True))
    return out


def assert_close_to_exact(filters: Any) -> None:
    fast = report_groups(filters, method="rollup")
    exact = report_groups(filters, method="exact")
    for got, want in _pairs(fast, exact):
        assert (got.key, got.label, got.count) == (want.key, want.label, want.count)
        for name in ("avg_s", "avg_business_s", "sla_met_pct", "terse_pct"):
            assert getattr(got, name) == pytest.approx(getattr(want, name)), (got.key, name)
        for name in ("p50_s", "p90_s", "p50_business_s", "p90_business_s"):
            assert within_bound(getattr(got, name), getattr(want, name)), (got.key, name, got, want)


@pytest.mark.django_db
def test_hand_built_history_from_rollups_is_within_the_bound() -> None:
    h = build_history()
    rollups_rebuild(shop_id=h.shop.pk)
    for channel in (None, h.wa.pk):
        filters = report_filters_build(shop=h.shop, since=SINCE, until=UNTIL, channel=channel)
        assert_close_to_exact(filters)
    # Few replies: the automatic choice is the exact computation, to the digit.
    auto = report_groups(report_filters_build(shop=h.shop, since=SINCE, until=UNTIL), ["member"])
    ani = next(s for s in auto.member if s.key == h.ani.pk)
    assert (ani.p50_s, ani.p90_s) == (180.0, pytest.approx(456.0))


@pytest.mark.django_db
def test_many_replies_from_rollups_are_within_the_bound() -> None:
    h = build_history()
    rng = random.Random(7)
    members: list[Member | None] = [h.ani, h.budi, None]
    conversation = ConversationFactory(contact__channel=h.wa)
    for i in range(400):
        wall = min(math.exp(rng.gauss(math.log(240), 1.3)), 2 * 86400.0) + rng.random()
        member = members[i % 3]
        measurement_create(
            channel=h.wa if i % 4 else h.ig,
            member=member,
            replied_at=utc(2026, 3, 1, 17) + timedelta(seconds=rng.random() * 3 * 86400),
            wall=wall,
            business=wall * rng.choice([0.35, 0.95]),
            sla_met=rng.random() < 0.6,
            terse=rng.choice([True, False, None]),
            conversation=conversation if member is not None and i % 4 else None,
        )
    rollups_rebuild(shop_id=h.shop.pk)
    for channel in (None, h.ig.pk):
        assert_close_to_exact(report_filters_build(shop=h.shop, since=SINCE, until=UNTIL, channel=channel))


@pytest.mark.django_db
def test_auto_uses_rollups_above_the_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.test.utils import CaptureQueriesContext

    from monitoring import reports

    h = build_history()
    rollups_rebuild(shop_id=h.shop.pk)
    filters = report_filters_build(shop=h.shop, since=SINCE, until=UNTIL)
    monkeypatch.setattr(reports, "EXACT_MAX_REPLIES", 5)  # the period holds 8
    with CaptureQueriesContext(connection) as ctx:
        groups = report_groups(filters)
    sqls = " ".join(q["sql"] for q in ctx.captured_queries)
    assert "replyrolluphour" in sqls and "percentile_cont" not in sqls
    assert groups.total is not None and groups.total.count == 8
    # A period with a time of day at an end cannot come from daily rollups: exact.
    partial = report_filters_build(shop=h.shop, since="2026-03-02T09:00:00", until=UNTIL)
    with CaptureQueriesContext(connection) as ctx:
        total = report_groups(partial, ["total"]).total
    assert "replyrollup" not in " ".join(q["sql"] for q in ctx.captured_queries)
    assert total is not None and total.count == 7  # a1 (08:00 local) is left out
    # Rollups counted in another time zone are not trusted: exact again.
    ShopPolicy.objects.update_or_create(shop=h.shop, defaults={"timezone": "Asia/Makassar"})
    filters = report_filters_build(shop=h.shop, since=SINCE, until=UNTIL)
    with CaptureQueriesContext(connection) as ctx:
        report_groups(filters, ["day"])
    assert "percentile_cont" in " ".join(q["sql"] for q in ctx.captured_queries)


@pytest.mark.django_db
def test_deleted_member_counts_as_no_member_as_in_the_measurements() -> None:
    h = build_history()
    gone = MemberFactory(shop=h.shop, user__first_name="Gone")
    measurement_create(
        channel=h.wa, member=gone, replied_at=utc(2026, 3, 3, 4), wall=50, business=50, sla_met=True, terse=False
    )
    rollups_rebuild(shop_id=h.shop.pk)
    gone.user.delete()  # cascades to the member; measurements keep the reply with member NULL
    filters = report_filters_build(shop=h.shop, since=SINCE, until=UNTIL)
    assert_close_to_exact(filters)
    none_group = next(s for s in report_groups(filters, ["member"], method="rollup").member if s.key is None)
    assert none_group.count == 2


@pytest.mark.django_db
def test_rebuildrollups_command() -> None:
    h = build_history()
    out = StringIO()
    call_command("rebuildrollups", "--shop", str(h.shop.pk), stdout=out)
    assert json.loads(out.getvalue())["shops"] == {str(h.shop.pk): 10}
    out = StringIO()
    call_command("rebuildrollups", stdout=out)
    shops = json.loads(out.getvalue())["shops"]
    assert shops[str(h.shop.pk)] == 10 and sum(shops.values()) == 11  # and the other shop's one reply
    assert sum(r.count for r in ReplyRollupDay.objects.filter(shop=h.shop)) == 10
