"""At a deadline: the slow-reply alerts of every waiting period due by now, raised together.

The deadline tasks (armed by monitoring.services.deadlines) and the sweep call these services. A
bucket's task raises every period due by its end in batches (`due_slow_alerts_raise`: oldest
deadline first, up to a cap, one transaction each) and then checks one by one what the batches left
in its bucket (`due_slow_alerts_settle`). A single period's check (`period_deadline_check`) is the
path of a far deadline's last step and of a deadline armed after it passed.

Why this cannot deadlock: every writer of a conversation's periods locks the conversation row
first, then the periods (waiting_periods_update, the in-order statement of
monitoring.services.waiting). The batch locks each period together with its conversation in one
statement with SKIP LOCKED, so it never waits for either: a conversation being measured right now,
or a period another batch holds, is skipped and left to its own task, which waits in the usual
order (conversation, then period). The alert INSERT's foreign-key checks take key-share locks on
rows this transaction already holds (the conversation, the period) or that no code locks for update
(the shop, the assignee). A transaction that never waits for a lock cannot be part of a deadlock
cycle.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from inbox.models import Conversation, Message
from monitoring.models import Alert, WaitingPeriod
from monitoring.scheduling import DEADLINES_DUE, task_queue
from monitoring.services.alerts import SLOW_KINDS, slow_alert_raise, slow_alerts_bulk_raise
from monitoring.services.deadlines import DEADLINE_BUCKET_S, deadline_arm, deadline_arm_on_commit
from monitoring.services.periods import waiting_periods_update
from monitoring.services.warnings import due_warnings_settle

logger = logging.getLogger("balas.monitoring")

# Enough to catch up a minute of 10,000 deadlines in a few transactions; small enough that one
# transaction (and the locks it holds on the conversations) stays well under a second.
DEADLINE_BATCH = 500
# A bucket's task raises at most this many batches (a backlog after an outage: the next buckets and
# the sweep go on from there).
_BUCKET_BATCHES = 20


@dataclass
class DeadlineBatch:
    alerts: list[Alert]  # created by this batch
    locked: int  # periods it locked (more than `alerts` when some were alerted meanwhile)


def due_slow_alerts_raise(*, since: datetime | None = None, limit: int | None = None) -> DeadlineBatch:
    """Raise the slow alerts of open, unalerted periods past their deadline (from `since` on).

    Checked under the row locks (PostgreSQL re-evaluates the conditions on the newest version of
    a row it locks, and nobody can change it after that until this commits): the period is still
    open and its deadline, wherever a policy change moved it, is past. Left out: a period whose
    conversation has a human reply since the period began. That reply is not measured yet (its
    measurement would have ended the period); the customer was answered, so the period's own
    check measures it first and never alerts (`_unmeasured_reply_measure`).
    """
    started = time.perf_counter()
    limit = limit or DEADLINE_BATCH
    now = timezone.now()
    replied = Message.objects.filter(
        Message.human_reply_q(), conversation_id=OuterRef("conversation_id"), sent_at__gte=OuterRef("started_at")
    )
    alerted = Alert.objects.filter(waiting_period_id=OuterRef("pk"), kind__in=SLOW_KINDS)
    # Open and due: the partial index waitingperiod_open_deadline, read in deadline order.
    due = WaitingPeriod.objects.filter(ended_at__isnull=True, deadline_at__lte=now)
    if since is not None:
        due = due.filter(deadline_at__gte=since)
    with transaction.atomic():
        periods = list(
            due.filter(~Exists(alerted), ~Exists(replied))
            .select_related("conversation__contact")
            .order_by("deadline_at")
            # NO KEY UPDATE: enough to keep out every writer of these rows (they lock FOR UPDATE),
            # while the key-share locks of inserts that refer to them (the alert's) still pass.
            .select_for_update(of=("self", "conversation"), no_key=True, skip_locked=True)[:limit]
        )
        alerts = slow_alerts_bulk_raise(periods=periods, now=now)
    if periods:
        logger.info(
            "deadline.batch raised=%d locked=%d ms=%.1f",
            len(alerts),
            len(periods),
            (time.perf_counter() - started) * 1000,
        )
    return DeadlineBatch(alerts=alerts, locked=len(periods))


def deadline_bucket_check(*, bucket_end: datetime) -> int:
    """At a bucket's end: raise every period due by now, then, alone, what the batches left in it.

    Left by a batch: periods with a reply not measured yet (measured first, never alerted) and
    periods whose rows another transaction held (the one-period check waits for them). Returns the
    alerts raised.
    """
    if timezone.now() < bucket_end:
        # Fired a hair early: a deadline of this bucket may not be due yet, so come back at its end.
        task_queue(DEADLINES_DUE, (bucket_end.isoformat(),), eta=bucket_end)
        return 0
    # From this bucket on: the buckets before it fired first (a worker fires ETA tasks in order).
    # Breaches first: a period whose warning and deadline share this bucket is past its deadline
    # and gets no warning at all.
    since = bucket_end - timedelta(seconds=DEADLINE_BUCKET_S)
    raised = due_slow_alerts_settle(since=since, until=bucket_end, batches=_BUCKET_BATCHES)
    return raised + due_warnings_settle(since=since, until=bucket_end, batches=_BUCKET_BATCHES)


def due_slow_alerts_settle(
    *, since: datetime | None, until: datetime, batches: int, limit: int = DEADLINE_BATCH
) -> int:
    """Batches of `due_slow_alerts_raise` (from `since`), then alone each period due by `until` they
    left: one with a reply not measured yet (measured first, never alerted) or rows another
    transaction held (the one-period check waits for them). Returns the alerts raised."""
    raised = 0
    for _ in range(batches):
        batch = due_slow_alerts_raise(since=since, limit=limit)
        raised += len(batch.alerts)
        if batch.locked < limit:
            break
    left = WaitingPeriod.objects.filter(ended_at__isnull=True, deadline_at__lte=until)
    if since is not None:
        left = left.filter(deadline_at__gt=since)
    for period_id in list(
        left.exclude(alerts__kind__in=SLOW_KINDS).order_by("deadline_at").values_list("pk", flat=True)[:limit]
    ):
        if period_deadline_check(period_id=period_id) is not None:
            raised += 1
    return raised


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
            Message.human_reply_q(), conversation_id=OuterRef("conversation_id"), sent_at__gte=OuterRef("started_at")
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
