"""Browser notifications, coalesced per member: at most one per `BALAS_ALERT_NOTIFY_INTERVAL_S`,
summarising every alert that arrived for the member since the previous one.

A new alert arms one flush per member (a Redis mark, like the deadline buckets): at the end of a
short gathering delay, or when the member's interval since the last notification is over,
whichever is later. The flush (monitoring.tasks.browser_notify_flush) reads what arrived since the
last flush, still open and still routed to the browser by the member's preferences
(monitoring.notifications.alert_routes: the `browser` route of the kind, outside quiet hours now and
when the alert arrived: what quiet hours held back is not told later, as with Web Push), and
publishes one `notification.created` to that member: every tab and device of the member receives it, and
static/js/alerts.js shows it once per browser. Web Push can be sent from the same flush.

Best effort like the rest of the live path: with Redis or the broker down no notification goes
out (the bar, the badge and the list still show every alert).
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from inbox.event_schema import event_build
from inbox.models import Member
from inbox.realtime import Audience, event_publish
from monitoring.events import NOTIFICATION_CREATED
from monitoring.models import Alert
from monitoring.notifications import alert_routes, member_routing
from monitoring.scheduling import BROWSER_NOTIFY_FLUSH, task_queue
from monitoring.selectors import alerts_visible

logger = logging.getLogger("balas.monitoring")

_DAY_S = 24 * 3600


def _interval_s() -> float:
    return float(getattr(settings, "BALAS_ALERT_NOTIFY_INTERVAL_S", 60))


def _gather_s() -> float:
    return float(getattr(settings, "BALAS_ALERT_NOTIFY_GATHER_S", 2.0))


def _key(kind: str, member_id: int) -> str:
    return f"monitoring:notify:{kind}:{member_id}"


def browser_notify_arm_on_commit(*, alert: Alert, member_ids: Iterable[int]) -> None:
    """After the alert's commit, arm the flush of each member its browser route reaches."""
    ids = tuple(member_ids)
    if ids:
        created_at = alert.created_at
        transaction.on_commit(lambda: browser_notify_arm(member_ids=ids, arrived_at=created_at))


def browser_notify_arm(*, member_ids: Iterable[int], arrived_at: datetime | None = None) -> None:
    """Queue each member's flush unless one is armed already."""
    now = timezone.now()
    since = (arrived_at or now) - timedelta(milliseconds=1)
    for member_id in member_ids:
        try:
            last_sent = cache.get(_key("sent", member_id))
            due = now + timedelta(seconds=_gather_s())
            if last_sent is not None:
                due = max(due, datetime.fromtimestamp(float(last_sent), UTC) + timedelta(seconds=_interval_s()))
            ttl = math.ceil((due - now).total_seconds()) + 60
            # The mark holds where this window starts when no earlier flush left a watermark.
            if not cache.add(_key("armed", member_id), since.timestamp(), timeout=ttl):
                continue
        except Exception:
            logger.warning("alerts.notify_arm_failed member=%s", member_id, exc_info=True)
            continue
        if not task_queue(BROWSER_NOTIFY_FLUSH, (member_id,), eta=due):
            try:
                cache.delete(_key("armed", member_id))
            except Exception:
                logger.warning("alerts.notify_arm_failed member=%s", member_id, exc_info=True)


def browser_notify_flush(*, member_id: int) -> list[Alert]:
    """Publish one `notification.created` to the member for what arrived since the last flush; returns those alerts."""
    now = timezone.now()
    try:
        armed_since = cache.get(_key("armed", member_id))
        watermark = cache.get(_key("watermark", member_id))
        # The watermark first, then the mark: an alert arriving from here on arms the next flush,
        # which starts where this one ends.
        cache.set(_key("watermark", member_id), now.timestamp(), timeout=_DAY_S)
        cache.delete(_key("armed", member_id))
    except Exception:
        logger.warning("alerts.notify_flush_failed member=%s", member_id, exc_info=True)
        return []
    member = Member.objects.select_related("user").filter(pk=member_id, user__is_active=True).first()
    starts = [float(v) for v in (watermark, armed_since) if v is not None]
    if member is None or not starts:
        return []
    since = datetime.fromtimestamp(min(starts) if watermark is None else float(watermark), UTC)
    routing = member_routing(member)
    if routing.quiet_at(now):
        return []
    arrived = [
        alert
        for alert in alerts_visible(member=member, state=Alert.State.OPEN).filter(
            created_at__gt=since, created_at__lte=now
        )
        if alert_routes(member=member, alert=alert, routing=routing, moment=now).browser
        and not routing.quiet_at(alert.created_at)
    ]
    if not arrived:
        return []
    try:
        cache.set(_key("sent", member_id), now.timestamp(), timeout=_DAY_S)
    except Exception:
        # Sent anyway: the next one may come before the interval is over.
        logger.warning("alerts.notify_flush_failed member=%s", member_id, exc_info=True)
    conversations = {a.conversation_id for a in arrived}
    names: list[str] = []
    for alert in arrived:
        contact = alert.conversation.contact
        name = contact.name or contact.external_id
        if name not in names:
            names.append(name)
    event = event_build(
        NOTIFICATION_CREATED,
        key=f"{member_id}-{uuid.uuid4().hex[:12]}",
        count=len(arrived),
        conversation_id=next(iter(conversations)) if len(conversations) == 1 else 0,
        title=arrived[0].title if len(arrived) == 1 else "",
        names=", ".join(names[:4]) + ("…" if len(names) > 4 else ""),
    )
    event_publish(shop_id=member.shop_id, event=event, audience=Audience(owners=False, member_ids=(member_id,)))
    logger.info("alerts.notified member=%s count=%s", member_id, len(arrived))
    return arrived
