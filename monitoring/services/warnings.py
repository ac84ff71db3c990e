"""The warning before the breach: `reply_due_soon` at the policy's share of a period's target.

The same machinery as the deadline (monitoring.services.overdue), for the period's other due moment
`warn_at`: a bucket's task raises every warning due by its end in batches, then, alone, what the
batches left (rows another transaction held); a far or late moment is checked alone
(`period_warning_check`); the sweep catches whatever a lost task or a worker restart dropped.

Never after the breach: a warning is raised only while the period's deadline is still ahead and the
period has no alert at all (under its row lock, which every path raising the breach takes too), and
`warn_at` is null when the share falls on or after the deadline. Never twice: the unique
(period, kind) index has the last word. Cancelled by a reply: an answered period is ended (or its
reply, not measured yet, exists), and neither is warned.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from inbox.models import Conversation, Message
from monitoring.models import Alert, WaitingPeriod
from monitoring.services.alerts import warning_alerts_bulk_raise
from monitoring.services.deadlines import warning_arm_on_commit

logger = logging.getLogger("balas.monitoring")

WARNING_BATCH = 500


def _warnable(now: datetime) -> QuerySet[WaitingPeriod]:
    """Open periods whose warning moment has come, deadline not yet, with no alert and no reply."""
    replied = Message.objects.filter(
        Message.human_reply_q(), conversation_id=OuterRef("conversation_id"), sent_at__gte=OuterRef("started_at")
    )
    alerted = Alert.objects.filter(waiting_period_id=OuterRef("pk"))
    return WaitingPeriod.objects.filter(
        ended_at__isnull=True, warn_at__isnull=False, warn_at__lte=now, deadline_at__gt=now
    ).filter(~Exists(alerted), ~Exists(replied))


def due_warnings_raise(*, since: datetime | None = None, limit: int = WARNING_BATCH) -> tuple[list[Alert], int]:
    """Raise the warnings due by now (from `since` on) in one transaction; (alerts, periods locked).

    Locked as the deadline batch locks (period with its conversation, SKIP LOCKED: it never waits,
    so it is never part of a deadlock); a skipped period is left to the one-period check.
    """
    now = timezone.now()
    due = _warnable(now)
    if since is not None:
        due = due.filter(warn_at__gte=since)
    with transaction.atomic():
        periods = list(
            due.select_related("conversation__contact")
            .order_by("warn_at")
            .select_for_update(of=("self", "conversation"), no_key=True, skip_locked=True)[:limit]
        )
        alerts = warning_alerts_bulk_raise(periods=periods, now=now)
    return alerts, len(periods)


def due_warnings_settle(*, since: datetime | None, until: datetime, batches: int, limit: int = WARNING_BATCH) -> int:
    """Batches of `due_warnings_raise`, then alone each period due by `until` they left. Returns alerts raised."""
    raised = 0
    for _ in range(batches):
        alerts, locked = due_warnings_raise(since=since, limit=limit)
        raised += len(alerts)
        if locked < limit:
            break
    left = _warnable(timezone.now()).filter(warn_at__lte=until)
    if since is not None:
        left = left.filter(warn_at__gt=since)
    for period_id in list(left.order_by("warn_at").values_list("pk", flat=True)[:limit]):
        if period_warning_check(period_id=period_id) is not None:
            raised += 1
    return raised


def period_warning_check(*, period_id: int, armed_for: datetime | None = None) -> Alert | None:
    """At (or after) a period's warning moment: warn unless answered, alerted, or past the deadline.

    Safe to run any number of times from any path. `armed_for` is the moment a step chain was armed
    for; a chain for a moment a policy change moved stops (the change armed the new one).
    """
    conversation_id = WaitingPeriod.objects.filter(pk=period_id).values_list("conversation_id", flat=True).first()
    if conversation_id is None:
        return None
    with transaction.atomic():
        # Conversation, then period: the order every writer of periods takes them in.
        list(Conversation.objects.select_for_update(no_key=True).filter(pk=conversation_id).values_list("pk"))
        period = (
            WaitingPeriod.objects.select_for_update(of=("self",))
            .select_related("conversation__contact")
            .filter(pk=period_id)
            .first()
        )
        if period is None or period.ended_at is not None or period.warn_at is None:
            return None
        if armed_for is not None and armed_for != period.warn_at:
            return None
        now = timezone.now()
        if now < period.warn_at:
            # Woken by a step before a far moment: wait for the rest.
            warning_arm_on_commit(period_id=period.pk, warn_at=period.warn_at)
            return None
        if not _warnable(now).filter(pk=period.pk).exists():
            return None
        created = warning_alerts_bulk_raise(periods=[period], now=now)
    return created[0] if created else None
