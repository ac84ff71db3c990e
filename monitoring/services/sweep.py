"""The periodic safety net: whatever a lost task or a Redis outage dropped, it does late.

It calls exactly the services the tasks call, so its result is the same as if nothing was lost.
A backlog (an outage left more unmeasured messages than one batch) is handed to a chain of
catch-up tasks (monitoring.services.catch_up), each measuring a batch and queueing the next one
before it starts, so every process of the worker pool takes part until the backlog is empty.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Max
from django.utils import timezone

from inbox.models import Message
from monitoring.models import SweepCursor
from monitoring.scheduling import CATCH_UP, task_queue
from monitoring.services.catch_up import CATCH_UP_BATCH, CatchUpResult, messages_catch_up, unmeasured_rows
from monitoring.services.email import alert_emails_flush, due_email_shops
from monitoring.services.overdue import due_slow_alerts_settle
from monitoring.services.warnings import due_warnings_settle

logger = logging.getLogger("balas.monitoring")

_BATCH = 500
# At most this many alert batches per sweep (5,000 alerts), so one run stays well inside its 30 s.
_DEADLINE_BATCHES = 10
_CURSOR = "message_measure"
# The mark of a running catch-up chain, and how long it outlives its last step (a step takes about a second).
_CHAIN_KEY = "monitoring:catch-up-chain"
_CHAIN_MARK_S = 30


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


def unmeasured_messages_measure(*, limit: int = CATCH_UP_BATCH) -> int:
    """Measure messages whose task never ran, e.g. because Redis was down at commit time.

    A cursor (the highest message id below which everything is measured) keeps this scan to new
    rows; messages younger than the grace period are left to their own task. One batch is measured
    here; when the batch is full, a chain of catch-up tasks goes on from its end at once (instead
    of one batch per sweep). The cursor then moves to just before the first message still
    unmeasured or too young to judge.
    """
    return _unmeasured_catch_up(limit=limit).measured


def _unmeasured_catch_up(*, limit: int) -> CatchUpResult:
    cursor, _ = SweepCursor.objects.get_or_create(name=_CURSOR)
    rows = unmeasured_rows(after_id=cursor.value, limit=limit)
    if len(rows) == limit:
        catch_up_chain_start(after_id=rows[-1].pk)
    result = messages_catch_up(rows=rows)
    _cursor_advance(cursor)
    return result


def catch_up_chain_start(*, after_id: int) -> bool:
    """Queue the catch-up of everything unmeasured after `after_id` (each step queues the next),
    unless a chain is running: two chains over the same rows would only wait for each other's locks.

    A running chain keeps a mark in the cache, renewed by every step; a chain whose worker died
    stops renewing it, and the sweep after it lapses starts a new one from the cursor.
    """
    try:
        if not cache.add(_CHAIN_KEY, after_id, timeout=_CHAIN_MARK_S):
            return False
    except Exception:
        # Without the cache (Redis trouble) the broker is likely gone too: the next sweep tries again.
        logger.warning("catch_up.chain_mark_failed", exc_info=True)
    return task_queue(CATCH_UP, (after_id,))


def catch_up_step(*, after_id: int, limit: int = CATCH_UP_BATCH) -> int:
    """One step of the chain: take the next batch, hand what follows it to the next step, measure."""
    rows = unmeasured_rows(after_id=after_id, limit=limit)
    try:
        if len(rows) == limit:
            cache.set(_CHAIN_KEY, rows[-1].pk, timeout=_CHAIN_MARK_S)
        else:
            cache.delete(_CHAIN_KEY)  # the last step: the next backlog starts a new chain
    except Exception:
        logger.warning("catch_up.chain_mark_failed", exc_info=True)
    if len(rows) == limit:
        # Queued before measuring, so the next batch runs beside this one on another process.
        task_queue(CATCH_UP, (rows[-1].pk,))
    return messages_catch_up(rows=rows).measured


def _cursor_advance(cursor: SweepCursor) -> None:
    grace_edge = timezone.now() - timedelta(seconds=settings.BALAS_SWEEP_MEASURE_GRACE_S)
    after = Message.objects.filter(pk__gt=cursor.value).order_by("pk")
    stops = [
        pk
        for pk in (
            after.filter(monitoring_track__isnull=True).values_list("pk", flat=True).first(),
            after.filter(created_at__gt=grace_edge).values_list("pk", flat=True).first(),
        )
        if pk is not None
    ]
    if stops:
        reached = min(stops) - 1
    else:
        reached = after.aggregate(top=Max("pk"))["top"] or cursor.value
    if reached > cursor.value:
        # Two overlapping sweeps only ever move the cursor forward.
        SweepCursor.objects.filter(pk=cursor.pk, value__lt=reached).update(value=reached, updated_at=timezone.now())


def monitoring_sweep() -> SweepResult:
    result = SweepResult()
    # Measure first: a reply whose task was lost must end its period before overdue periods
    # are alerted, and measuring may open periods that are already overdue.
    caught_up = _unmeasured_catch_up(limit=CATCH_UP_BATCH)
    result.messages_measured = caught_up.measured
    result.alerts_raised = caught_up.alerts_raised + overdue_periods_check()
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
