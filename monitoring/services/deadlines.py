"""Arming a waiting period's deadline check, so the slow-reply alert comes at the deadline itself.

One alert per deadline task cost about ten statements, and with 10,000 deadlines in a minute the
worker fell a minute behind; with the alerts raised in batches it still did, running one Celery
task per deadline (about 9 ms each in the worker under that load, most of it Celery's own work and
the read that finds the period alerted already). So deadlines are armed in buckets: one ETA task per
half second of deadlines (`deadline_bucket_arm`, a Redis SET NX per bucket), fired at the bucket's
end, which raises every period due by then (monitoring.services.overdue). An alert is thus raised
at most half a second after its deadline (plus the worker's delay), never before. A deadline that
is far off still goes in per-period steps, and one already past when armed is checked alone at once.
If the broker is down the sweep raises the alert instead.

The warning before the breach (`reply_due_soon`, at the policy's `warn_at_pct` of the target) is
another due moment of the same period, `warn_at`: armed the same way (`warning_arm`, into the same
buckets, whose task raises the warnings due as well) and raised by monitoring.services.warnings.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from monitoring.business_hours import business_deadline, warning_moment
from monitoring.models import ShopPolicy, WaitingPeriod
from monitoring.scheduling import DEADLINE_CHECK, DEADLINES_DUE, WARNING_CHECK, task_queue

logger = logging.getLogger("balas.monitoring")

# Deadlines within this many seconds share one task, fired at the end of their bucket: the most an
# alert waits for its bucket (the lateness target is 2 s at the 99th percentile).
DEADLINE_BUCKET_S = 0.5


def target_seconds(policy: ShopPolicy, kind: str) -> int:
    """The policy's target for a period of this kind (first reply of the conversation, or a later one)."""
    return policy.first_reply_target_s if kind == WaitingPeriod.Kind.FIRST else policy.reply_target_s


def period_deadline(policy: ShopPolicy, kind: str, started_at: datetime) -> tuple[int, datetime]:
    """(target, deadline) of a period of `kind` that started at `started_at`, in business time."""
    target = target_seconds(policy, kind)
    return target, business_deadline(started_at, target, policy.business_hours, policy.timezone)


def period_warn_at(policy: ShopPolicy, started_at: datetime, target: int, deadline: datetime) -> datetime | None:
    """When a period's admins are warned: `warn_at_pct` of the target in business time, or None when
    that is not before the deadline (the breach alert would come first or together: no warning)."""
    return warning_moment(started_at, target, policy.warn_at_pct, deadline, policy.business_hours, policy.timezone)


def period_due_moments(policy: ShopPolicy, kind: str, started_at: datetime) -> tuple[int, datetime, datetime | None]:
    """(target, deadline, warn_at) of a period of `kind` that started at `started_at`."""
    target, deadline = period_deadline(policy, kind, started_at)
    return target, deadline, period_warn_at(policy, started_at, target, deadline)


def warning_arm_on_commit(*, period_id: int, warn_at: datetime | None) -> None:
    if warn_at is not None:
        transaction.on_commit(lambda: warning_arm(period_id=period_id, warn_at=warn_at))


def warning_arm(*, period_id: int, warn_at: datetime) -> None:
    """Schedule the warning check as `deadline_arm` does the deadline's: in the bucket of its moment
    (the bucket's task raises the warnings due too), alone at once when past, in steps when far."""
    now = timezone.now()
    step = timedelta(seconds=settings.BALAS_DEADLINE_ARM_STEP_S)
    bucket_end = deadline_bucket_end(warn_at)
    if warn_at - now > step:
        task_queue(WARNING_CHECK, (period_id, warn_at.isoformat()), eta=now + step)
    elif bucket_end <= now:
        task_queue(WARNING_CHECK, (period_id, warn_at.isoformat()), eta=warn_at)
    else:
        deadline_bucket_arm(bucket_end=bucket_end)


def deadline_arm_on_commit(*, period_id: int, deadline_at: datetime) -> None:
    transaction.on_commit(lambda: deadline_arm(period_id=period_id, deadline_at=deadline_at))


def deadline_arm(*, period_id: int, deadline_at: datetime) -> None:
    """Schedule the deadline check: with the other deadlines of its bucket (half a second), alone if
    the deadline has passed already, or a re-arm step of this period if the deadline is far off.

    Called after the period's commit. A worker holds ETA tasks in memory and the Redis broker
    redelivers any unacknowledged task after its visibility timeout, so no single wait may come
    near it: long waits go in steps.
    """
    now = timezone.now()
    step = timedelta(seconds=settings.BALAS_DEADLINE_ARM_STEP_S)
    bucket_end = deadline_bucket_end(deadline_at)
    if deadline_at - now > step:
        task_queue(DEADLINE_CHECK, (period_id, deadline_at.isoformat()), eta=now + step)
    elif bucket_end <= now:
        # Past (measured late, or a policy change moved it back): its bucket's task may have run
        # already, so it is checked alone, at once.
        task_queue(DEADLINE_CHECK, (period_id, deadline_at.isoformat()), eta=deadline_at)
    else:
        deadline_bucket_arm(bucket_end=bucket_end)


def deadline_bucket_end(deadline_at: datetime) -> datetime:
    """The end of the bucket a deadline falls in: the deadline itself, or up to DEADLINE_BUCKET_S after."""
    return datetime.fromtimestamp(math.ceil(deadline_at.timestamp() / DEADLINE_BUCKET_S) * DEADLINE_BUCKET_S, UTC)


def deadline_bucket_arm(*, bucket_end: datetime) -> None:
    """Queue the bucket's task for its end, unless a deadline armed before did.

    The caller arms after the period's commit and only for a bucket that ends in the future, so the
    task, when it fires, reads the period. If the task cannot be queued, the mark is taken back (the
    next deadline of the bucket tries again) and the sweep raises whatever is left.
    """
    key = f"monitoring:deadline-bucket:{round(bucket_end.timestamp() * 1000)}"
    # Long enough to outlive the bucket: after its end, arming never looks at the key.
    ttl = max(1, math.ceil((bucket_end - timezone.now()).total_seconds())) + 60
    try:
        if not cache.add(key, 1, timeout=ttl):
            return
    except Exception:
        # Redis trouble: queue anyway (a second task for a bucket raises nothing twice).
        logger.warning("deadline.bucket_mark_failed bucket=%s", bucket_end.isoformat(), exc_info=True)
    if not task_queue(DEADLINES_DUE, (bucket_end.isoformat(),), eta=bucket_end):
        try:
            cache.delete(key)
        except Exception:
            logger.warning("deadline.bucket_mark_failed bucket=%s", bucket_end.isoformat(), exc_info=True)


def open_period_deadlines_refresh(*, policy: ShopPolicy) -> int:
    """After a policy change: recompute the open periods' targets and deadlines, re-arm them."""
    changed = 0
    for period in WaitingPeriod.objects.select_for_update().filter(shop_id=policy.shop_id, ended_at__isnull=True):
        target, deadline, warn_at = period_due_moments(policy, period.kind, period.started_at)
        if deadline != period.deadline_at or target != period.target_seconds or warn_at != period.warn_at:
            if deadline != period.deadline_at:
                deadline_arm_on_commit(period_id=period.pk, deadline_at=deadline)
            if warn_at != period.warn_at:
                warning_arm_on_commit(period_id=period.pk, warn_at=warn_at)
            period.deadline_at = deadline
            period.target_seconds = target
            period.warn_at = warn_at
            period.save(update_fields=["deadline_at", "target_seconds", "warn_at", "updated_at"])
            changed += 1
    return changed
