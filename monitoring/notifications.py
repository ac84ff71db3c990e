"""Who is alerted, and how: members' notification preferences applied to an alert.

An alert may reach a member (`eligible`: the rule of monitoring.selectors.alerts_visible, and a
warning is the admins' alone); the member's preferences then pick the routes per alert kind:

- `in_page`: the attention surface of their open tabs: the live `alert.created` event
  (monitoring.events), the alert bar, the nav badge and the alerts list (`in_page_kinds`);
- `browser`: one coalesced browser notification per interval, decided here and sent by the server
  as `notification.created` (monitoring.services.browser_notify); the page only shows it;
- `web_push`: Web Push to their subscribed browsers, no tab needed (monitoring.services.push);
- `email_digest`: a periodic e-mail summarising what arrived (monitoring.services.digest).

Quiet hours (in the shop's time zone) hold the interrupting routes (browser, Web Push); the page
and the digest still get everything. `alert_routes` / `alert_recipients` answer the same for one
member or a whole shop. Reads only: the writes are in monitoring.services.notifications.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from inbox.models import Member
from monitoring.models import Alert, NotificationPreference
from monitoring.selectors import policy_get

IN_PAGE, BROWSER, WEB_PUSH, EMAIL_DIGEST = "in_page", "browser", "web_push", "email_digest"
ROUTES = (IN_PAGE, BROWSER, WEB_PUSH, EMAIL_DIGEST)
# Routes that interrupt: held during quiet hours.
INTERRUPTING = (BROWSER, WEB_PUSH)
DEFAULT_DIGEST_MINUTES = 60

_LIVE = [IN_PAGE, BROWSER, WEB_PUSH]


def default_routes(role: str) -> dict[str, list[str]]:
    """The owner gets slow-reply breaches live and terse replies in the page and a digest; an admin
    gets their own warnings and breaches live (and terse alerts about them in the page)."""
    if role == Member.Role.OWNER:
        return {
            Alert.Kind.SLOW_FIRST_REPLY: list(_LIVE),
            Alert.Kind.SLOW_REPLY: list(_LIVE),
            Alert.Kind.TERSE_REPLY: [IN_PAGE, EMAIL_DIGEST],
        }
    return {
        Alert.Kind.REPLY_DUE_SOON: list(_LIVE),
        Alert.Kind.SLOW_FIRST_REPLY: list(_LIVE),
        Alert.Kind.SLOW_REPLY: list(_LIVE),
        Alert.Kind.TERSE_REPLY: [IN_PAGE],
    }


@dataclass(frozen=True)
class MemberRouting:
    """One member's effective preferences (their stored row, or the defaults of their role)."""

    member_id: int
    role: str
    routes: Mapping[str, tuple[str, ...]]
    quiet_start: time | None = None
    quiet_end: time | None = None
    timezone: str = "Asia/Jakarta"
    digest_interval_minutes: int = DEFAULT_DIGEST_MINUTES
    customised: bool = False

    def wants(self, kind: str, route: str) -> bool:
        return route in self.routes.get(kind, ())

    def quiet_at(self, moment: datetime) -> bool:
        """Inside the quiet hours at `moment` (local time of the shop; end before start spans midnight)."""
        if self.quiet_start is None or self.quiet_end is None or self.quiet_start == self.quiet_end:
            return False
        local = moment.astimezone(ZoneInfo(self.timezone)).time()
        if self.quiet_start < self.quiet_end:
            return self.quiet_start <= local < self.quiet_end
        return local >= self.quiet_start or local < self.quiet_end

    def delivers(self, kind: str, route: str, moment: datetime) -> bool:
        """Whether an alert of `kind` goes to this member by `route` now."""
        if not self.wants(kind, route):
            return False
        return not (route in INTERRUPTING and self.quiet_at(moment))


def eligible_kinds(role: str) -> list[tuple[str, str]]:
    """The alert kinds a member of this role can receive at all (value, label)."""
    if role == Member.Role.OWNER:
        return [(k, str(label)) for k, label in Alert.Kind.choices if k != Alert.Kind.REPLY_DUE_SOON]
    return [(k, str(label)) for k, label in Alert.Kind.choices]


def eligible(alert: Alert, member: MemberRouting) -> bool:
    """May this alert reach this member at all (whatever their preferences)?

    A warning (`reply_due_soon`) is for the assigned admin, or every admin when nobody is assigned;
    every other alert is the owners', and an admin's when the conversation is theirs or nobody's,
    or when the curt reply was theirs (as alerts_visible shows them).
    """
    assignee_id = alert.assignee_id
    if alert.kind == Alert.Kind.REPLY_DUE_SOON:
        return member.role == Member.Role.ADMIN and assignee_id in (None, member.member_id)
    if member.role == Member.Role.OWNER:
        return True
    return assignee_id in (None, member.member_id) or alert.member_id == member.member_id


def routing_of(member: Member, preference: NotificationPreference | None, tz: str) -> MemberRouting:
    routes: Mapping[str, Iterable[str]]
    if preference is not None and preference.routes is not None:
        routes = preference.routes
    else:
        routes = default_routes(member.role)
    return MemberRouting(
        member_id=member.pk,
        role=member.role,
        routes={str(kind): tuple(r) for kind, r in routes.items()},
        quiet_start=preference.quiet_start if preference is not None else None,
        quiet_end=preference.quiet_end if preference is not None else None,
        timezone=tz,
        digest_interval_minutes=(
            preference.digest_interval_minutes if preference is not None else DEFAULT_DIGEST_MINUTES
        ),
        customised=preference is not None and preference.routes is not None,
    )


@dataclass
class ShopRouting:
    """Every active member's routing in one shop: read once for a batch of that shop's alerts."""

    shop_id: int
    members: list[MemberRouting] = field(default_factory=list)

    @classmethod
    def load(cls, shop_id: int) -> ShopRouting:
        tz = policy_get(shop_id=shop_id).timezone
        members = list(Member.objects.filter(shop_id=shop_id, user__is_active=True).order_by("pk"))
        prefs = {p.member_id: p for p in NotificationPreference.objects.filter(member__in=members)}
        return cls(shop_id=shop_id, members=[routing_of(m, prefs.get(m.pk), tz) for m in members])

    def eligible_ids(self, alert: Alert) -> list[int]:
        return [m.member_id for m in self.members if eligible(alert, m)]

    def recipients(self, alert: Alert, route: str, moment: datetime) -> list[int]:
        """Members this alert goes to by `route` at `moment`."""
        return [m.member_id for m in self.members if eligible(alert, m) and m.delivers(alert.kind, route, moment)]

    def routes_of(self, alert: Alert, moment: datetime) -> dict[int, AlertRoutes]:
        """{member id: how they are told} for every member the alert may reach."""
        return {m.member_id: _routes(m, alert, moment) for m in self.members if eligible(alert, m)}


def member_routing(member: Member) -> MemberRouting:
    preference = NotificationPreference.objects.filter(member=member).first()
    return routing_of(member, preference, policy_get(shop_id=member.shop_id).timezone)


def routing_as_json(routing: MemberRouting, *, now: datetime) -> dict[str, Any]:
    """The shape of `GET /api/v1/me/notifications/`."""
    return {
        "kinds": {kind: list(routing.routes.get(kind, ())) for kind in Alert.Kind.values},
        "quiet_hours": (
            {"start": routing.quiet_start.strftime("%H:%M"), "end": routing.quiet_end.strftime("%H:%M")}
            if routing.quiet_start is not None and routing.quiet_end is not None
            else None
        ),
        "digest_interval_minutes": routing.digest_interval_minutes,
        "timezone": routing.timezone,
        "quiet_now": routing.quiet_at(now),
        "defaults": not routing.customised,
    }


@dataclass(frozen=True)
class AlertRoutes:
    """How one member is told of one alert by the routes of an open tab."""

    in_page: bool = True
    browser: bool = True


NOWHERE = AlertRoutes(in_page=False, browser=False)


def _routes(routing: MemberRouting, alert: Alert, moment: datetime) -> AlertRoutes:
    return AlertRoutes(
        in_page=routing.delivers(alert.kind, IN_PAGE, moment),
        browser=routing.delivers(alert.kind, BROWSER, moment),
    )


def alert_may_see(*, member: Member, alert: Alert) -> bool:
    """`eligible` for a member row: the rule `monitoring.selectors.alerts_visible` applies as a query
    (tests/monitoring/test_alerts_acknowledge.py holds them equal)."""
    if member.shop_id != alert.shop_id:
        return False
    return eligible(alert, MemberRouting(member_id=member.pk, role=member.role, routes={}))


def alert_routes(
    *, member: Member, alert: Alert, routing: MemberRouting | None = None, moment: datetime | None = None
) -> AlertRoutes:
    """How `member` is told of `alert` at `moment` (default now): their preferences, quiet hours for
    the browser notification. `routing`: the member's, when the caller has read it already."""
    if not alert_may_see(member=member, alert=alert):
        return NOWHERE
    routing = routing if routing is not None and routing.member_id == member.pk else member_routing(member)
    return _routes(routing, alert, moment or timezone.now())


def alert_recipients(
    alert: Alert, routing: ShopRouting, moment: datetime | None = None
) -> dict[AlertRoutes, tuple[int, ...]]:
    """The members the alert may reach grouped by how they are told: {routes: member ids}."""
    groups: dict[AlertRoutes, list[int]] = {}
    for member_id, routes in routing.routes_of(alert, moment or timezone.now()).items():
        groups.setdefault(routes, []).append(member_id)
    return {routes: tuple(sorted(ids)) for routes, ids in groups.items()}


def in_page_kinds(member: Member, routing: MemberRouting | None = None) -> list[str]:
    """The alert kinds the member's bar, badge and alerts list show: those they may receive at all
    (an owner never a warning) and keep in the page."""
    routing = routing if routing is not None else member_routing(member)
    return [kind for kind, _label in eligible_kinds(member.role) if routing.wants(kind, IN_PAGE)]
