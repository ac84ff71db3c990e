from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.utils import timezone, translation

from inbox.models import Conversation, Member, Message
from inbox.realtime import layer_events, shop_group
from inbox.services import ReplyRefused, channel_create, reply_retry, reply_send
from tests.factories import SAMPLE_ACCOUNT_IDS, SAMPLE_SECRETS, ContactFactory, ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db(transaction=True)

ALL_PLATFORMS = ["whatsapp", "instagram", "messenger", "shopee", "tiktokshop"]
META = ["whatsapp", "instagram", "messenger"]


def auth(member: Member) -> dict[str, str]:
    return {"Authorization": f"Token {member.api_token}"}


def waiting_conversation(channel: Any, *, inbound_ago: timedelta | None = timedelta(minutes=5)) -> Conversation:
    """A conversation whose customer wrote `inbound_ago` ago and still waits for an answer."""
    contact = ContactFactory(channel=channel, shop=channel.shop, external_id="6281234567890", name="Siti")
    conv = ConversationFactory(contact=contact, channel=channel, shop=channel.shop, platform_conversation_id="c-77")
    if inbound_ago is not None:
        at = timezone.now() - inbound_ago
        first = MessageFactory(conversation=conv, sent_at=at)
        conv.last_message, conv.last_message_at = first, at
        conv.last_inbound_at = conv.waiting_since = at
        conv.unread_count = 1
        conv.save()
    return conv


def reply(client: Any, conv: Conversation, member: Member, text: str) -> Any:
    return client.post(
        f"/api/v1/conversations/{conv.pk}/replies/",
        data=json.dumps({"text": text}),
        content_type="application/json",
        headers=auth(member),
    )


def test_whatsapp_reply_is_sent_and_ends_the_wait(client, channels, admin_member, fake_platforms):
    conv = waiting_conversation(channels["whatsapp"])
    response = reply(client, conv, admin_member, "  Ready kak Siti, silakan diorder 😊  ")
    assert response.status_code == 201, response.content
    data = response.json()

    [request] = fake_platforms.requests
    assert request.platform == "whatsapp"
    assert request.path == f"/{SAMPLE_ACCOUNT_IDS['whatsapp']}/messages"
    assert request.headers["Authorization"] == "Bearer wa-token"
    assert request.json["to"] == "6281234567890"
    assert request.json["text"]["body"] == "Ready kak Siti, silakan diorder 😊"

    message = Message.objects.get(pk=data["id"])
    assert message.platform_message_id.startswith("wamid.FAKE-")
    assert data["platform_message_id"] == message.platform_message_id
    assert (message.direction, message.source, message.status) == ("out", "inbox", "sent")
    assert message.sent_by_id == admin_member.pk
    assert message.text == "Ready kak Siti, silakan diorder 😊"
    conv.refresh_from_db()
    assert conv.waiting_since is None
    assert conv.last_reply_at == message.sent_at
    assert conv.last_message_id == message.pk
    assert conv.unread_count == 0
    for secret in SAMPLE_SECRETS["whatsapp"].values():
        assert secret not in response.content.decode()


def test_platform_refusal_is_502_with_its_reason_and_the_row_failed(client, channels, admin_member, fake_platforms):
    conv = waiting_conversation(channels["whatsapp"])
    fake_platforms.queue_response(
        400, {"error": {"message": "(#131030) Recipient phone number not in allowed list", "code": 131030}}
    )
    response = reply(client, conv, admin_member, "Ready kak")
    assert response.status_code == 502
    data = response.json()
    assert data["error"] == "(#131030) Recipient phone number not in allowed list (code 131030)"
    assert data["message"]["status"] == "failed"
    message = Message.objects.get(pk=data["message"]["id"])
    assert message.status == "failed" and message.platform_message_id is None
    assert message.error == data["error"]
    conv.refresh_from_db()
    assert conv.waiting_since is not None  # nothing reached the customer


def test_timeout_is_502_and_the_row_failed(client, channels, admin_member, fake_platforms, settings):
    settings.PLATFORM_SEND_TIMEOUT_S = 0.3
    fake_platforms.delay_s = 1.0
    conv = waiting_conversation(channels["whatsapp"])
    response = reply(client, conv, admin_member, "Ready kak")
    assert response.status_code == 502
    assert "did not answer in time" in response.json()["error"]
    assert Message.objects.get(direction="out").status == "failed"


def test_retry_sends_a_failed_reply(client, channels, admin_member, owner, fake_platforms):
    conv = waiting_conversation(channels["whatsapp"])
    fake_platforms.queue_response(500, {"error": {"message": "Service temporarily unavailable", "code": 2}})
    failed_id = reply(client, conv, admin_member, "Ready kak").json()["message"]["id"]

    response = client.post(f"/api/v1/messages/{failed_id}/retry/", headers=auth(owner))
    assert response.status_code == 200, response.content
    assert len(fake_platforms.requests) == 2
    assert fake_platforms.requests[1].json["text"]["body"] == "Ready kak"
    message = Message.objects.get(pk=failed_id)
    assert message.status == "sent" and message.error == ""
    assert message.platform_message_id.startswith("wamid.FAKE-")
    assert message.sent_by_id == owner.pk
    assert Message.objects.filter(direction="out").count() == 1
    conv.refresh_from_db()
    assert conv.waiting_since is None

    # Only failed replies typed in Balas can be retried.
    again = client.post(f"/api/v1/messages/{failed_id}/retry/", headers=auth(owner))
    assert again.status_code == 422 and again.json()["error"]
    customer = Message.objects.get(direction="in")
    assert client.post(f"/api/v1/messages/{customer.pk}/retry/", headers=auth(owner)).status_code == 422
    assert len(fake_platforms.requests) == 2


def test_retry_that_fails_again_is_502(client, channels, admin_member, fake_platforms):
    conv = waiting_conversation(channels["whatsapp"])
    fake_platforms.queue_response(400, {"error": {"message": "Invalid parameter", "code": 100}})
    fake_platforms.queue_response(400, {"error": {"message": "Still invalid", "code": 100}})
    failed_id = reply(client, conv, admin_member, "Ready kak").json()["message"]["id"]
    response = client.post(f"/api/v1/messages/{failed_id}/retry/", headers=auth(admin_member))
    assert response.status_code == 502
    assert response.json()["error"] == "Still invalid (code 100)"
    assert Message.objects.get(pk=failed_id).error == "Still invalid (code 100)"


@pytest.mark.parametrize("platform", META)
@pytest.mark.parametrize("inbound_ago", [timedelta(hours=24, minutes=1), None])
def test_meta_24_hour_window_refusal_sends_nothing(
    client, channels, admin_member, fake_platforms, platform, inbound_ago
):
    conv = waiting_conversation(channels[platform], inbound_ago=inbound_ago)
    before = Message.objects.count()
    response = reply(client, conv, admin_member, "Halo kak, masih minat?")
    assert response.status_code == 422
    assert "24 jam" in response.json()["error"]
    assert fake_platforms.requests == []
    assert Message.objects.count() == before


def test_window_message_is_available_in_english(client, channels, admin_member, fake_platforms):
    conv = waiting_conversation(channels["whatsapp"], inbound_ago=timedelta(days=2))
    # The request activates English for this thread; the override puts the default back after.
    with translation.override(settings.LANGUAGE_CODE):
        response = client.post(
            f"/api/v1/conversations/{conv.pk}/replies/",
            data=json.dumps({"text": "Hi"}),
            content_type="application/json",
            headers={**auth(admin_member), "Accept-Language": "en"},
        )
    assert response.status_code == 422
    assert "24 hours" in response.json()["error"]


@pytest.mark.parametrize(
    ("text", "words"),
    [("   ", "kosong"), ("x" * 4097, "terlalu panjang")],
)
def test_empty_or_too_long_text_is_refused(client, channels, admin_member, fake_platforms, text, words):
    conv = waiting_conversation(channels["whatsapp"])
    response = reply(client, conv, admin_member, text)
    assert response.status_code == 422
    assert words in response.json()["error"]
    assert fake_platforms.requests == []
    assert not Message.objects.filter(direction="out").exists()


def test_missing_text_is_400(client, channels, admin_member, fake_platforms):
    conv = waiting_conversation(channels["whatsapp"])
    response = client.post(
        f"/api/v1/conversations/{conv.pk}/replies/",
        data="{}",
        content_type="application/json",
        headers=auth(admin_member),
    )
    assert response.status_code == 400 and "text" in response.json()


def test_api_channel_cannot_reply_through_balas(client, shop, admin_member, fake_platforms):
    channel, _ = channel_create(shop=shop, platform="api", name="Web", account_id="", secrets={})
    conv = waiting_conversation(channel)
    response = reply(client, conv, admin_member, "Ready kak")
    assert response.status_code == 422
    assert "API" in response.json()["error"]
    assert fake_platforms.requests == []


def test_echo_stored_before_the_answer_is_merged_into_our_reply(channels, admin_member, fake_platforms):
    conv = waiting_conversation(channels["instagram"])
    # The platform's echo of this very send arrived (and was stored) before its HTTP answer.
    echo = MessageFactory(
        conversation=conv,
        platform_message_id="m_RACE-1",
        direction="out",
        source="echo",
        status="sent",
        text="Ready kak",
        sent_at=timezone.now(),
    )
    conv.last_message, conv.last_message_at = echo, echo.sent_at
    conv.save()
    fake_platforms.queue_response(200, {"recipient_id": "6281234567890", "message_id": "m_RACE-1"})
    message = reply_send(conversation=conv, member=admin_member, text="Ready kak")
    assert message.status == "sent" and message.platform_message_id == "m_RACE-1"
    assert list(Message.objects.filter(platform_message_id="m_RACE-1").values_list("pk", "source")) == [
        (message.pk, "inbox")
    ]
    assert not Message.objects.filter(pk=echo.pk).exists()
    conv.refresh_from_db()
    assert conv.last_message_id is not None
    assert conv.waiting_since is None


def test_live_events_announce_the_reply(channels, admin_member, fake_platforms):
    conv = waiting_conversation(channels["whatsapp"])
    layer = get_channel_layer()
    channel_name = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(shop_group(conv.shop_id), channel_name)

    pending: list[dict[str, Any]] = []

    async def next_event() -> dict[str, Any]:
        # A missing event fails the test instead of hanging it.
        if not pending:
            pending.extend(layer_events(await asyncio.wait_for(layer.receive(channel_name), timeout=10)))
        return pending.pop(0)

    try:
        message = reply_send(conversation=conv, member=admin_member, text="Ready kak")
        seen: list[tuple[str, Any]] = []
        while ("message.updated", "sent") not in seen:
            event = async_to_sync(next_event)()
            seen.append((event["type"], event.get("message", {}).get("status")))
    finally:
        async_to_sync(layer.group_discard)(shop_group(conv.shop_id), channel_name)
    assert seen[0] == ("message.created", "pending")
    assert ("conversation.updated", None) in seen
    assert message.status == "sent"


def test_services_refuse_another_shops_member(channels, fake_platforms):
    from tests.factories import MemberFactory

    conv = waiting_conversation(channels["whatsapp"])
    stranger = MemberFactory()
    with pytest.raises(ReplyRefused):
        reply_send(conversation=conv, member=stranger, text="Halo")
    failed = MessageFactory(conversation=conv, direction="out", source="inbox", status="failed", text="x")
    with pytest.raises(ReplyRefused):
        reply_retry(message=failed, member=stranger)
    assert fake_platforms.requests == []


@pytest.mark.parametrize("platform", ALL_PLATFORMS)
def test_reply_through_each_platform(client, channels, admin_member, fake_platforms, platform):
    conv = waiting_conversation(channels[platform])
    response = reply(client, conv, admin_member, "Ready kak, silakan order")
    assert response.status_code == 201, response.content
    [request] = fake_platforms.requests
    assert request.platform == platform
    assert "Ready kak, silakan order" in request.body.decode()
    message = Message.objects.get(pk=response.json()["id"])
    assert message.status == "sent" and message.platform_message_id
    conv.refresh_from_db()
    assert conv.waiting_since is None


@pytest.mark.parametrize("platform", ["shopee", "tiktokshop"])
def test_marketplaces_have_no_24_hour_window(client, channels, admin_member, fake_platforms, platform):
    conv = waiting_conversation(channels[platform], inbound_ago=timedelta(days=3))
    assert reply(client, conv, admin_member, "Halo kak, pesanan sudah dikirim ya").status_code == 201
    assert len(fake_platforms.requests) == 1


@pytest.mark.parametrize("platform", ALL_PLATFORMS)
def test_platform_refusal_on_each_platform_is_502(client, channels, admin_member, fake_platforms, platform):
    refusals = {
        "whatsapp": (400, {"error": {"message": "Bad token", "code": 190}}),
        "instagram": (400, {"error": {"message": "Bad token", "code": 190}}),
        "messenger": (400, {"error": {"message": "Bad token", "code": 190}}),
        "shopee": (200, {"error": "error_auth", "message": "Bad token", "request_id": "r1"}),
        "tiktokshop": (200, {"code": 105002, "message": "Bad token", "request_id": "r1"}),
    }
    fake_platforms.queue_response(*refusals[platform])
    conv = waiting_conversation(channels[platform])
    response = reply(client, conv, admin_member, "Ready kak")
    assert response.status_code == 502, response.content
    assert "Bad token" in response.json()["error"]
    assert Message.objects.get(direction="out").status == "failed"
