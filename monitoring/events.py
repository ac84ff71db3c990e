"""Monitoring's live event types (declared in inbox.event_schema's registry) and who receives them."""

from __future__ import annotations

from inbox.event_schema import EventType, event_build, event_type_register
from inbox.realtime import Audience, event_publish
from monitoring.api.serializers import AlertSerializer
from monitoring.models import Alert

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


def alert_audience(alert: Alert) -> Audience | None:
    """The owners see every alert; an admin sees those on conversations assigned to them or to nobody."""
    if alert.assignee_id is None:
        return None
    return Audience(owners=True, member_ids=(alert.assignee_id,))


def alert_event_publish(alert: Alert, event_type: str) -> None:
    """`alert.created` / `alert.updated` to the alert's audience, after the commit."""
    event_publish(shop_id=alert.shop_id, event=event_build(event_type, alert=alert), audience=alert_audience(alert))
