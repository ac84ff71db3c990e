"""Waiting periods: opened by customer messages, closed by human replies, measured, and judged.

Messages can arrive out of order (a late webhook), so a new message never just patches the open
period: the part of the conversation it can affect (from the last human reply before it) is
recomputed from the messages ordered by the platform's `sent_at` (the rule itself is in
monitoring.services.waiting), and the stored periods are reconciled with the result. Running it
twice gives the same rows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction

from inbox.models import Conversation, Message
from monitoring.business_hours import business_seconds_between
from monitoring.models import ConversationWait, MessageTrack, ReplyMeasurement, ShopPolicy, WaitingPeriod
from monitoring.services.alerts import slow_alerts_resolve
from monitoring.services.deadlines import deadline_arm_on_commit, period_due_moments, warning_arm_on_commit
from monitoring.services.policy import policy_for_shop
from monitoring.services.rollups import MeasurementSnapshot, RollupChanges, rollup_apply
from monitoring.services.tone_runs import followups_settle, reply_run, run_judge, tone_outcome
from monitoring.services.waiting import Burst, bursts_compute, period_kind, turns_order

logger = logging.getLogger("balas.monitoring")


@dataclass
class RowsAhead:
    """What a batch (monitoring.services.catch_up) read at once for its conversations, and the new rows
    it writes at once: the measurements of their replies (by message id; every one a recompute may
    update or find stale), the periods that have a slow alert (the others have nothing to resolve)."""

    measurements: dict[int, ReplyMeasurement]
    alerted: set[int]
    new_periods: list[WaitingPeriod] = field(default_factory=list)
    new_measurements: list[ReplyMeasurement] = field(default_factory=list)
    stale: list[ReplyMeasurement] = field(default_factory=list)

    def flush(self) -> None:
        """Stale measurements out, new periods and then their measurements in: one statement each."""
        if self.stale:
            ReplyMeasurement.objects.filter(pk__in=[m.pk for m in self.stale]).delete()
        if self.new_periods:
            WaitingPeriod.objects.bulk_create(self.new_periods)
            for period in self.new_periods:
                logger.info(
                    "period.opened period=%s conversation=%s kind=%s", period.pk, period.conversation_id, period.kind
                )
        if self.new_measurements:
            ReplyMeasurement.objects.bulk_create(self.new_measurements)


@transaction.atomic
def waiting_periods_update(*, message: Message) -> None:
    """Bring the conversation's waiting periods up to date with one new (or newly sent) message.

    Idempotent: it recomputes from the messages, so running it again changes nothing.
    """
    # The wait row comes along unlocked: every writer of it holds this conversation's lock first.
    conversation = (
        Conversation.objects.select_for_update(of=("self",)).select_related("wait").get(pk=message.conversation_id)
    )
    policy = policy_for_shop(shop_id=conversation.shop_id)
    anchor = (
        Message.objects.filter(Message.human_reply_q(), conversation=conversation, sent_at__lt=message.sent_at)
        .order_by("-sent_at", "-id")
        .first()
    )
    relevant = Message.objects.filter(Message.customer_turn_q() | Message.human_reply_q(), conversation=conversation)
    periods = WaitingPeriod.objects.select_for_update().filter(conversation=conversation)
    if anchor is not None:
        relevant = relevant.filter(sent_at__gt=anchor.sent_at)
        periods = periods.filter(started_at__gt=anchor.sent_at)
    changes = RollupChanges()
    arms: list[WaitingPeriod] = []
    wait = conversation_periods_recompute(
        conversation=conversation,
        policy=policy,
        anchor_at=anchor.sent_at if anchor is not None else None,
        ordered=list(relevant.order_by(*turns_order())),
        existing=list(periods.order_by("started_at", "id")),
        changes=changes,
        arms=arms,
    )
    # The dashboard's rollups follow every measurement change, applied once at the end (one lock order).
    rollup_apply(old=changes.old, new=changes.new)
    current = getattr(conversation, "wait", None)
    if current is None or (current.open_period_since, current.measured_reply_at) != (
        wait.open_period_since,
        wait.measured_reply_at,
    ):
        conversation_waits_store(waits=[wait])  # unchanged when a message joins the open period
    periods_arm(periods=arms)
    if message.direction == Message.Direction.OUT:
        # A follow-up may complete (or spoil) the reply it follows: its run is judged again.
        followups_settle(message=message)
    messages_tracked_store(message_ids=[message.pk])


def periods_arm(*, periods: list[WaitingPeriod]) -> None:
    """Arm, after the commit, the deadline and the warning of each open period that needs it."""
    for period in periods:
        deadline_arm_on_commit(period_id=period.pk, deadline_at=period.deadline_at)
        if period.warn_at is not None:
            warning_arm_on_commit(period_id=period.pk, warn_at=period.warn_at)


def conversation_periods_recompute(
    *,
    conversation: Conversation,
    policy: ShopPolicy,
    anchor_at: datetime | None,
    ordered: list[Message],
    existing: list[WaitingPeriod],
    changes: RollupChanges,
    arms: list[WaitingPeriod],
    ahead: RowsAhead | None = None,
) -> ConversationWait:
    """Recompute a conversation's periods after its last human reply before `anchor_at` (None: all).

    The caller holds the conversation's row lock and has read, under it, `ordered` (its customer
    turns and human replies after the anchor, in `turns_order()`) and `existing` (its periods that
    started after the anchor, locked). Measurement changes are added to `changes` (the caller applies
    them to the rollups), open periods whose deadline must be armed to `arms` (the caller arms them
    after the commit); the conversation's monitoring state is returned for the caller to store.
    One message's task and the outage catch-up (monitoring.services.catch_up) share it, so both give
    the same rows. With `ahead` (a batch's rows read for many conversations at once), the lookups
    come from it and the new rows are written by `ahead.flush()`, a few statements for the batch.
    """
    bursts = bursts_compute(ordered)
    # "First reply" means no human reply before the burst at all: a reply the shop sent before the
    # customer's first message (a follow-up, which bursts_compute drops) counts too, as it does for
    # the in-order statement (monitoring.services.waiting: no reply counted yet).
    replied_before = anchor_at is not None or (
        bool(bursts) and any(m.is_human_reply for m in ordered[: ordered.index(bursts[0].messages[0])])
    )
    _reconcile(
        conversation=conversation,
        policy=policy,
        bursts=bursts,
        existing=existing,
        anchor_at=anchor_at,
        replied_before=replied_before,
        changes=changes,
        arms=arms,
        ahead=ahead,
    )
    return _conversation_state(conversation=conversation, ordered=ordered, bursts=bursts, anchor_at=anchor_at)


def conversation_waits_store(*, waits: list[ConversationWait]) -> None:
    """Store conversations' monitoring state in one upsert (the row exists from the first measurement on)."""
    if waits:
        ConversationWait.objects.bulk_create(
            waits,
            update_conflicts=True,
            unique_fields=["conversation"],
            update_fields=["open_period_since", "measured_reply_at"],
        )


def messages_tracked_store(*, message_ids: list[int]) -> None:
    """Mark messages measured in one upsert (instead of update_or_create's savepoints, locking read and insert)."""
    if message_ids:
        MessageTrack.objects.bulk_create(
            [MessageTrack(message_id=pk) for pk in message_ids],
            update_conflicts=True,
            unique_fields=["message"],
            update_fields=["measured_at"],
        )


def _conversation_state(
    *, conversation: Conversation, ordered: list[Message], bursts: list[Burst], anchor_at: datetime | None
) -> ConversationWait:
    """The open period's start and the latest human reply (the caller holds the conversation's lock).

    The in-order statement reads them under the same lock to open a period or join the open one
    without this task (monitoring.services.waiting). `ordered` holds every human reply after the
    anchor, which is the last one before the message: so the latest of them, or the anchor, is the
    conversation's latest human reply. A period open before the anchor cannot exist once the anchor
    is measured, and the anchor's own measurement (pending or done) sets these again.
    """
    replies = [m.sent_at for m in ordered if m.direction == Message.Direction.OUT]
    replied_at = max(replies) if replies else anchor_at
    open_since = bursts[-1].messages[0].sent_at if bursts and bursts[-1].reply is None else None
    return ConversationWait(conversation_id=conversation.pk, open_period_since=open_since, measured_reply_at=replied_at)


def _reconcile(
    *,
    conversation: Conversation,
    policy: ShopPolicy,
    bursts: list[Burst],
    existing: list[WaitingPeriod],
    anchor_at: datetime | None,
    replied_before: bool,
    changes: RollupChanges,
    arms: list[WaitingPeriod],
    ahead: RowsAhead | None,
) -> None:
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
        if ahead is not None:
            ahead.measurements = {k: m for k, m in ahead.measurements.items() if m.waiting_period_id != period.pk}
        logger.info("period.merged period=%s conversation=%s", period.pk, conversation.pk)
        period.delete()

    replies_in_window: set[int] = set()
    for index, burst in enumerate(bursts):
        kind = period_kind(index=index, replied_before=replied_before)
        period = _period_apply(
            conversation=conversation,
            policy=policy,
            burst=burst,
            kind=kind,
            period=matched.get(index),
            arms=arms,
            ahead=ahead,
        )
        if burst.reply is not None:
            replies_in_window.add(burst.reply.pk)
            _reply_measure(period=period, burst=burst, conversation=conversation, changes=changes, ahead=ahead)

    # A reply that no longer ends a period (an earlier reply arrived late) is a follow-up now.
    if ahead is not None:
        for measurement in ahead.measurements.values():
            if (
                measurement.conversation_id == conversation.pk
                and measurement.message_id not in replies_in_window
                and (anchor_at is None or measurement.replied_at > anchor_at)
            ):
                ahead.stale.append(measurement)
                changes.old.append(MeasurementSnapshot.of(measurement))
        return
    stale = ReplyMeasurement.objects.filter(conversation=conversation).exclude(message_id__in=replies_in_window)
    if anchor_at is not None:
        stale = stale.filter(replied_at__gt=anchor_at)
    changes.deleted(queryset=stale)


def _period_apply(
    *,
    conversation: Conversation,
    policy: ShopPolicy,
    burst: Burst,
    kind: str,
    period: WaitingPeriod | None,
    arms: list[WaitingPeriod],
    ahead: RowsAhead | None,
) -> WaitingPeriod:
    first = burst.messages[0]
    started_at = first.sent_at
    target, deadline, warn_at = period_due_moments(policy, kind, started_at)
    reply = burst.reply
    values: dict[str, object] = {
        "first_message_id": first.pk,
        "kind": kind,
        "started_at": started_at,
        "target_seconds": target,
        "deadline_at": deadline,
        "warn_at": warn_at,
        "ended_at": reply.sent_at if reply else None,
        "reply_id": reply.pk if reply else None,
        "response_seconds": (reply.sent_at - started_at).total_seconds() if reply else None,
        "response_business_seconds": (
            business_seconds_between(started_at, reply.sent_at, policy.business_hours, policy.timezone)
            if reply
            else None
        ),
    }
    if period is None and ahead is not None:
        period = WaitingPeriod(shop_id=conversation.shop_id, conversation=conversation, **values)
        ahead.new_periods.append(period)  # inserted (and logged) by ahead.flush()
        rearm = reply is None
    elif period is None:
        period = WaitingPeriod.objects.create(shop_id=conversation.shop_id, conversation=conversation, **values)
        logger.info("period.opened period=%s conversation=%s kind=%s", period.pk, conversation.pk, kind)
        rearm = reply is None
    else:
        changed = [name for name, value in values.items() if getattr(period, name) != value]
        rearm = reply is None and bool({"deadline_at", "warn_at", "ended_at"} & set(changed))
        for name in changed:
            setattr(period, name, values[name])
        if changed:
            period.save(update_fields=[*changed, "updated_at"])
    if rearm:
        arms.append(period)
    return period


def _reply_measure(
    *, period: WaitingPeriod, burst: Burst, conversation: Conversation, changes: RollupChanges, ahead: RowsAhead | None
) -> None:
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
    # Judged with the follow-ups that complete it (monitoring.services.tone_runs).
    run = reply_run(reply=reply)
    verdict = run_judge(
        customer=[m.text for m in burst.messages if m.text],
        run=run,
        conversation=conversation,
        started_at=period.started_at,
    )
    if verdict is not None:
        values.update(terse=bool(verdict.terse), terse_score=float(verdict.score), terse_reasons=list(verdict.reasons))
    if ahead is not None:
        previous = ahead.measurements.get(reply.pk)
    else:
        previous = ReplyMeasurement.objects.filter(message=reply).first()
    old = MeasurementSnapshot.of(previous) if previous is not None else None
    # The conversation's row lock (held by the caller) serializes every measurement of this reply,
    # so a plain insert or an update of what changed replaces update_or_create's savepoints.
    created = previous is None
    if previous is None and ahead is not None:
        measurement = ReplyMeasurement(message=reply, **values)
        measurement.waiting_period = period  # its id once ahead.flush() has inserted a new period
        ahead.new_measurements.append(measurement)
    elif previous is None:
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
    if ahead is None or period.pk in ahead.alerted:
        slow_alerts_resolve(period=period, latency_seconds=period.response_seconds)
    tone_outcome(conversation=conversation, reply=reply, run=run, verdict=verdict)
