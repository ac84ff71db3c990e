"""Who is told of an alert, and how: the one place that decides it.

`alert_routes` answers, for one member and one alert, whether the member sees it in the page (the
alert bar, the nav badge, the alerts list, the live event) and whether their browser shows a
notification for it. Every live alert event is addressed with it (monitoring.events), so a
member's notification preferences plug in here and nowhere else. The default is yes to both for
every member allowed to see the alert (`alert_may_see`, the rule of
`monitoring.selectors.alerts_visible` restated for one row).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from inbox.models import Member
from monitoring.models import Alert


@dataclass(frozen=True)
class AlertRoutes:
    in_page: bool = True
    browser: bool = True


NOWHERE = AlertRoutes(in_page=False, browser=False)


def alert_may_see(*, member: Member, alert: Alert) -> bool:
    """The owner sees every alert of the shop; an admin those on conversations assigned to them or to
    nobody, and terse alerts about their own replies (as `alerts_visible` filters)."""
    if member.shop_id != alert.shop_id:
        return False
    if member.is_owner:
        return True
    assignee_id = alert.conversation.assignee_id
    return assignee_id is None or assignee_id == member.pk or alert.member_id == member.pk


def alert_routes(*, member: Member, alert: Alert) -> AlertRoutes:
    """How `member` is told of `alert`: in the page, as a browser notification (default: both).

    Preferences per member (kinds, routes, quiet hours) belong here. `in_page` addresses the live
    events; the bar's and badge's counts (`monitoring.selectors.alerts_open_summary`) read
    `alerts_visible`, so a kind a member does not want in the page should be left out there too.
    """
    if not alert_may_see(member=member, alert=alert):
        return NOWHERE
    return AlertRoutes()


def shop_members(shop_id: int) -> list[Member]:
    """The members an alert of this shop may reach: active logins only."""
    return list(Member.objects.filter(shop_id=shop_id, user__is_active=True).only("id", "shop_id", "role"))


def alert_recipients(alert: Alert, members: Iterable[Member]) -> dict[AlertRoutes, tuple[int, ...]]:
    """The members told of `alert`, grouped by how: {routes: member ids}, routes nowhere left out."""
    groups: dict[AlertRoutes, list[int]] = {}
    for member in members:
        routes = alert_routes(member=member, alert=alert)
        if routes.in_page or routes.browser:
            groups.setdefault(routes, []).append(member.pk)
    return {routes: tuple(sorted(ids)) for routes, ids in groups.items()}
