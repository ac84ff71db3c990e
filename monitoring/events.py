"""Monitoring's live event types (declared in inbox.event_schema's registry) and who receives them."""

from __future__ import annotations

from collections.abc import Sequence

from inbox.event_schema import EventType, event_build, event_type_register
from inbox.models import Member
from inbox.realtime import Audience, event_publish
from monitoring.api.serializers import AlertSerializer
from monitoring.models import Alert
from monitoring.notifications import alert_recipients, shop_members

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


def alert_audience(alert: Alert) -> Audience | None:
    """The coarse audience of an alert without per-member routes: the owners, and the assignee (or
    everyone when nobody is assigned)."""
    if alert.assignee_id is None:
        return None
    return Audience(owners=True, member_ids=(alert.assignee_id,))


def alert_event_publish(alert: Alert, event_type: str, *, members: Sequence[Member] | None = None) -> tuple[int, ...]:
    """`alert.created` / `alert.updated` to the members `alert_routes` tells of it, after the commit.

    `members`: the shop's members when the caller publishes many alerts of one shop (read once).
    Returns the ids of the members whose browser may notify them of it.
    """
    recipients = alert_recipients(alert, members if members is not None else shop_members(alert.shop_id))
    # Published even when nobody is told (an empty audience): each change is one event in the
    # shop's group whatever the routes, which keeps "raised once, published once" checkable.
    everyone = tuple(sorted({i for group in recipients.values() for i in group}))
    event = event_build(event_type, alert=alert)
    event_publish(shop_id=alert.shop_id, event=event, audience=Audience(owners=False, member_ids=everyone))
    return tuple(sorted({i for routes, group in recipients.items() if routes.browser for i in group}))
