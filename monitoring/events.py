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

event_type_register(
    EventType(
        name=ALERT_CREATED,
        doc="An alert was raised: a customer waited past the reply target, or a reply was curt. "
        "`notify`: whether this member's browser may show a notification for it "
        "(monitoring.notifications.alert_routes); the page coalesces them.",
        payload={"alert": AlertSerializer, "notify": bool},
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


def alert_audience(alert: Alert) -> Audience | None:
    """The coarse audience of an alert without per-member routes: the owners, and the assignee (or
    everyone when nobody is assigned)."""
    if alert.assignee_id is None:
        return None
    return Audience(owners=True, member_ids=(alert.assignee_id,))


def alert_event_publish(alert: Alert, event_type: str, *, members: Sequence[Member] | None = None) -> None:
    """`alert.created` / `alert.updated` to the members `alert_routes` tells of it, after the commit.

    `members`: the shop's members when the caller publishes many alerts of one shop (read once).
    """
    recipients = alert_recipients(alert, members if members is not None else shop_members(alert.shop_id))
    if event_type == ALERT_CREATED:
        # Published even when nobody is told (an empty audience): each alert is one event in the
        # shop's group whatever the routes, which keeps "raised once, published once" checkable.
        by_notify: dict[bool, set[int]] = {True: set()} if not recipients else {}
        for routes, ids in recipients.items():
            by_notify.setdefault(routes.browser, set()).update(ids)
        for notify, group in sorted(by_notify.items()):
            event = event_build(ALERT_CREATED, alert=alert, notify=notify)
            audience = Audience(owners=False, member_ids=tuple(sorted(group)))
            event_publish(shop_id=alert.shop_id, event=event, audience=audience)
        return
    everyone = tuple(sorted({i for group in recipients.values() for i in group}))
    event = event_build(event_type, alert=alert)
    event_publish(shop_id=alert.shop_id, event=event, audience=Audience(owners=False, member_ids=everyone))
