"""Members' notification preferences: the API, the defaults, and each route honouring them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone

from inbox.models import Channel
from monitoring.events import alert_audience
from monitoring.models import Alert
from monitoring.notifications import member_routing
from monitoring.services.alerts import alert_raise
from monitoring.services.notifications import digests_send, notification_preferences_update
from tests.factories import ChannelFactory, ConversationFactory, MemberFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/me/notifications/"


def _channel(shop: Any) -> Any:
    return Channel.objects.filter(shop=shop).first() or ChannelFactory(
        shop=shop, platform="api", account_id=f"api-{shop.pk}", name="Toko web"
    )


def auth(member: Any) -> dict[str, str]:
    return {"Authorization": f"Token {member.api_token}"}


def alert_of(shop: Any, kind: str, *, assignee: Any = None, member: Any = None) -> Alert:
    conversation = ConversationFactory(contact__channel=_channel(shop), assignee=assignee)
    alert, _ = alert_raise(
        conversation=conversation, kind=kind, title=f"{kind} alert", member_id=getattr(member, "pk", None)
    )
    return alert


def test_defaults_per_role(client, owner, admin_member):
    mine = client.get(URL, headers=auth(owner)).json()
    assert mine["defaults"] is True
    assert mine["kinds"]["slow_reply"] == ["in_page", "browser", "web_push"]
    assert mine["kinds"]["slow_first_reply"] == ["in_page", "browser", "web_push"]
    assert mine["kinds"]["terse_reply"] == ["in_page", "email_digest"]
    assert mine["kinds"]["reply_due_soon"] == []
    assert mine["quiet_hours"] is None and mine["digest_interval_minutes"] == 60
    theirs = client.get(URL, headers=auth(admin_member)).json()
    assert theirs["kinds"]["reply_due_soon"] == ["in_page", "browser", "web_push"]
    assert theirs["kinds"]["slow_reply"] == ["in_page", "browser", "web_push"]


def test_patch_changes_only_what_is_sent_and_is_the_members_own(client, owner, admin_member):
    body = {"kinds": {"terse_reply": ["web_push"]}, "quiet_hours": {"start": "22:00", "end": "07:00"}}
    response = client.patch(URL, data=body, content_type="application/json", headers=auth(owner))
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["kinds"]["terse_reply"] == ["web_push"]
    assert data["kinds"]["slow_reply"] == ["in_page", "browser", "web_push"]  # kept
    assert data["quiet_hours"] == {"start": "22:00", "end": "07:00"}
    assert data["defaults"] is False
    # The admin's are untouched.
    assert client.get(URL, headers=auth(admin_member)).json()["kinds"]["terse_reply"] == ["in_page"]
    cleared = client.patch(URL, data={"quiet_hours": None}, content_type="application/json", headers=auth(owner))
    assert cleared.json()["quiet_hours"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kinds": {"loud": ["in_page"]}}, "kinds"),
        ({"kinds": {"slow_reply": ["sms"]}}, "kinds"),
        ({"kinds": ["slow_reply"]}, "kinds"),
        ({"quiet_hours": {"start": "25:00", "end": "07:00"}}, "quiet_hours"),
        ({"quiet_hours": {"start": "7:00", "end": "07:00"}}, "quiet_hours"),
        ({"quiet_hours": "night"}, "quiet_hours"),
        ({"digest_interval_minutes": 1}, "digest_interval_minutes"),
        ({"digest_interval_minutes": "60"}, "digest_interval_minutes"),
        ({"volume": 11}, "non_field_errors"),
    ],
)
def test_bad_preferences_are_a_clear_400(client, owner, body, field):
    response = client.patch(URL, data=body, content_type="application/json", headers=auth(owner))
    assert response.status_code == 400
    assert field in response.json()
    assert client.get(URL, headers=auth(owner)).json()["defaults"] is True


def test_quiet_hours_that_end_when_they_start_are_a_422(client, owner):
    # Well-formed (the schema's shape), refused by a rule: null is how to have no quiet hours.
    body = {"quiet_hours": {"start": "07:00", "end": "07:00"}}
    response = client.patch(URL, data=body, content_type="application/json", headers=auth(owner))
    assert response.status_code == 422
    assert "quiet_hours" in response.json()
    assert client.get(URL, headers=auth(owner)).json()["defaults"] is True


def test_in_page_route_decides_the_live_audience(shop, owner, admin_member):
    other = MemberFactory(shop=shop, role="admin")
    breach = alert_of(shop, Alert.Kind.SLOW_REPLY, assignee=admin_member)
    assert set(alert_audience(breach, created=True).member_ids) == {owner.pk, admin_member.pk}
    notification_preferences_update(member=owner, data={"kinds": {"slow_reply": ["email_digest"]}})
    assert set(alert_audience(breach, created=True).member_ids) == {admin_member.pk}
    # Changes still reach everyone the alert may reach, so every open list stays right.
    assert set(alert_audience(breach).member_ids) == {owner.pk, admin_member.pk}
    unassigned = alert_of(shop, Alert.Kind.REPLY_DUE_SOON)
    assert set(alert_audience(unassigned, created=True).member_ids) == {admin_member.pk, other.pk}


def test_quiet_hours_hold_browser_and_push_not_the_page(shop, owner):
    tz = ZoneInfo(member_routing(owner).timezone)
    notification_preferences_update(member=owner, data={"quiet_hours": {"start": "22:00", "end": "07:00"}})
    routing = member_routing(owner)
    night = datetime(2026, 3, 2, 23, 30, tzinfo=tz)
    early = datetime(2026, 3, 3, 6, 59, tzinfo=tz)
    day = datetime(2026, 3, 3, 7, 0, tzinfo=tz)
    for moment in (night, early):
        assert routing.quiet_at(moment)
        assert not routing.delivers("slow_reply", "web_push", moment)
        assert not routing.delivers("slow_reply", "browser", moment)
        assert routing.delivers("slow_reply", "in_page", moment)
    assert not routing.quiet_at(day) and routing.delivers("slow_reply", "web_push", day)


def test_email_digest_summarises_what_arrived_once_per_interval(shop, owner, admin_member):
    owner.user.email = "owner@example.com"
    owner.user.save()
    admin_member.user.email = "admin@example.com"
    admin_member.user.save()
    first = alert_of(shop, Alert.Kind.TERSE_REPLY)
    alert_of(shop, Alert.Kind.SLOW_REPLY)  # the owner's is live, not in the digest
    mail.outbox.clear()
    now = timezone.now() + timedelta(seconds=1)
    assert digests_send(now=now) == 1
    (digest,) = mail.outbox
    assert digest.to == ["owner@example.com"]
    assert "1 peringatan" in digest.subject
    assert first.title in digest.body and "slow_reply alert" not in digest.body
    # Nothing twice, and nothing before the interval is up.
    second = alert_of(shop, Alert.Kind.TERSE_REPLY)
    Alert.objects.filter(pk=second.pk).update(created_at=now + timedelta(minutes=10))
    assert digests_send(now=now + timedelta(minutes=30)) == 0
    assert digests_send(now=now + timedelta(minutes=61)) == 1
    assert second.title in mail.outbox[-1].body and mail.outbox[-1].body.count("terse_reply alert") == 1
    assert digests_send(now=now + timedelta(minutes=200)) == 0
    assert len(mail.outbox) == 2


def test_the_digest_waits_for_the_end_of_quiet_hours(shop, owner):
    owner.user.email = "owner@example.com"
    owner.user.save()
    tz = ZoneInfo(member_routing(owner).timezone)
    notification_preferences_update(member=owner, data={"quiet_hours": {"start": "22:00", "end": "07:00"}})
    alert = alert_of(shop, Alert.Kind.TERSE_REPLY)
    mail.outbox.clear()
    tonight = timezone.now().astimezone(tz).replace(hour=23, minute=0) + timedelta(days=1)
    Alert.objects.filter(pk=alert.pk).update(created_at=tonight - timedelta(minutes=10))
    assert digests_send(now=tonight) == 0
    assert digests_send(now=tonight + timedelta(hours=8, minutes=1)) == 1


def test_settings_page_saves_the_members_preferences(client, admin_member):
    client.force_login(admin_member.user)
    page = client.get("/settings/notifications/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="route_reply_due_soon_web_push"' in html and "data-vapid-key=" in html
    form = {
        "route_reply_due_soon_in_page": "on",
        "route_slow_reply_web_push": "on",
        "quiet_start": "21:00",
        "quiet_end": "06:30",
        "digest_interval_minutes": "120",
    }
    assert client.post("/settings/notifications/", form).status_code == 302
    routing = member_routing(admin_member)
    assert routing.routes["reply_due_soon"] == ("in_page",)
    assert routing.routes["slow_reply"] == ("web_push",)
    assert routing.routes["terse_reply"] == ()
    assert routing.quiet_start.strftime("%H:%M") == "21:00" and routing.digest_interval_minutes == 120
    bad = client.post("/settings/notifications/", {**form, "quiet_end": "", "digest_interval_minutes": "5"})
    assert bad.status_code == 200
    assert member_routing(admin_member).digest_interval_minutes == 120


def test_service_worker_is_served_from_the_root_scope(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    body = b"".join(response.streaming_content)
    assert b'addEventListener("push"' in body and b"showNotification" in body


def test_warnings_are_listed_for_the_admins_not_the_owner(client, shop, owner, admin_member):
    warning = alert_of(shop, Alert.Kind.REPLY_DUE_SOON)
    breach = alert_of(shop, Alert.Kind.SLOW_REPLY)
    owners = client.get("/api/v1/alerts/", headers=auth(owner)).json()["results"]
    assert [a["id"] for a in owners] == [breach.pk]
    admins = client.get("/api/v1/alerts/", headers=auth(admin_member)).json()["results"]
    assert {a["id"] for a in admins} == {warning.pk, breach.pk}


def _badge(client: Any) -> str:
    body = client.get("/alerts/summary/").content.decode()
    return body.split('id="alert-badge"', 1)[1].split('data-count="', 1)[1].split('"', 1)[0]


def test_bar_badge_list_and_acknowledge_all_follow_the_in_page_route(client, shop, owner, admin_member):
    warning = alert_of(shop, Alert.Kind.REPLY_DUE_SOON)
    breach = alert_of(shop, Alert.Kind.SLOW_REPLY)
    terse = alert_of(shop, Alert.Kind.TERSE_REPLY)

    # Defaults: the owner's page has breaches and curt replies, never the admins' warnings.
    client.force_login(owner.user)
    assert _badge(client) == "2"
    client.force_login(admin_member.user)
    assert _badge(client) == "3"
    # The admin's bar names the warning as one (not "peringatan lain").
    bar = client.get("/alerts/summary/").content.decode()
    assert "1 perlu segera dibalas" in bar and "peringatan lain" not in bar

    # Curt replies out of the owner's page (digest only): gone from badge and list, still looked up by kind.
    notification_preferences_update(member=owner, data={"kinds": {"terse_reply": ["email_digest"]}})
    client.force_login(owner.user)
    assert _badge(client) == "1"
    listed = client.get("/alerts/?state=open").content.decode()
    assert f'id="alert-row-{breach.pk}"' in listed and f'id="alert-row-{terse.pk}"' not in listed
    assert f'id="alert-row-{warning.pk}"' not in listed
    assert f'id="alert-row-{terse.pk}"' in client.get("/alerts/?state=open&kind=terse_reply").content.decode()

    # "All seen" is all the page shows: the curt reply the owner does not keep there stays open.
    response = client.post(
        "/api/v1/alerts/acknowledge/", data={"all": True}, content_type="application/json", headers=auth(owner)
    )
    assert response.status_code == 200, response.content
    states = dict(Alert.objects.filter(pk__in=[warning.pk, breach.pk, terse.pk]).values_list("pk", "state"))
    assert states == {warning.pk: "open", breach.pk: "acknowledged", terse.pk: "open"}


def test_alert_routes_read_the_browser_route_and_quiet_hours(shop, owner, admin_member):
    from monitoring.notifications import alert_routes

    breach = alert_of(shop, Alert.Kind.SLOW_REPLY)
    terse = alert_of(shop, Alert.Kind.TERSE_REPLY)
    warning = alert_of(shop, Alert.Kind.REPLY_DUE_SOON)
    assert alert_routes(member=owner, alert=breach).browser
    # Owner's defaults: curt replies in the page and the digest, no browser notification; no warnings at all.
    assert alert_routes(member=owner, alert=terse).in_page and not alert_routes(member=owner, alert=terse).browser
    assert not alert_routes(member=owner, alert=warning).in_page
    assert alert_routes(member=admin_member, alert=warning).browser

    notification_preferences_update(member=owner, data={"quiet_hours": {"start": "22:00", "end": "07:00"}})
    tz = ZoneInfo(member_routing(owner).timezone)
    night = datetime(2026, 3, 2, 23, 30, tzinfo=tz)
    day = datetime(2026, 3, 2, 12, 0, tzinfo=tz)
    assert not alert_routes(member=owner, alert=breach, moment=night).browser
    assert alert_routes(member=owner, alert=breach, moment=night).in_page
    assert alert_routes(member=owner, alert=breach, moment=day).browser
