"""Monitoring's live event types (declared in inbox.event_schema's registry) and who receives them."""

from __future__ import annotations

from django.utils import timezone

from inbox.event_schema import EventType, event_build, event_type_register
from inbox.realtime import Audience, event_publish
from monitoring.api.serializers import AlertSerializer
from monitoring.models import Alert
from monitoring.notifications import ShopRouting, alert_recipients

ALERT_CREATED = "alert.created"
ALERT_UPDATED = "alert.updated"
NOTIFICATION_CREATED = "notification.created"

event_type_register(
    EventType(
        name=ALERT_CREATED,
        doc="An alert was raised: a customer waited past the reply target, or a reply was curt.",
        payload={"alert": AlertSerializer},
    )
)
event_type_register(
    EventType(
        name=ALERT_UPDATED,
        doc="An alert changed: acknowledged (one, a conversation's or many at once: one event each), "
        "resolved by the reply, or a curt reply added to it.",
        payload={"alert": AlertSerializer},
    )
)

event_type_register(
    EventType(
        name=NOTIFICATION_CREATED,
        doc="Show one browser notification (to one member): `count` alerts arrived since the last one "
        "(at most one per BALAS_ALERT_NOTIFY_INTERVAL_S); `conversation_id` when they are all of one "
        "conversation, else 0; `title` of the alert when there is one; `names`: their customers. "
        "`key` is the same in every tab, which show it once per browser.",
        payload={"key": str, "count": int, "conversation_id": int, "title": str, "names": str},
    )
)


def alert_audience(alert: Alert, *, routing: ShopRouting | None = None, created: bool = False) -> Audience:
    """Who gets the event: the members the alert may reach (monitoring.notifications.eligible: the
    owners, the conversation's admin or every admin when nobody is assigned; a warning only the
    admins), and for a new alert only those whose preferences put its kind in the page (`in_page`).

    Changes (acknowledged, resolved) go to everyone it may reach, so every open list stays right.
    """
    audience, _browser = _alert_audience(alert, routing=routing, created=created)
    return audience


def _alert_audience(alert: Alert, *, routing: ShopRouting | None, created: bool) -> tuple[Audience, tuple[int, ...]]:
    routing = routing if routing is not None and routing.shop_id == alert.shop_id else ShopRouting.load(alert.shop_id)
    recipients = alert_recipients(alert, routing, timezone.now())
    told = (ids for routes, ids in recipients.items() if routes.in_page or not created)
    members = tuple(sorted({i for ids in told for i in ids}))
    browser = tuple(sorted({i for routes, ids in recipients.items() if routes.browser for i in ids}))
    return Audience(owners=False, member_ids=members), browser


def alert_event_publish(alert: Alert, event_type: str, *, routing: ShopRouting | None = None) -> tuple[int, ...]:
    """`alert.created` / `alert.updated` to the alert's audience, after the commit.

    `routing`: the shop's, when the caller publishes many alerts of one shop (read once). Returns
    the ids of the members whose `browser` route takes a new alert now (quiet hours held back):
    monitoring.services.browser_notify arms their coalesced notification.
    """
    created = event_type == ALERT_CREATED
    audience, browser = _alert_audience(alert, routing=routing, created=created)
    # Published even when nobody is told (an empty audience): each change is one event in the
    # shop's group whatever the routes, which keeps "raised once, published once" checkable.
    event_publish(shop_id=alert.shop_id, event=event_build(event_type, alert=alert), audience=audience)
    return browser if created else ()
