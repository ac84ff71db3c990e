"""Reads of the monitoring side, always scoped to one shop."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from inbox.models import Member, Shop
from monitoring.models import Alert, AlertFeedback, ShopPolicy


def alerts_visible(*, member: Member, kind: str | None = None, state: str | None = None) -> QuerySet[Alert]:
    """The owner sees every alert of the shop but the admins' warnings (`reply_due_soon`); an admin
    sees those on conversations assigned to them or to nobody, and terse alerts about their own
    replies (the rule of monitoring.notifications.eligible, as a query)."""
    alerts = Alert.objects.filter(shop_id=member.shop_id).select_related(
        "conversation__contact",
        "conversation__channel",
        "assignee__user",
        "member__user",
        "acknowledged_by__user",
        "waiting_period",
    )
    if member.is_owner:
        alerts = alerts.exclude(kind=Alert.Kind.REPLY_DUE_SOON)
    else:
        alerts = alerts.filter(
            Q(conversation__assignee=member) | Q(conversation__assignee__isnull=True) | Q(member=member)
        )
    if kind:
        alerts = alerts.filter(kind=kind)
    if state:
        alerts = alerts.filter(state=state)
    return alerts.order_by("-created_at", "-id")


def policy_get(*, shop_id: int) -> ShopPolicy:
    """The shop's reply targets and opening hours; a shop that never set them gets the defaults in its
    own time zone (unsaved: reading writes nothing)."""
    policy = ShopPolicy.objects.filter(shop_id=shop_id).first()
    if policy is not None:
        return policy
    shop_tz = Shop.objects.filter(pk=shop_id).values_list("timezone", flat=True).first() or "Asia/Jakarta"
    return ShopPolicy(shop_id=shop_id, timezone=shop_tz)


def judge_feedback_counts(*, shop_id: int) -> tuple[int, int]:
    """(memang ketus, bukan ketus): the owners' verdicts on the shop's terse alerts, one per alert and owner."""
    counts = AlertFeedback.objects.filter(alert__shop_id=shop_id, alert__kind=Alert.Kind.TERSE_REPLY).aggregate(
        terse=Count("pk", filter=Q(verdict=AlertFeedback.Verdict.TERSE)),
        not_terse=Count("pk", filter=Q(verdict=AlertFeedback.Verdict.NOT_TERSE)),
    )
    return int(counts["terse"]), int(counts["not_terse"])
