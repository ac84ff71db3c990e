"""inbox's Celery tasks: they take ids (or nothing), re-fetch, return quietly when the row is gone, and are idempotent.

Services queue them by name after the commit (inbox.services.profiles), so no service imports this module.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings

from inbox.adapters import get_adapter
from inbox.adapters.base import SendError
from inbox.models import Contact
from inbox.services.lost_push import shopee_lost_pushes_ingest
from inbox.services.profiles import contact_profile_store

logger = logging.getLogger("balas.contacts")

# A profile API that is down or slow is asked again a few times, further apart each time
# (BALAS_PROFILE_FETCH_BACKOFF_S, doubled per attempt); after that the contact keeps its placeholder.
PROFILE_FETCH_MAX_RETRIES = 4


def _backoff_s(retries: int) -> float:
    base = float(settings.BALAS_PROFILE_FETCH_BACKOFF_S)
    return min(base * (2**retries), 300.0)


@shared_task(
    bind=True,
    ignore_result=True,
    acks_late=True,
    max_retries=PROFILE_FETCH_MAX_RETRIES,
    soft_time_limit=30,
    time_limit=60,
)
def contact_profile_fetch(self: Any, contact_id: int) -> None:
    """Fetch a customer's name and picture from the platform's user-profile API and store them."""
    contact = Contact.objects.select_related("channel").filter(pk=contact_id).first()
    if contact is None:
        return
    if contact.name and contact.avatar_url:
        return  # already known: a repeated task changes nothing
    channel = contact.channel
    try:
        adapter = get_adapter(channel.platform)
    except LookupError:
        return
    if not adapter.supports_profile_fetch:
        return
    try:
        profile = adapter.profile_fetch(
            account_id=channel.account_id, secrets=channel.secrets, contact_external_id=contact.external_id
        )
    except SendError as exc:
        if exc.retryable and self.request.retries < PROFILE_FETCH_MAX_RETRIES:
            logger.info(
                "contacts.profile_fetch_retry contact=%s attempt=%d reason=%s",
                contact_id,
                self.request.retries + 1,
                exc.reason[:200],
            )
            raise self.retry(countdown=_backoff_s(self.request.retries)) from exc
        logger.warning("contacts.profile_fetch_failed contact=%s reason=%s", contact_id, exc.reason[:200])
        return
    contact_profile_store(contact_id=contact_id, profile=profile)


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
