"""The slow-reply alerts of every waiting period due by now, raised together in one transaction.

One alert per deadline task cost about ten statements, and with 10,000 deadlines in a minute the
worker fell a minute behind; with the alerts raised in batches it still did, running one Celery
task per deadline (about 9 ms each in the worker under that load, most of it Celery's own work and
the read that finds the period alerted already). So deadlines are armed in buckets: one ETA task per
half second of deadlines (`deadline_bucket_arm`, a Redis SET NX per bucket), fired at the bucket's
end, which raises every period due by then in batches (`due_slow_alerts_raise`: oldest deadline
first, up to a cap, one transaction each) and then checks one by one what the batches left in its
bucket. An alert is thus raised at most half a second after its deadline (plus the worker's
delay), never before. A deadline that is far off still goes in per-period steps, and one already
past when armed is checked alone at once (monitoring.services.periods.deadline_arm); the sweep
uses the same services.

Why this cannot deadlock: every writer of a conversation's periods locks the conversation row
first, then the periods (waiting_periods_update, the webhook's fast path). The batch locks each
period together with its conversation in one statement with SKIP LOCKED, so it never waits for
either: a conversation being measured right now, or a period another batch holds, is skipped and
left to its own task, which waits in the usual order (conversation, then period). The alert
INSERT's foreign-key checks take key-share locks on rows this transaction already holds (the
conversation, the period) or that no code locks for update (the shop, the assignee). A transaction
that never waits for a lock cannot be part of a deadlock cycle.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core.cache import cache
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from inbox.models import Message
from monitoring.models import Alert, WaitingPeriod
from monitoring.services.alerts import SLOW_KINDS, slow_alerts_bulk_raise
from monitoring.services.periods import human_reply_q, period_deadline_check

logger = logging.getLogger("balas.monitoring")

# Enough to catch up a minute of 10,000 deadlines in a few transactions; small enough that one
# transaction (and the locks it holds on the conversations) stays well under a second.
DEADLINE_BATCH = 500
# Deadlines within this many seconds share one task, fired at the end of their bucket: the most an
# alert waits for its bucket (the lateness target is 2 s at the 99th percentile).
DEADLINE_BUCKET_S = 0.5
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
    check measures it first and never alerts (periods._unmeasured_reply_measure).
    """
    started = time.perf_counter()
    limit = limit or DEADLINE_BATCH
    now = timezone.now()
    replied = Message.objects.filter(
        human_reply_q(), conversation_id=OuterRef("conversation_id"), sent_at__gte=OuterRef("started_at")
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


def deadline_bucket_end(deadline_at: datetime) -> datetime:
    """The end of the bucket a deadline falls in: the deadline itself, or up to DEADLINE_BUCKET_S after."""
    return datetime.fromtimestamp(math.ceil(deadline_at.timestamp() / DEADLINE_BUCKET_S) * DEADLINE_BUCKET_S, UTC)


def deadline_bucket_arm(*, bucket_end: datetime) -> None:
    """Queue the bucket's task for its end, unless a deadline armed before did.

    The caller arms after the period's commit and only for a bucket that ends in the future, so the
    task, when it fires, reads the period. Raises if the task cannot be queued (the caller logs it;
    the sweep raises the alert).
    """
    from monitoring.tasks import deadlines_due

    key = f"monitoring:deadline-bucket:{round(bucket_end.timestamp() * 1000)}"
    # Long enough to outlive the bucket: after its end, arming never looks at the key.
    ttl = max(1, math.ceil((bucket_end - timezone.now()).total_seconds())) + 60
    try:
        if not cache.add(key, 1, timeout=ttl):
            return
    except Exception:
        # Redis trouble: queue anyway (a second task for a bucket raises nothing twice).
        logger.warning("deadline.bucket_mark_failed bucket=%s", bucket_end.isoformat(), exc_info=True)
    try:
        deadlines_due.apply_async((bucket_end.isoformat(),), eta=bucket_end)
    except Exception:
        try:
            cache.delete(key)
        except Exception:
            logger.warning("deadline.bucket_mark_failed bucket=%s", bucket_end.isoformat(), exc_info=True)
        raise


def deadline_bucket_check(*, bucket_end: datetime) -> int:
    """At a bucket's end: raise every period due by now, then, alone, what the batches left in it.

    Left by a batch: periods with a reply not measured yet (measured first, never alerted) and
    periods whose rows another transaction held (the one-period check waits for them). Returns the
    alerts raised.
    """
    from monitoring.tasks import deadlines_due

    if timezone.now() < bucket_end:
        # Fired a hair early: a deadline of this bucket may not be due yet, so come back at its end.
        deadlines_due.apply_async((bucket_end.isoformat(),), eta=bucket_end)
        return 0
    # From this bucket on: the buckets before it fired first (a worker fires ETA tasks in order).
    return due_slow_alerts_settle(
        since=bucket_end - timedelta(seconds=DEADLINE_BUCKET_S), until=bucket_end, batches=_BUCKET_BATCHES
    )


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
