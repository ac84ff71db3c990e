"""Celery tasks of the monitoring side: they take ids, re-fetch, and are idempotent.

`acks_late` is used only where running twice is harmless (everything except e-mail sending),
so a worker killed mid-task lets the broker hand the task to another worker.
"""

from __future__ import annotations

import logging
from datetime import datetime

from celery import shared_task

from inbox.models import Message
from monitoring.services.deadlines import deadline_bucket_check
from monitoring.services.email import alert_emails_flush
from monitoring.services.periods import period_deadline_check, waiting_periods_update
from monitoring.services.sweep import monitoring_sweep

logger = logging.getLogger("balas.monitoring")

_RETRY = {"autoretry_for": (Exception,), "max_retries": 3, "retry_backoff": 2, "retry_backoff_max": 30}


@shared_task(ignore_result=True, acks_late=True, **_RETRY)
def message_measure(message_id: int) -> None:
    """Open, close or correct the waiting period a new (or newly sent) message affects."""
    message = Message.objects.filter(pk=message_id).first()
    if message is None:
        return
    waiting_periods_update(message=message)


@shared_task(ignore_result=True, acks_late=True, **_RETRY)
def deadline_check(period_id: int, armed_for: str | None = None) -> None:
    """Fired at a waiting period's deadline (or at a re-arm step before a far deadline)."""
    deadline = datetime.fromisoformat(armed_for) if armed_for else None
    alert = period_deadline_check(period_id=period_id, armed_for=deadline)
    if alert is not None:
        logger.info("deadline.alert period=%s alert=%s", period_id, alert.pk)


@shared_task(ignore_result=True, acks_late=True, **_RETRY)
def deadlines_due(bucket_end: str) -> None:
    """Fired at the end of a half-second bucket of deadlines: raise every period due by then."""
    raised = deadline_bucket_check(bucket_end=datetime.fromisoformat(bucket_end))
    if raised:
        logger.info("deadline.bucket bucket=%s raised=%d", bucket_end, raised)


@shared_task(ignore_result=True, **_RETRY)
def alert_email_send(shop_id: int) -> None:
    """E-mail the shop's new alerts now, or queue the summary for the throttle window's end."""
    alert_emails_flush(shop_id=shop_id, retry_failed=False)


@shared_task(ignore_result=True, acks_late=True, expires=25)
def sweep() -> None:
    """Every 30 s (beat): overdue periods, unmeasured messages, e-mails that are due."""
    monitoring_sweep()
