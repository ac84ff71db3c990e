"""Owners' feedback on terse alerts, and the judge's precision on the dashboard."""

from __future__ import annotations

from typing import Any

import pytest

from inbox.models import Channel
from monitoring.models import Alert, AlertFeedback
from monitoring.services.alerts import alert_raise
from tests.factories import ChannelFactory, ConversationFactory, MemberFactory, ShopFactory

pytestmark = pytest.mark.django_db


def auth(member: Any) -> dict[str, str]:
    return {"Authorization": f"Token {member.api_token}"}


def _alert(shop: Any, kind: str = Alert.Kind.TERSE_REPLY) -> Alert:
    channel = Channel.objects.filter(shop=shop).first() or ChannelFactory(
        shop=shop, platform="api", account_id=f"api-{shop.pk}", name="Toko web"
    )
    alert, _ = alert_raise(conversation=ConversationFactory(contact__channel=channel), kind=kind, title="Ketus")
    return alert


def feedback(client: Any, member: Any, alert_id: int, body: Any) -> Any:
    return client.post(
        f"/api/v1/alerts/{alert_id}/feedback/", data=body, content_type="application/json", headers=auth(member)
    )


def test_owner_judges_a_terse_alert_and_a_later_verdict_replaces_it(client, shop, owner):
    alert = _alert(shop)
    first = feedback(client, owner, alert.pk, {"verdict": "not_terse"})
    assert first.status_code == 200, first.content
    assert first.json()["verdict"] == "not_terse" and first.json()["member_id"] == owner.pk
    stored = AlertFeedback.objects.get()
    assert (stored.alert_id, stored.member_id, stored.verdict) == (alert.pk, owner.pk, "not_terse")
    second = feedback(client, owner, alert.pk, {"verdict": "terse"})
    assert second.status_code == 200
    again = AlertFeedback.objects.get()
    assert again.verdict == "terse" and again.created_at >= stored.created_at


@pytest.mark.parametrize("body", [{"verdict": "maybe"}, {}, {"verdict": None}, ["terse"]])
def test_a_bad_verdict_is_a_400_naming_it(client, shop, owner, body):
    response = feedback(client, owner, _alert(shop).pk, body)
    assert response.status_code == 400
    assert "verdict" in response.json()
    assert not AlertFeedback.objects.exists()


def test_only_terse_alerts_only_owners_only_their_shop(client, shop, owner, admin_member):
    slow = _alert(shop, Alert.Kind.SLOW_REPLY)
    response = feedback(client, owner, slow.pk, {"verdict": "terse"})
    assert response.status_code == 422 and "alert" in response.json()
    terse = _alert(shop)
    assert feedback(client, admin_member, terse.pk, {"verdict": "terse"}).status_code == 403
    stranger = MemberFactory(shop=ShopFactory(), role="owner")
    assert feedback(client, stranger, terse.pk, {"verdict": "terse"}).status_code == 404
    assert not AlertFeedback.objects.exists()


def test_dashboard_shows_the_judges_precision_for_this_shop(client, shop, owner):
    alerts = [_alert(shop) for _ in range(4)]
    for alert, verdict in zip(alerts, ["terse", "terse", "terse", "not_terse"], strict=True):
        assert feedback(client, owner, alert.pk, {"verdict": verdict}).status_code == 200
    # Another shop's verdicts do not count here.
    other = ShopFactory()
    other_owner = MemberFactory(shop=other, role="owner")
    assert feedback(client, other_owner, _alert(other).pk, {"verdict": "not_terse"}).status_code == 200
    client.force_login(owner.user)
    page = client.get("/dashboard/").content.decode()
    card = page[page.index('id="judge-precision"') :][:600]
    assert "75%" in card
    assert "memang ketus 3" in card and "bukan ketus 1" in card


def test_alerts_page_buttons_record_the_verdict(client, shop, owner):
    alert = _alert(shop)
    client.force_login(owner.user)
    page = client.get("/alerts/").content.decode()
    assert "bukan ketus" in page and "memang ketus" in page
    response = client.post(f"/alerts/{alert.pk}/feedback/", {"verdict": "not_terse"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "is-chosen" in response.content.decode()
    assert AlertFeedback.objects.get().verdict == "not_terse"
