"""Policy, alerts and tone-check endpoints, and the settings and alerts pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from inbox.models import Member
from monitoring.models import Alert, ShopPolicy
from monitoring.services.alerts import alert_raise
from monitoring.services.policy import policy_for_shop
from tests.factories import ChannelFactory, ConversationFactory, MemberFactory, ShopFactory

pytestmark = pytest.mark.django_db


def auth(member) -> dict[str, str]:
    return {"Authorization": f"Token {member.api_token}"}


def patch(client, member, body):
    return client.patch("/api/v1/policy/", data=body, content_type="application/json", headers=auth(member))


def test_policy_defaults_are_created_lazily(client, admin_member):
    response = client.get("/api/v1/policy/", headers=auth(admin_member))
    assert response.status_code == 200
    body = response.json()
    assert body["first_reply_target_s"] == 300
    assert body["reply_target_s"] == 600
    assert body["timezone"] == "Asia/Jakarta"
    assert body["business_hours"]["mon"] == [["08:00", "21:00"]]
    assert body["business_hours"]["sun"] == []
    assert body["warn_at_pct"] == 75
    assert ShopPolicy.objects.filter(shop=admin_member.shop).count() == 1


def test_owner_changes_the_policy(client, owner):
    hours = {"mon": [["09:00", "12:00"], ["13:00", "17:00"]], "sat": [["10:00", "24:00"]]}
    response = patch(client, owner, {"first_reply_target_s": 120, "timezone": "Asia/Makassar", "business_hours": hours})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["first_reply_target_s"] == 120 and body["reply_target_s"] == 600
    assert body["timezone"] == "Asia/Makassar"
    assert body["business_hours"]["mon"] == [["09:00", "12:00"], ["13:00", "17:00"]]
    assert body["business_hours"]["tue"] == []
    policy = ShopPolicy.objects.get(shop=owner.shop)
    assert policy.first_reply_target_s == 120 and policy.timezone == "Asia/Makassar"
    response = patch(client, owner, {"warn_at_pct": 80})
    assert response.status_code == 200 and response.json()["warn_at_pct"] == 80


def test_admin_may_not_change_the_policy(client, admin_member):
    assert patch(client, admin_member, {"reply_target_s": 60}).status_code == 403
    assert ShopPolicy.objects.filter(shop=admin_member.shop, reply_target_s=60).count() == 0


def test_anonymous_and_channel_tokens_are_refused(client, shop):
    assert client.get("/api/v1/policy/").status_code in (401, 403)
    channel = ChannelFactory(shop=shop, platform="api", account_id="api-x")
    from inbox.tokens import token_generate

    raw, digest = token_generate("bc")
    channel.token_hash = digest
    channel.save(update_fields=["token_hash"])
    assert client.get("/api/v1/policy/", headers={"Authorization": f"Token {raw}"}).status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"first_reply_target_s": 0}, "first_reply_target_s"),
        ({"reply_target_s": -5}, "reply_target_s"),
        ({"reply_target_s": "soon"}, "reply_target_s"),
        ({"reply_target_s": "300"}, "reply_target_s"),
        ({"reply_target_s": 8 * 24 * 3600}, "reply_target_s"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"business_hours": {"mon": [["8.00", "21:00"]]}}, "business_hours"),
        ({"business_hours": {"senin": [["08:00", "21:00"]]}}, "business_hours"),
        ({"color": "red"}, "non_field_errors"),
        ({"warn_at_pct": 0}, "warn_at_pct"),
        ({"warn_at_pct": 100}, "warn_at_pct"),
        ({"warn_at_pct": "half"}, "warn_at_pct"),
    ],
)
def test_policy_shape_errors_are_a_400_naming_the_field(client, owner, body, field):
    # What the schema states (types, bounds, the IANA names, weekdays, HH:MM, no other fields).
    response = patch(client, owner, body)
    assert response.status_code == 400
    assert field in response.json()
    assert policy_for_shop(shop_id=owner.shop_id).first_reply_target_s == 300


@pytest.mark.parametrize(
    ("hours", "text"),
    [
        ({"mon": [["08:00", "13:00"], ["12:00", "21:00"]]}, "overlap"),
        ({"mon": [["21:00", "08:00"]]}, "must end after it starts"),
        ({"mon": []}, "no open hours"),
    ],
)
def test_policy_rule_errors_are_a_422_naming_the_field(client, owner, hours, text):
    # Valid by the schema, refused by the schedule's rules.
    response = patch(client, owner, {"business_hours": hours})
    assert response.status_code == 422
    assert text in " ".join(response.json()["business_hours"])


def _alert(conversation, kind=Alert.Kind.TERSE_REPLY, **kw) -> Alert:
    alert, _ = alert_raise(conversation=conversation, kind=kind, title=f"{kind} alert", **kw)
    return alert


def test_alert_list_filters_and_acknowledge(client, shop, owner):
    conversation = ConversationFactory(contact__channel__shop=shop)
    terse = _alert(conversation, reasons=["tidak menjawab ongkir"])
    slow = _alert(ConversationFactory(contact__channel=conversation.channel), kind=Alert.Kind.SLOW_REPLY)
    response = client.get("/api/v1/alerts/", headers=auth(owner))
    assert [a["id"] for a in response.json()["results"]] == [slow.pk, terse.pk]
    only_terse = client.get("/api/v1/alerts/?kind=terse_reply", headers=auth(owner)).json()["results"]
    assert [a["id"] for a in only_terse] == [terse.pk]
    assert only_terse[0]["reasons"] == ["tidak menjawab ongkir"]
    assert client.get("/api/v1/alerts/?kind=rude", headers=auth(owner)).status_code == 400
    assert client.get("/api/v1/alerts/?state=closed", headers=auth(owner)).status_code == 400

    acked = client.post(f"/api/v1/alerts/{terse.pk}/acknowledge/", headers=auth(owner))
    assert acked.status_code == 200
    assert acked.json()["state"] == "acknowledged"
    assert acked.json()["acknowledged_by_id"] == owner.pk
    assert client.post(f"/api/v1/alerts/{terse.pk}/acknowledge/", headers=auth(owner)).status_code == 200
    open_ids = [a["id"] for a in client.get("/api/v1/alerts/?state=open", headers=auth(owner)).json()["results"]]
    assert open_ids == [slow.pk]


def test_another_shops_alert_is_404(client, owner):
    foreign = _alert(ConversationFactory(contact__channel__shop=ShopFactory()))
    assert client.post(f"/api/v1/alerts/{foreign.pk}/acknowledge/", headers=auth(owner)).status_code == 404
    assert client.get("/api/v1/alerts/", headers=auth(owner)).json()["count"] == 0
    assert Alert.objects.get(pk=foreign.pk).state == "open"


def test_admin_cannot_acknowledge_a_colleagues_conversation_alert(client, shop, admin_member):
    colleague = MemberFactory(shop=shop, role=Member.Role.ADMIN)
    conversation = ConversationFactory(contact__channel__shop=shop, assignee=colleague)
    alert = _alert(conversation)
    assert client.post(f"/api/v1/alerts/{alert.pk}/acknowledge/", headers=auth(admin_member)).status_code == 404


def test_settings_page_saves_through_the_same_validation(client, owner):
    client.force_login(owner.user)
    page = client.get("/settings/")
    assert page.status_code == 200
    assert b"08:00-21:00" in page.content
    form = {
        "first_reply_target_min": "2",
        "reply_target_min": "5",
        "timezone": "Asia/Jakarta",
        **{f"hours_{d}": "08:00-12:00, 13:00-20:00" for d in ("mon", "tue", "wed", "thu", "fri")},
        "hours_sat": "",
        "hours_sun": "",
    }
    assert client.post("/settings/", form).status_code == 302
    policy = ShopPolicy.objects.get(shop=owner.shop)
    assert policy.first_reply_target_s == 120 and policy.reply_target_s == 300
    assert policy.warn_at_pct == 75
    assert client.post("/settings/", {**form, "warn_at_pct": "60"}).status_code == 302
    assert ShopPolicy.objects.get(shop=owner.shop).warn_at_pct == 60
    refused = client.post("/settings/", {**form, "warn_at_pct": "100"})
    assert refused.status_code == 200 and ShopPolicy.objects.get(shop=owner.shop).warn_at_pct == 60
    assert policy.business_hours["mon"] == [["08:00", "12:00"], ["13:00", "20:00"]]
    assert policy.business_hours["sat"] == []

    bad = client.post("/settings/", {**form, "hours_mon": "08:00-13:00, 12:00-20:00", "timezone": "Nowhere/X"})
    assert bad.status_code == 200
    assert b"overlap" in bad.content and b"Unknown time zone" in bad.content
    assert ShopPolicy.objects.get(shop=owner.shop).business_hours["mon"] == [["08:00", "12:00"], ["13:00", "20:00"]]


def test_settings_page_is_for_owners(client, admin_member):
    client.force_login(admin_member.user)
    assert client.get("/settings/").status_code == 403


def test_alerts_page_and_htmx_acknowledge(client, shop, owner):
    alert = _alert(ConversationFactory(contact__channel__shop=shop), detail="Balasan singkat sekali")
    client.force_login(owner.user)
    page = client.get("/alerts/")
    assert page.status_code == 200
    assert b"Balasan singkat sekali" in page.content
    row = client.post(f"/alerts/{alert.pk}/acknowledge/", headers={"HX-Request": "true"})
    assert row.status_code == 200
    assert f'id="alert-row-{alert.pk}"'.encode() in row.content
    assert Alert.objects.get(pk=alert.pk).state == "acknowledged"
    assert alert.created_at <= timezone.now() + timedelta(seconds=1)
