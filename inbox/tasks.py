"""Celery tasks of the inbox side: they take ids (or nothing), re-fetch, and are idempotent."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from celery.signals import worker_ready

from inbox.services.lost_push import shopee_lost_pushes_ingest

logger = logging.getLogger("balas.inbox")

SHOPEE_LOST_PUSH_POLL = "inbox.tasks.shopee_lost_push_poll"


@shared_task(
    ignore_result=True,
    acks_late=True,
    autoretry_for=(Exception,),
    max_retries=3,
    retry_backoff=10,
    soft_time_limit=120,
    time_limit=150,
)
def shopee_lost_push_poll() -> None:
    """Every few minutes (beat) and at every worker start: store what Shopee could not deliver."""
    shopee_lost_pushes_ingest()


@worker_ready.connect
def _lost_push_poll_at_start(**kwargs: Any) -> None:
    """A worker that starts (after an outage, a deploy) asks Shopee at once for what it missed."""
    try:
        shopee_lost_push_poll.delay()
    except Exception:
        logger.warning("lost_push.queue_failed", exc_info=True)
