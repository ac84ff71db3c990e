"""Celery tasks of the monitoring side: they take ids, re-fetch, and are idempotent."""

from __future__ import annotations

import logging

from celery import shared_task

from inbox.models import Message

logger = logging.getLogger("balas.monitoring")


@shared_task(ignore_result=True, max_retries=3, default_retry_delay=5)
def message_measure(message_id: int) -> None:
    """Open or close the waiting period a new message affects (filled in by the monitoring issue)."""
    message = Message.objects.filter(pk=message_id).first()
    if message is None:
        return
    logger.debug("monitoring.message_seen message=%s", message_id)
