"""Monitoring's live event types (declared in inbox.event_schema's registry) and who receives them."""

from __future__ import annotations

from django.utils import timezone

from inbox.event_schema import EventType, event_build, event_type_register
from inbox.realtime import Audience, event_publish
from monitoring.api.serializers import AlertSerializer
from monitoring.models import Alert
from monitoring.notifications import IN_PAGE, ShopRouting

ALERT_CREATED = "alert.created"
ALERT_UPDATED = "alert.updated"

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
        doc="An alert changed: acknowledged, resolved by the reply, or a curt reply added to it.",
        payload={"alert": AlertSerializer},
    )
)


def alert_audience(alert: Alert, *, routing: ShopRouting | None = None, created: bool = False) -> Audience:
    """Who gets the event: the members the alert may reach (monitoring.notifications.eligible: the
    owners, the conversation's admin or every admin when nobody is assigned; a warning only the
    admins), and for a new alert only those whose preferences put its kind in the page (`in_page`).

    Changes (acknowledged, resolved) go to everyone it may reach, so every open list stays right.
    """
    routing = routing if routing is not None and routing.shop_id == alert.shop_id else ShopRouting.load(alert.shop_id)
    if created:
        members = routing.recipients(alert, IN_PAGE, timezone.now())
    else:
        members = routing.eligible_ids(alert)
    return Audience(owners=False, member_ids=tuple(members))


def alert_event_publish(alert: Alert, event_type: str, *, routing: ShopRouting | None = None) -> None:
    """`alert.created` / `alert.updated` to the alert's audience, after the commit."""
    audience = alert_audience(alert, routing=routing, created=event_type == ALERT_CREATED)
    event_publish(shop_id=alert.shop_id, event=event_build(event_type, alert=alert), audience=audience)
