"""Waiting periods: opened by customer messages, closed by human replies, measured, and watched.

Messages can arrive out of order (a late webhook), so a new message never just patches the open
period: the part of the conversation it can affect (from the last human reply before it) is
recomputed from the messages ordered by the platform's `sent_at`, and the stored periods are
reconciled with the result. Running it twice gives the same rows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from inbox.models import Conversation, Message
from monitoring.business_hours import business_deadline, business_seconds_between
from monitoring.models import Alert, MessageTrack, ReplyMeasurement, ShopPolicy, WaitingPeriod
from monitoring.services.alerts import SLOW_KINDS, slow_alert_raise, slow_alerts_resolve, terse_alert_record
from monitoring.services.policy import policy_for_shop
from monitoring.services.rollups import MeasurementSnapshot, RollupChanges, rollup_apply
from monitoring.tone import ToneVerdict

logger = logging.getLogger("balas.monitoring")

# Not yet (or never) delivered to the customer: such a message answers nobody.
_UNSENT = (Message.Status.PENDING, Message.Status.FAILED)


def human_reply_q() -> Q:
    """An `out` message from a person (inbox, phone app echo, API); platform auto-replies never count."""
    return Q(direction=Message.Direction.OUT) & ~Q(source=Message.Source.AUTO) & ~Q(status__in=_UNSENT)


def is_human_reply(message: Message) -> bool:
    return (
        message.direction == Message.Direction.OUT
        and message.source != Message.Source.AUTO
        and message.status not in _UNSENT
    )


@dataclass
class Burst:
    """Customer messages answered together by one reply (or still waiting, reply None)."""

    messages: list[Message] = field(default_factory=list)
    reply: Message | None = None


def bursts_compute(messages: list[Message]) -> list[Burst]:
    """Split messages (ordered by sent_at; at equal times customer messages first) into bursts.

    Pure: a reply at time r answers every customer message sent at or before r; replies with
    no customer message since the previous reply (follow-ups) answer nothing.
    """
    bursts: list[Burst] = []
    current = Burst()
    for message in messages:
        if message.direction == Message.Direction.IN:
            current.messages.append(message)
        elif is_human_reply(message) and current.messages:
            current.reply = message
            bursts.append(current)
            current = Burst()
    if current.messages:
        bursts.append(current)
    return bursts


def _ordered(messages: QuerySet[Message]) -> list[Message]:
    # "in" sorts before "out": a customer message and a reply in the same second count as answered.
    return list(messages.order_by("sent_at", "direction", "id"))


def _target_for(policy: ShopPolicy, kind: str) -> int:
    return policy.first_reply_target_s if kind == WaitingPeriod.Kind.FIRST else policy.reply_target_s


@transaction.atomic
def waiting_periods_update(*, message: Message) -> None:
    """Bring the conversation's waiting periods up to date with one new (or newly sent) message.

    Idempotent: it recomputes from the messages, so running it again changes nothing.
    """
    conversation = Conversation.objects.select_for_update().get(pk=message.conversation_id)
    policy = policy_for_shop(shop_id=conversation.shop_id)
    anchor = (
        Message.objects.filter(human_reply_q(), conversation=conversation, sent_at__lt=message.sent_at)
        .order_by("-sent_at", "-id")
        .first()
    )
    relevant = Message.objects.filter(Q(direction=Message.Direction.IN) | human_reply_q(), conversation=conversation)
    periods = WaitingPeriod.objects.select_for_update().filter(conversation=conversation)
    if anchor is not None:
        relevant = relevant.filter(sent_at__gt=anchor.sent_at)
        periods = periods.filter(started_at__gt=anchor.sent_at)
    ordered = _ordered(relevant)
    bursts = bursts_compute(ordered)
    _reconcile(
        conversation=conversation,
        policy=policy,
        bursts=bursts,
        existing=list(periods.order_by("started_at", "id")),
        anchor_at=anchor.sent_at if anchor is not None else None,
    )
    _conversation_state_keep(conversation=conversation, ordered=ordered, bursts=bursts, anchor=anchor)
    # One upsert instead of update_or_create's savepoints, locking read and insert (seven statements).
    MessageTrack.objects.bulk_create(
        [MessageTrack(message_id=message.pk)],
        update_conflicts=True,
        unique_fields=["message"],
        update_fields=["measured_at"],
    )


def _conversation_state_keep(
    *, conversation: Conversation, ordered: list[Message], bursts: list[Burst], anchor: Message | None
) -> None:
    """Record the open period's start and the latest human reply on the (locked) conversation row.

    The webhook's fast path reads them under the same row lock to open a period or join the open
    one without this task (inbox/services/ingest.py). `ordered` holds every human reply after the
    anchor, which is the last one before the message: so the latest of them, or the anchor, is the
    conversation's latest human reply. A period open before the anchor cannot exist once the anchor
    is measured, and the anchor's own measurement (pending or done) sets these again.
    """
    replies = [m.sent_at for m in ordered if m.direction == Message.Direction.OUT]
    replied_at = max(replies) if replies else (anchor.sent_at if anchor is not None else None)
    open_since = bursts[-1].messages[0].sent_at if bursts and bursts[-1].reply is None else None
    if (conversation.open_period_since, conversation.measured_reply_at) != (open_since, replied_at):
        Conversation.objects.filter(pk=conversation.pk).update(
            open_period_since=open_since, measured_reply_at=replied_at
        )


def _reconcile(
    *,
    conversation: Conversation,
    policy: ShopPolicy,
    bursts: list[Burst],
    existing: list[WaitingPeriod],
    anchor_at: datetime | None,
) -> None:
    # The dashboard's rollups follow every measurement change, applied once at the end (one lock order).
    changes = RollupChanges()
    burst_of: dict[int, int] = {m.pk: i for i, b in enumerate(bursts) for m in b.messages}
    matched: dict[int, WaitingPeriod] = {}
    obsolete: list[WaitingPeriod] = []
    for period in existing:
        index = burst_of.get(period.first_message_id)
        if index is None or index in matched:
            obsolete.append(period)
        else:
            matched[index] = period
    # Deleting first keeps "one open period per conversation" true at every statement.
    for period in obsolete:
        slow_alerts_resolve(period=period, latency_seconds=None)
        changes.deleted(queryset=ReplyMeasurement.objects.filter(waiting_period=period))
        logger.info("period.merged period=%s conversation=%s", period.pk, conversation.pk)
        period.delete()

    replies_in_window: set[int] = set()
    for index, burst in enumerate(bursts):
        # No human reply before the first burst: it waits for the conversation's first reply.
        kind = WaitingPeriod.Kind.FIRST if index == 0 and anchor_at is None else WaitingPeriod.Kind.REPLY
        period = _period_apply(
            conversation=conversation, policy=policy, burst=burst, kind=kind, period=matched.get(index)
        )
        if burst.reply is not None:
            replies_in_window.add(burst.reply.pk)
            _reply_measure(period=period, burst=burst, conversation=conversation, changes=changes)

    # A reply that no longer ends a period (an earlier reply arrived late) is a follow-up now.
    stale = ReplyMeasurement.objects.filter(conversation=conversation).exclude(message_id__in=replies_in_window)
    if anchor_at is not None:
        stale = stale.filter(replied_at__gt=anchor_at)
    changes.deleted(queryset=stale)
    rollup_apply(old=changes.old, new=changes.new)


def _period_apply(
    *, conversation: Conversation, policy: ShopPolicy, burst: Burst, kind: str, period: WaitingPeriod | None
) -> WaitingPeriod:
    first = burst.messages[0]
    target = _target_for(policy, kind)
    started_at = first.sent_at
    deadline = business_deadline(started_at, target, policy.business_hours, policy.timezone)
    reply = burst.reply
    values: dict[str, object] = {
        "first_message_id": first.pk,
        "kind": kind,
        "started_at": started_at,
        "target_seconds": target,
        "deadline_at": deadline,
        "ended_at": reply.sent_at if reply else None,
        "reply_id": reply.pk if reply else None,
        "response_seconds": (reply.sent_at - started_at).total_seconds() if reply else None,
        "response_business_seconds": (
            business_seconds_between(started_at, reply.sent_at, policy.business_hours, policy.timezone)
            if reply
            else None
        ),
    }
    if period is None:
        period = WaitingPeriod.objects.create(shop_id=conversation.shop_id, conversation=conversation, **values)
        logger.info("period.opened period=%s conversation=%s kind=%s", period.pk, conversation.pk, kind)
        rearm = reply is None
    else:
        changed = [name for name, value in values.items() if getattr(period, name) != value]
        rearm = reply is None and ("deadline_at" in changed or "ended_at" in changed)
        for name in changed:
            setattr(period, name, values[name])
        if changed:
            period.save(update_fields=[*changed, "updated_at"])
    if rearm:
        deadline_arm_on_commit(period_id=period.pk, deadline_at=period.deadline_at)
    return period


def _reply_measure(*, period: WaitingPeriod, burst: Burst, conversation: Conversation, changes: RollupChanges) -> None:
    reply = burst.reply
    assert reply is not None and period.response_seconds is not None
    business = period.response_business_seconds or 0.0
    values: dict[str, Any] = {
        "shop_id": conversation.shop_id,
        "channel_id": conversation.channel_id,
        "conversation_id": conversation.pk,
        "waiting_period_id": period.pk,
        "member_id": reply.sent_by_id,
        "source": reply.source,
        "kind": period.kind,
        "started_at": period.started_at,
        "replied_at": reply.sent_at,
        "response_seconds": period.response_seconds,
        "response_business_seconds": business,
        "target_seconds": period.target_seconds,
        "sla_met": business <= period.target_seconds,
    }
    verdict = _judge(customer=[m.text for m in burst.messages if m.text], reply=reply.text)
    if verdict is not None:
        values.update(terse=bool(verdict.terse), terse_score=float(verdict.score), terse_reasons=list(verdict.reasons))
    previous = ReplyMeasurement.objects.filter(message=reply).first()
    old = MeasurementSnapshot.of(previous) if previous is not None else None
    # The conversation's row lock (held by the caller) serializes every measurement of this reply,
    # so a plain insert or an update of what changed replaces update_or_create's savepoints.
    created = previous is None
    if previous is None:
        measurement = ReplyMeasurement.objects.create(message=reply, **values)
    else:
        measurement = previous
        changed = [name for name, value in values.items() if getattr(measurement, name) != value]
        for name in changed:
            setattr(measurement, name, values[name])
        if changed:
            measurement.save(update_fields=[*changed, "updated_at"])
    changes.changed(old=old, new=MeasurementSnapshot.of(measurement))
    if created:
        logger.info(
            "reply.measured message=%s seconds=%.1f business_seconds=%.1f sla_met=%s",
            reply.pk,
            measurement.response_seconds,
            measurement.response_business_seconds,
            measurement.sla_met,
        )
    slow_alerts_resolve(period=period, latency_seconds=period.response_seconds)
    if verdict is not None and verdict.terse:
        terse_alert_record(conversation=conversation, reply=reply, verdict=verdict)


def _judge(*, customer: list[str], reply: str) -> ToneVerdict | None:
    """The terse judge's verdict, or None for a reply without text (a photo) or a judge failure."""
    if not reply.strip():
        return None
    try:
        from monitoring.tone import judge

        return judge(customer=customer, reply=reply, language="id")
    except Exception:
        # A judge bug must never lose the latency measurement.
        logger.exception("tone.judge_failed")
        return None


# --- deadlines -------------------------------------------------------------------------------


def deadline_arm_on_commit(*, period_id: int, deadline_at: datetime) -> None:
    transaction.on_commit(lambda: deadline_arm(period_id=period_id, deadline_at=deadline_at))


def deadline_arm(*, period_id: int, deadline_at: datetime) -> None:
    """Schedule the deadline check: with the other deadlines of its bucket (half a second), alone if
    the deadline has passed already, or a re-arm step of this period if the deadline is far off.

    Called after the period's commit. A worker holds ETA tasks in memory and the Redis broker
    redelivers any unacknowledged task after its visibility timeout, so no single wait may come
    near it: long waits go in steps. One task per bucket, not per deadline: a worker could not keep
    up with 10,000 deadline tasks a minute (monitoring.services.deadlines). If the broker is down
    the sweep raises the alert instead.
    """
    from monitoring.services.deadlines import deadline_bucket_arm, deadline_bucket_end
    from monitoring.tasks import deadline_check

    now = timezone.now()
    step = timedelta(seconds=settings.BALAS_DEADLINE_ARM_STEP_S)
    bucket_end = deadline_bucket_end(deadline_at)
    try:
        if deadline_at - now > step:
            deadline_check.apply_async((period_id, deadline_at.isoformat()), eta=now + step)
        elif bucket_end <= now:
            # Past (measured late, or a policy change moved it back): its bucket's task may have
            # run already, so it is checked alone, at once.
            deadline_check.apply_async((period_id, deadline_at.isoformat()), eta=deadline_at)
        else:
            deadline_bucket_arm(bucket_end=bucket_end)
    except Exception:
        logger.warning("deadline.arm_failed period=%s", period_id, exc_info=True)


def period_deadline_check(*, period_id: int, armed_for: datetime | None = None) -> Alert | None:
    """At (or after) the deadline: raise the slow alert of a period nobody has answered yet.

    Safe to run any number of times and from any path (the ETA task, a redelivered copy, the
    sweep): the period row is locked, and the unique (period, kind) constraint has the last word.
    `armed_for` is the deadline an ETA chain was armed for; a chain for an outdated deadline stops.
    Most checks find the period answered (or already alerted): one unlocked read settles those.
    """
    state = _deadline_state(period_id=period_id)
    if state is None or state["ended_at"] is not None or state["alerted"]:
        # An alerted period's unmeasured reply is the sweep's (it measures every unmeasured message).
        return None
    if armed_for is not None and armed_for != state["deadline_at"]:
        return None
    if state["first_reply_id"] is not None and _unmeasured_reply_measure(
        period_id=period_id, reply_id=state["first_reply_id"]
    ):
        return None
    if timezone.now() < state["deadline_at"]:
        # Woken by a re-arm step (or a clock a hair early): wait for the rest.
        deadline_arm(period_id=period_id, deadline_at=state["deadline_at"])
        return None
    from monitoring.services.deadlines import due_slow_alerts_raise

    # Due: raise it with every period due by now (their checks then stop at the read above).
    # From this deadline on: the tasks of earlier deadlines ran first (a worker fires ETA tasks in
    # order), and whatever they missed is the sweep's.
    batch = due_slow_alerts_raise(since=state["deadline_at"])
    mine = next((alert for alert in batch.alerts if alert.waiting_period_id == period_id), None)
    if mine is not None:
        return mine
    # Not raised by the batch: alerted meanwhile, answered by the reply measured above, or its rows
    # were locked (a measurement, another batch). Wait for the locks and decide again.
    return _period_alert_raise(period_id=period_id, conversation_id=state["conversation_id"], armed_for=armed_for)


def _period_alert_raise(*, period_id: int, conversation_id: int, armed_for: datetime | None) -> Alert | None:
    """The one-period path: wait for the locks, re-check, raise (the unique constraint decides)."""
    with transaction.atomic():
        # Conversation first, then period: the order waiting_periods_update takes them in, so
        # neither waits for the other in a cycle, and the alert insert's key-share lock on the
        # conversation is then held already.
        list(Conversation.objects.select_for_update(no_key=True).filter(pk=conversation_id).values_list("pk"))
        period = (
            WaitingPeriod.objects.select_for_update(of=("self",))
            .select_related("conversation__contact", "conversation__channel")
            .filter(pk=period_id)
            .first()
        )
        if period is None or period.ended_at is not None:
            return None
        if armed_for is not None and armed_for != period.deadline_at:
            return None
        if timezone.now() < period.deadline_at:
            deadline_arm_on_commit(period_id=period.pk, deadline_at=period.deadline_at)
            return None
        return slow_alert_raise(period=period)


def _deadline_state(*, period_id: int) -> dict[str, Any] | None:
    """The period's conversation, end, deadline, whether it is alerted, and the first human reply since it began."""
    first_reply = (
        Message.objects.filter(
            human_reply_q(), conversation_id=OuterRef("conversation_id"), sent_at__gte=OuterRef("started_at")
        )
        .order_by("sent_at", "id")
        .values("id")[:1]
    )
    alerted = Alert.objects.filter(waiting_period_id=OuterRef("pk"), kind__in=SLOW_KINDS)
    row = (
        WaitingPeriod.objects.filter(pk=period_id)
        .annotate(alerted=Exists(alerted), first_reply_id=Subquery(first_reply))
        .values("conversation_id", "ended_at", "deadline_at", "alerted", "first_reply_id")
        .first()
    )
    return dict(row) if row is not None else None


def _unmeasured_reply_measure(*, period_id: int, reply_id: int) -> bool:
    """Measure a human reply that answered the period but whose own task has not run yet.

    After a Redis outage or a lost task, the deadline check (or the sweep) can come before the
    reply's measurement; the customer was answered, so that must end the period, not alert.
    Runs before the period lock so the lock order stays conversation -> period, as in
    waiting_periods_update.
    """
    reply = Message.objects.filter(pk=reply_id).first()
    if reply is None:
        return False
    waiting_periods_update(message=reply)
    logger.info("deadline.reply_caught_up period=%s message=%s", period_id, reply.pk)
    return not WaitingPeriod.objects.filter(pk=period_id, ended_at__isnull=True).exists()


def open_period_deadlines_refresh(*, policy: ShopPolicy) -> int:
    """After a policy change: recompute the open periods' targets and deadlines, re-arm them."""
    changed = 0
    for period in WaitingPeriod.objects.select_for_update().filter(shop_id=policy.shop_id, ended_at__isnull=True):
        target = _target_for(policy, period.kind)
        deadline = business_deadline(period.started_at, target, policy.business_hours, policy.timezone)
        if deadline != period.deadline_at or target != period.target_seconds:
            period.deadline_at = deadline
            period.target_seconds = target
            period.save(update_fields=["deadline_at", "target_seconds", "updated_at"])
            deadline_arm_on_commit(period_id=period.pk, deadline_at=deadline)
            changed += 1
    return changed
