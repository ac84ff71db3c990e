"""Reads of the monitoring side, always scoped to one shop."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet, Sum

from inbox.models import Member, Shop
from monitoring.models import Alert, AlertFeedback, ShopPolicy


def alerts_visible(
    *,
    member: Member,
    kind: str | None = None,
    state: str | None = None,
    assignee: int | str | None = None,
    kinds: list[str] | None = None,
) -> QuerySet[Alert]:
    """The owner sees every alert of the shop but the admins' warnings (`reply_due_soon`); an admin
    sees those on conversations assigned to them or to nobody, and terse alerts about their own
    replies (the rule of monitoring.notifications.eligible, as a query; alert_may_see is it for one
    alert). `assignee`: a member id, or "none" for unassigned conversations; `kinds`: only those
    (the member's in-page kinds, monitoring.notifications.in_page_kinds)."""
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
    if kinds is not None:
        alerts = alerts.filter(kind__in=kinds)
    if state:
        alerts = alerts.filter(state=state)
    if assignee == "none":
        alerts = alerts.filter(conversation__assignee__isnull=True)
    elif assignee is not None:
        alerts = alerts.filter(conversation__assignee_id=int(assignee))
    return alerts.order_by("-created_at", "-id")


@dataclass(frozen=True)
class OpenAlertSummary:
    """What the alert bar and the nav badge show: true counts of the member's open alerts."""

    total: int
    waiting_conversations: int  # conversations with an open slow-reply alert
    terse_replies: int  # curt replies in open terse alerts (a grouped alert counts each reply)
    other: int  # open alerts of any other kind
    by_kind: dict[str, int]


_SLOW = ("slow_first_reply", "slow_reply")


def alerts_open_summary(*, member: Member, kinds: list[str] | None = None) -> OpenAlertSummary:
    """One grouped query over the member's open alerts (of `kinds`: those their page shows)."""
    rows = (
        alerts_visible(member=member, state=Alert.State.OPEN, kinds=kinds)
        .order_by()
        .values("kind")
        .annotate(n=Count("id"), replies=Sum("count"))
    )
    by_kind = {row["kind"]: int(row["n"]) for row in rows}
    slow_conversations = (
        alerts_visible(member=member, state=Alert.State.OPEN, kinds=kinds)
        .filter(kind__in=_SLOW)
        .order_by()
        .values("conversation")
        .distinct()
        .count()
        if any(k in by_kind for k in _SLOW)
        else 0
    )
    terse = sum(int(row["replies"] or 0) for row in rows if row["kind"] == Alert.Kind.TERSE_REPLY)
    other = sum(n for kind, n in by_kind.items() if kind not in (*_SLOW, Alert.Kind.TERSE_REPLY))
    return OpenAlertSummary(
        total=sum(by_kind.values()),
        waiting_conversations=slow_conversations,
        terse_replies=terse,
        other=other,
        by_kind=by_kind,
    )


@dataclass
class AlertGroup:
    """The alerts of one conversation, newest first: one row of the alerts page."""

    conversation_id: int
    alerts: list[Alert] = field(default_factory=list)

    @property
    def latest(self) -> Alert:
        return self.alerts[0]

    @property
    def open_ids(self) -> list[int]:
        return [a.pk for a in self.alerts if a.state == Alert.State.OPEN]


def alerts_grouped(alerts: QuerySet[Alert], *, limit: int = 200) -> list[AlertGroup]:
    """The newest `limit` alerts grouped by conversation, the conversation with the newest alert first."""
    groups: dict[int, AlertGroup] = {}
    for alert in alerts[:limit]:
        group = groups.get(alert.conversation_id)
        if group is None:
            group = groups[alert.conversation_id] = AlertGroup(conversation_id=alert.conversation_id)
        group.alerts.append(alert)
    return list(groups.values())


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


def members_of_shop(*, shop_id: int) -> QuerySet[Member]:
    """The shop's members with their logins, for the alerts page's admin filter."""
    return Member.objects.filter(shop_id=shop_id).select_related("user").order_by("pk")
