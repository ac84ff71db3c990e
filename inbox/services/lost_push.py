"""Pushes Shopee could not deliver, fetched from its lost-push API and stored as the webhook stores them.

Shopee retries a push that got no 2xx three times (after 5 min, 30 min and 3 h) and then keeps it
for 3 days in its lost-push list. Balas reads that list on a schedule (beat) and whenever a worker
starts (inbox/tasks.py), per partner (the partner id and key of the Shopee channels), page by page:
each entry is stored through the webhook's own path (the adapter's account ids and parse, the active
channel, `deliveries_ingest`), so a push that also arrived by webhook is stored once (the unique
platform message id), and only once every entry of a page is stored is the page confirmed
(`confirm_consumed_lost_push_message`): a database failure leaves it with Shopee for the next poll.
An entry that is not a push Balas can read, or names no channel of ours, is logged and confirmed
(it would otherwise block every later one for 3 days).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from inbox.adapters import get_adapter
from inbox.adapters.base import ParsedEvent, PayloadError
from inbox.adapters.shopee import LostPushEntry, lost_push_confirm, lost_push_fetch
from inbox.models import Channel, Platform
from inbox.selectors import webhook_channels
from inbox.services.ingest import deliveries_ingest

logger = logging.getLogger("balas.inbox")

# Pages of 100 per partner and poll: 5,000 pushes; the next poll goes on from there.
_MAX_PAGES = 50


@dataclass
class LostPushResult:
    partners: int = 0
    entries: int = 0  # entries read
    stored: int = 0  # stored through the webhook path (duplicates of delivered pushes included)
    skipped: int = 0  # unreadable, or for no channel of ours
    confirmed_pages: int = 0


def shopee_lost_pushes_ingest() -> LostPushResult:
    """Fetch, store and confirm every lost push of every Shopee partner Balas has a channel for."""
    result = LostPushResult()
    partners: dict[str, str] = {}
    for channel in Channel.objects.filter(platform=Platform.SHOPEE, is_active=True).order_by("pk"):
        partner_id = str(channel.secrets.get("partner_id", "") or "")
        partner_key = str(channel.secrets.get("partner_key", "") or "")
        if partner_id and partner_key:
            partners.setdefault(partner_id, partner_key)
    for partner_id, partner_key in partners.items():
        result.partners += 1
        _partner_drain(partner_id=partner_id, partner_key=partner_key, result=result)
    if result.entries:
        logger.info(
            "lost_push.done partners=%d entries=%d stored=%d skipped=%d",
            result.partners,
            result.entries,
            result.stored,
            result.skipped,
        )
    return result


def _partner_drain(*, partner_id: str, partner_key: str, result: LostPushResult) -> None:
    for _ in range(_MAX_PAGES):
        page = lost_push_fetch(partner_id=partner_id, partner_key=partner_key)
        if not page.entries:
            return  # nothing to confirm: an empty page is never confirmed
        for entry in page.entries:
            result.entries += 1
            if lost_push_store(entry=entry):
                result.stored += 1
            else:
                result.skipped += 1
        if page.last_message_id is not None:
            lost_push_confirm(partner_id=partner_id, partner_key=partner_key, last_message_id=page.last_message_id)
            result.confirmed_pages += 1
        if not page.has_next_page:
            return


def lost_push_store(*, entry: LostPushEntry) -> bool:
    """Store one lost push as the webhook would have; False when it is unreadable or for no channel.

    A database failure raises (the page then stays unconfirmed with Shopee).
    """
    adapter = get_adapter(Platform.SHOPEE)
    payload = entry.payload
    try:
        account_ids = adapter.account_ids(payload)
    except PayloadError as exc:
        logger.warning("lost_push.unreadable msg_id=%s error=%s", entry.msg_id, exc)
        return False
    channels = webhook_channels(platform=adapter.platform, account_ids=account_ids, cached=False)
    if not channels:
        logger.warning("lost_push.unknown_account msg_id=%s", entry.msg_id)
        return False
    deliveries: list[tuple[Channel, ParsedEvent]] = []
    for channel in channels:
        try:
            event = adapter.parse(payload=payload, account_id=channel.account_id, secrets=channel.secrets)
        except PayloadError as exc:
            logger.warning("lost_push.unreadable msg_id=%s error=%s", entry.msg_id, exc)
            return False
        if event.errors:
            # As the webhook does: what could be read is stored, the rest is kept as the reasons.
            event = ParsedEvent(
                messages=event.messages,
                statuses=event.statuses,
                ignored=event.ignored + tuple(f"invalid: {e}" for e in event.errors),
            )
        deliveries.append((channel, event))
    deliveries_ingest(deliveries=deliveries, raw_body=entry.raw)
    logger.info("lost_push.stored msg_id=%s", entry.msg_id)
    return True
