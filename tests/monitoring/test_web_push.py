"""Web Push end to end: the API stores the browser's subscription, an alert goes through the real
Celery worker and pywebpush to a local push service that checks the VAPID signature and decrypts
the payload (devtools/push_service.py); preferences and quiet hours decide who gets it."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from devtools.push_service import FakePushService, VapidError, b64url, vapid_verify
from inbox.models import Channel
from monitoring.models import Alert, PushSubscription
from monitoring.selectors import policy_get
from monitoring.services.alerts import alert_raise
from monitoring.services.notifications import notification_preferences_update
from tests.factories import ChannelFactory, ConversationFactory, MemberFactory
from tests.support import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def push_service(settings: Any) -> Any:
    settings.BALAS_PUSH_ALLOW_HTTP = True
    service = FakePushService(application_server_key=django_settings.VAPID_PUBLIC_KEY).start()
    yield service
    service.stop()


def _channel(shop: Any) -> Any:
    return Channel.objects.filter(shop=shop).first() or ChannelFactory(
        shop=shop, platform="api", account_id=f"api-{shop.pk}", name="Toko web"
    )


def auth(member: Any) -> dict[str, str]:
    return {"Authorization": f"Token {member.api_token}"}


def subscribe(client: Any, member: Any, service: FakePushService) -> dict[str, Any]:
    subscription = service.subscribe()
    response = client.post(
        "/api/v1/me/push-subscriptions/", data=subscription, content_type="application/json", headers=auth(member)
    )
    assert response.status_code == 201, response.content
    assert response.json()["vapid_public_key"] == django_settings.VAPID_PUBLIC_KEY
    return subscription


def slow_alert(shop: Any, *, assignee: Any = None, kind: str = Alert.Kind.SLOW_REPLY) -> Alert:
    conversation = ConversationFactory(contact__channel=_channel(shop), contact__name="Siti", assignee=assignee)
    alert, _ = alert_raise(conversation=conversation, kind=kind, title="Siti menunggu balasan", detail="Sejak 10:00")
    return alert


def test_an_alert_reaches_the_owners_phone_through_the_push_service(client, shop, owner, push_service, celery_worker):
    subscription = subscribe(client, owner, push_service)
    alert = slow_alert(shop)
    wait_for(lambda: push_service.delivered, timeout=15)
    (push,) = push_service.delivered
    assert push.endpoint == subscription["endpoint"]
    # The stand-in verified the ES256 JWT over Balas's VAPID public key, and decrypted the body.
    assert push.claims["aud"] == push_service.origin
    assert push.claims["sub"] == django_settings.VAPID_SUBJECT
    assert push.headers["content-encoding"] == "aes128gcm"
    assert int(push.headers["ttl"]) == django_settings.BALAS_PUSH_TTL_S
    assert push.payload == {
        "title": "Siti menunggu balasan",
        "body": "Sejak 10:00",
        "url": f"/c/{alert.conversation_id}/",
        "tag": f"balas-conversation-{alert.conversation_id}",
        "alert_id": alert.pk,
        "kind": "slow_reply",
    }
    # Recorded once the push service answered (the stand-in records the push before it answers).
    wait_for(lambda: PushSubscription.objects.get().last_push_at is not None)
    assert push_service.refused == []


def test_a_gone_subscription_is_removed_on_410_and_404(client, shop, owner, push_service, celery_worker):
    gone = subscribe(client, owner, push_service)
    missing = subscribe(client, owner, push_service)
    kept = subscribe(client, owner, push_service)
    push_service.gone(gone["endpoint"], 410)
    push_service.gone(missing["endpoint"], 404)
    slow_alert(shop)
    wait_for(lambda: len(push_service.delivered) == 1 and len(push_service.refused) == 2, timeout=15)
    wait_for(lambda: PushSubscription.objects.count() == 1)
    assert list(PushSubscription.objects.values_list("endpoint", flat=True)) == [kept["endpoint"]]
    # The next alert goes only to the subscription left.
    slow_alert(shop)
    wait_for(lambda: len(push_service.delivered) == 2, timeout=15)
    time.sleep(0.5)
    assert len(push_service.refused) == 2


def test_preferences_and_quiet_hours_decide_who_gets_a_push(client, shop, owner, push_service, celery_worker):
    admin = MemberFactory(shop=shop, role="admin")
    other_admin = MemberFactory(shop=shop, role="admin")
    owner_sub = subscribe(client, owner, push_service)
    admin_sub = subscribe(client, admin, push_service)
    other_sub = subscribe(client, other_admin, push_service)

    # A breach on the admin's conversation: the owner and that admin (defaults), not the other admin.
    slow_alert(shop, assignee=admin)
    wait_for(lambda: len(push_service.delivered) == 2, timeout=15)
    time.sleep(0.5)
    assert {p.endpoint for p in push_service.delivered} == {owner_sub["endpoint"], admin_sub["endpoint"]}

    # The owner takes slow replies off Web Push; the admin's quiet hours cover now.
    notification_preferences_update(member=owner, data={"kinds": {"slow_reply": ["in_page"]}})
    local = timezone.now().astimezone(ZoneInfo(policy_get(shop_id=shop.pk).timezone))
    start = (local - timedelta(hours=1)).strftime("%H:%M")
    end = (local + timedelta(hours=1)).strftime("%H:%M")
    notification_preferences_update(member=admin, data={"quiet_hours": {"start": start, "end": end}})
    slow_alert(shop, assignee=admin)
    # A first reply breach still goes to the owner (only slow_reply was changed).
    slow_alert(shop, assignee=other_admin, kind=Alert.Kind.SLOW_FIRST_REPLY)
    wait_for(lambda: len(push_service.delivered) == 4, timeout=15)
    time.sleep(1)
    later = push_service.delivered[2:]
    assert {p.endpoint for p in later} == {owner_sub["endpoint"], other_sub["endpoint"]}
    assert {p.payload["kind"] for p in later} == {"slow_first_reply"}

    # A terse reply: the owner's default is the page and the digest, never a push.
    slow_alert(shop, kind=Alert.Kind.TERSE_REPLY)
    time.sleep(1.5)
    assert len(push_service.delivered) == 4


def test_the_stand_in_refuses_a_forged_signature(push_service):
    """The stand-in's checks can fail: a JWT signed by another key, or for another audience."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from py_vapid import Vapid02

    vapid = Vapid02.from_raw(django_settings.VAPID_PRIVATE_KEY.encode())
    claims = {"aud": push_service.origin, "sub": "mailto:a@b.c", "exp": int(time.time()) + 600}
    good = vapid.sign(dict(claims))["Authorization"]
    assert vapid_verify(good, audience=push_service.origin, expected_key=django_settings.VAPID_PUBLIC_KEY)
    other = ec.generate_private_key(ec.SECP256R1()).public_key()
    other_k = b64url(other.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))
    token = good.split("t=", 1)[1].split(",", 1)[0]
    with pytest.raises(VapidError, match="does not verify"):
        vapid_verify(f"vapid t={token},k={other_k}", audience=push_service.origin)
    with pytest.raises(VapidError, match="aud"):
        vapid_verify(good, audience="https://elsewhere.example")


def test_push_subscription_api_validates_and_deletes(client, owner, admin_member, push_service):
    subscription = push_service.subscribe()
    url = "/api/v1/me/push-subscriptions/"
    bad = client.post(
        url,
        data={"endpoint": "ftp://x", "keys": {"p256dh": "short", "auth": ""}},
        content_type="application/json",
        headers=auth(owner),
    )
    assert bad.status_code == 400
    assert set(bad.json()) == {"endpoint", "keys.p256dh", "keys.auth"}
    assert client.post(url, data=subscription, content_type="application/json", headers=auth(owner)).status_code == 201
    again = client.post(url, data=subscription, content_type="application/json", headers=auth(owner))
    assert again.status_code == 200
    assert PushSubscription.objects.count() == 1
    body = {"endpoint": subscription["endpoint"]}
    # Another member cannot remove it.
    gone = client.delete(url, data=body, content_type="application/json", headers=auth(admin_member))
    assert gone.status_code == 404
    assert client.delete(url, data=body, content_type="application/json", headers=auth(owner)).status_code == 204
    assert not PushSubscription.objects.exists()
    assert client.post(url, data=subscription, content_type="application/json").status_code in (401, 403)
