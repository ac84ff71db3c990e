"""Celery tasks of the monitoring side: they take ids, re-fetch, and are idempotent.

Nothing here is imported by a service: services queue these by name (monitoring.scheduling).
`acks_late` is used only where running twice is harmless (everything except e-mail sending),
so a worker killed mid-task lets the broker hand the task to another worker. Every family has a
soft and a hard time limit: a stuck task (a lock that never comes, a mail server that never
answers) gives its worker back instead of holding it forever; the soft limit raises inside the
task, its transaction rolls back, and the bounded retries or the sweep do the work again.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from celery import shared_task

from inbox.models import Message
from monitoring.services.browser_notify import browser_notify_flush as browser_notify_flush_service
from monitoring.services.email import alert_emails_flush
from monitoring.services.notifications import digests_send
from monitoring.services.overdue import deadline_bucket_check, period_deadline_check
from monitoring.services.periods import waiting_periods_update
from monitoring.services.push import push_send as push_deliver
from monitoring.services.sweep import monitoring_sweep
from monitoring.services.tone_runs import reply_tone_settle as tone_reply_settle
from monitoring.services.warnings import period_warning_check

logger = logging.getLogger("balas.monitoring")

_RETRY: dict[str, Any] = {"autoretry_for": (Exception,), "max_retries": 3, "retry_backoff": 2, "retry_backoff_max": 30}

# Seconds (soft, hard) per family. Measuring one message takes milliseconds; a deadline bucket after
# an outage raises up to 20 batches of 500 alerts; an e-mail waits on SMTP; the sweep does at most
# 500 measurements and 10 alert batches, and runs every 30 s.
TIME_LIMITS: dict[str, tuple[int, int]] = {
    "measure": (30, 60),
    "deadlines": (60, 90),
    "email": (60, 90),
    "sweep": (120, 150),
    "push": (20, 30),
}


def _limits(family: str) -> dict[str, int]:
    soft, hard = TIME_LIMITS[family]
    return {"soft_time_limit": soft, "time_limit": hard}


@shared_task(ignore_result=True, acks_late=True, **_RETRY, **_limits("measure"))
def message_measure(message_id: int) -> None:
    """Open, close or correct the waiting period a new (or newly sent) message affects."""
    message = Message.objects.filter(pk=message_id).first()
    if message is None:
        return
    waiting_periods_update(message=message)


@shared_task(ignore_result=True, acks_late=True, **_RETRY, **_limits("deadlines"))
def deadline_check(period_id: int, armed_for: str | None = None) -> None:
    """Fired at a waiting period's deadline (or at a re-arm step before a far deadline)."""
    deadline = datetime.fromisoformat(armed_for) if armed_for else None
    alert = period_deadline_check(period_id=period_id, armed_for=deadline)
    if alert is not None:
        logger.info("deadline.alert period=%s alert=%s", period_id, alert.pk)


@shared_task(ignore_result=True, acks_late=True, **_RETRY, **_limits("deadlines"))
def warning_check(period_id: int, armed_for: str | None = None) -> None:
    """Fired at a period's warning moment when it is checked alone (past when armed, or a far step)."""
    moment = datetime.fromisoformat(armed_for) if armed_for else None
    alert = period_warning_check(period_id=period_id, armed_for=moment)
    if alert is not None:
        logger.info("warning.alert period=%s alert=%s", period_id, alert.pk)


@shared_task(ignore_result=True, acks_late=True, **_RETRY, **_limits("deadlines"))
def deadlines_due(bucket_end: str) -> None:
    """Fired at the end of a half-second bucket of deadlines: raise every period due by then."""
    raised = deadline_bucket_check(bucket_end=datetime.fromisoformat(bucket_end))
    if raised:
        logger.info("deadline.bucket bucket=%s raised=%d", bucket_end, raised)


@shared_task(ignore_result=True, **_RETRY, **_limits("email"))
def alert_email_send(shop_id: int) -> None:
    """E-mail the shop's new alerts now, or queue the summary for the throttle window's end."""
    alert_emails_flush(shop_id=shop_id, retry_failed=False)


# Not acks_late: a push delivered twice is a second notification on the owner's phone.
@shared_task(ignore_result=True, **_RETRY, **_limits("push"))
def push_send(subscription_id: int, alert_id: int) -> None:
    """One alert to one browser's Web Push subscription (a 404/410 from the push service deletes it)."""
    push_deliver(subscription_id=subscription_id, alert_id=alert_id)


@shared_task(ignore_result=True, expires=55, **_limits("email"))
def notification_digests() -> None:
    """Every minute (beat): the members' e-mail digests that are due."""
    sent = digests_send()
    if sent:
        logger.info("notifications.digests sent=%d", sent)


@shared_task(ignore_result=True, **_limits("email"))
def browser_notify_flush(member_id: int) -> None:
    """One coalesced browser notification for the member (monitoring.services.browser_notify)."""
    browser_notify_flush_service(member_id=member_id)


@shared_task(ignore_result=True, acks_late=True, expires=25, **_limits("sweep"))
def sweep() -> None:
    """Every 30 s (beat): overdue periods, unmeasured messages, e-mails that are due."""
    monitoring_sweep()


@shared_task(ignore_result=True, acks_late=True, **_RETRY, **_limits("measure"))
def reply_tone_settle(message_id: int) -> None:
    """At the end of a terse reply's follow-up window: judge the run again, raise or withdraw its alert."""
    tone_reply_settle(message_id=message_id)
