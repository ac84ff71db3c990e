"""Reads of the monitoring side, always scoped to one shop."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from inbox.models import Member
from monitoring.models import Alert, ReplyMeasurement, WaitingPeriod


def alerts_visible(*, member: Member, kind: str | None = None, state: str | None = None) -> QuerySet[Alert]:
    """The owner sees every alert of the shop; an admin sees those on conversations assigned to them
    or to nobody, and terse alerts about their own replies."""
    alerts = Alert.objects.filter(shop_id=member.shop_id).select_related(
        "conversation__contact", "conversation__channel", "assignee__user", "member__user", "acknowledged_by__user"
    )
    if not member.is_owner:
        alerts = alerts.filter(
            Q(conversation__assignee=member) | Q(conversation__assignee__isnull=True) | Q(member=member)
        )
    if kind:
        alerts = alerts.filter(kind=kind)
    if state:
        alerts = alerts.filter(state=state)
    return alerts.order_by("-created_at", "-id")


def waiting_periods_of(*, shop_id: int, conversation_id: int) -> QuerySet[WaitingPeriod]:
    return WaitingPeriod.objects.filter(shop_id=shop_id, conversation_id=conversation_id).order_by("started_at", "id")


def measurement_of(*, shop_id: int, message_id: int) -> ReplyMeasurement | None:
    return ReplyMeasurement.objects.filter(shop_id=shop_id, message_id=message_id).first()
