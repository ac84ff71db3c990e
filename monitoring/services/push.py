"""Web Push: an alert to the members' subscribed browsers, with no tab of Balas open.

After an alert's commit, `alert_pushes_queue` finds who gets it by Web Push now (preferences,
quiet hours: monitoring.notifications) and queues one `push_send` task per subscription. The task
encrypts the payload for the browser (RFC 8291, aes128gcm) and signs a VAPID JWT (RFC 8292) with
the application server's key (settings VAPID_*), through pywebpush. A push service that answers
404 or 410 says the subscription is gone: it is deleted. Other failures are retried (bounded).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from pywebpush import WebPushException, webpush

from inbox.models import Member
from monitoring.models import Alert, PushSubscription
from monitoring.notifications import WEB_PUSH, ShopRouting
from monitoring.scheduling import PUSH_SEND, task_queue

logger = logging.getLogger("balas.monitoring")

# A push service that takes longer than this is treated as failing (the task retries).
PUSH_TIMEOUT_S = 10.0


def push_enabled() -> bool:
    return bool(settings.VAPID_PUBLIC_KEY and settings.VAPID_PRIVATE_KEY)


def alert_pushes_queue(*, alert_ids: Sequence[int]) -> int:
    """Queue a push per subscription of every member this alert goes to by Web Push now; returns how many."""
    if not alert_ids or not push_enabled():
        return 0
    now = timezone.now()
    alerts = list(Alert.objects.filter(pk__in=alert_ids).order_by("pk"))
    routings: dict[int, ShopRouting] = {}
    queued = 0
    for alert in alerts:
        routing = routings.get(alert.shop_id) or routings.setdefault(alert.shop_id, ShopRouting.load(alert.shop_id))
        members = routing.recipients(alert, WEB_PUSH, now)
        if not members:
            continue
        for subscription_id in PushSubscription.objects.filter(member_id__in=members).values_list("pk", flat=True):
            if task_queue(PUSH_SEND, (subscription_id, alert.pk)):
                queued += 1
    return queued


def push_payload(alert: Alert) -> dict[str, Any]:
    """What the service worker shows (static/sw.js): title, body, the page a click opens, a tag per conversation."""
    return {
        "title": alert.title,
        "body": alert.detail,
        "url": f"/c/{alert.conversation_id}/" if alert.conversation_id else "/alerts/",
        "tag": f"balas-conversation-{alert.conversation_id}",
        "alert_id": alert.pk,
        "kind": alert.kind,
    }


def _vapid_claims(endpoint: str) -> dict[str, str | int]:
    parts = urlsplit(endpoint)
    return {"sub": settings.VAPID_SUBJECT, "aud": f"{parts.scheme}://{parts.netloc}"}


def push_send(*, subscription_id: int, alert_id: int) -> bool:
    """Send one alert to one subscription; False when either is gone (nothing to do).

    Raises on a failure worth retrying (the task's bounded retries); a 404/410 deletes the
    subscription and raises nothing (PushGone is logged, not retried).
    """
    subscription = PushSubscription.objects.filter(pk=subscription_id).first()
    alert = Alert.objects.select_related("conversation").filter(pk=alert_id).first()
    if subscription is None or alert is None or not push_enabled():
        return False
    if not Member.objects.filter(pk=subscription.member_id, user__is_active=True).exists():
        return False
    info = {"endpoint": subscription.endpoint, "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth}}
    try:
        webpush(
            subscription_info=info,
            data=json.dumps(push_payload(alert)),
            vapid_private_key=settings.VAPID_PRIVATE_KEY,
            vapid_claims=_vapid_claims(subscription.endpoint),
            ttl=settings.BALAS_PUSH_TTL_S,
            timeout=PUSH_TIMEOUT_S,
        )
    except WebPushException as exc:
        status = getattr(exc.response, "status_code", None)
        if status in (404, 410):
            with transaction.atomic():
                PushSubscription.objects.filter(pk=subscription_id).delete()
            # The endpoint is a capability URL: logged by id only.
            logger.info("alerts.push_subscription_expired subscription=%s status=%s", subscription_id, status)
            return False
        logger.warning("alerts.push_failed subscription=%s alert=%s status=%s", subscription_id, alert_id, status)
        raise
    PushSubscription.objects.filter(pk=subscription_id).update(last_push_at=timezone.now())
    logger.info("alerts.pushed subscription=%s alert=%s", subscription_id, alert_id)
    return True
