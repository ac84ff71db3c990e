"""The periodic safety net: whatever a lost task or a Redis outage dropped, it does late.

It calls exactly the services the tasks call, so its result is the same as if nothing was lost.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import OperationalError
from django.utils import timezone

from inbox.models import Message
from monitoring.models import SweepCursor
from monitoring.services.email import alert_emails_flush, due_email_shops
from monitoring.services.overdue import due_slow_alerts_settle
from monitoring.services.periods import waiting_periods_update
from monitoring.services.warnings import due_warnings_settle

logger = logging.getLogger("balas.monitoring")

_BATCH = 500
# At most this many alert batches per sweep (5,000 alerts), so one run stays well inside its 30 s.
_DEADLINE_BATCHES = 10
_CURSOR = "message_measure"


@dataclass
class SweepResult:
    alerts_raised: int = 0
    messages_measured: int = 0
    alerts_emailed: int = 0


def overdue_periods_check(*, limit: int = _BATCH) -> int:
    """Raise the alert of every open period past its deadline that has none.

    In batches, as the deadline tasks do; then one by one what the batches leave: periods whose
    reply is not measured yet (measured first, never alerted) and periods locked at that moment.
    """
    return due_slow_alerts_settle(since=None, until=timezone.now(), batches=_DEADLINE_BATCHES, limit=limit)


def unmeasured_messages_measure(*, limit: int = _BATCH) -> int:
    """Measure messages whose task never ran, e.g. because Redis was down at commit time.

    A cursor (the highest message id below which everything is measured) keeps this scan to
    new rows; messages younger than the grace period are left to their own task. Each message is
    measured in its own transaction: a sweep that kept every conversation it measured locked until
    its end deadlocked with the measuring tasks over the shared rollup rows (a message then stayed
    unmeasured for good). A transient database error (a deadlock, a serialization failure) holds
    the cursor before that message, so the next sweep tries it again; any other error is logged
    and passed over, so one bad row cannot stall every message after it.
    """
    grace_edge = timezone.now() - timedelta(seconds=settings.BALAS_SWEEP_MEASURE_GRACE_S)
    cursor, _ = SweepCursor.objects.get_or_create(name=_CURSOR)
    rows = list(
        Message.objects.filter(pk__gt=cursor.value)
        .order_by("pk")
        .values_list("pk", "created_at", "monitoring_track__message_id")[:limit]
    )
    measured = 0
    reached = cursor.value
    held = False
    for pk, created_at, tracked in rows:
        if created_at > grace_edge:
            break
        if tracked is None:
            message = Message.objects.filter(pk=pk).first()
            try:
                if message is not None:
                    waiting_periods_update(message=message)
                    measured += 1
                    logger.info("sweep.measured message=%s", pk)
            except OperationalError:
                logger.warning("sweep.measure_retry message=%s", pk, exc_info=True)
                held = True
            except Exception:
                logger.exception("sweep.measure_failed message=%s", pk)
        if not held:
            reached = pk
    if reached > cursor.value:
        # Two overlapping sweeps only ever move the cursor forward.
        SweepCursor.objects.filter(pk=cursor.pk, value__lt=reached).update(value=reached, updated_at=timezone.now())
    return measured


def monitoring_sweep() -> SweepResult:
    result = SweepResult()
    # Measure first: a reply whose task was lost must end its period before overdue periods
    # are alerted, and measuring may open periods that are already overdue.
    result.messages_measured = unmeasured_messages_measure()
    result.alerts_raised = overdue_periods_check()
    # Warnings whose task was lost (a worker restart, the broker down); a deadline passed meanwhile
    # has its breach by now and no warning.
    result.alerts_raised += due_warnings_settle(since=None, until=timezone.now(), batches=_DEADLINE_BATCHES)
    for shop_id in due_email_shops():
        try:
            result.alerts_emailed += alert_emails_flush(shop_id=shop_id)
        except Exception:
            # One shop's failure must not stop the other shops' e-mails (or this run's log line).
            logger.exception("sweep.email_failed shop=%s", shop_id)
    if result.alerts_raised or result.messages_measured or result.alerts_emailed:
        logger.info(
            "sweep.done raised=%d measured=%d emailed=%d",
            result.alerts_raised,
            result.messages_measured,
            result.alerts_emailed,
        )
    return result
