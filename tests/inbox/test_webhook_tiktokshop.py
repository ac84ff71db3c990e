"""TikTok Shop customer service webhooks (type 14 NEW_MESSAGE) through the real view and PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from inbox.models import Contact, Conversation, Message, WebhookEvent
from tests.conftest import post_webhook, sample, signed_headers
from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db(transaction=True)

CONVERSATION_ID = "7496000000000000001"


def tiktok_signature(app_key: str, app_secret: str, raw: bytes) -> str:
    """Independent of the adapter: the documented formula over the raw bytes."""
    return hmac.new(app_secret.encode(), app_key.encode() + raw, hashlib.sha256).hexdigest()


def deliver(client: Any, channel: Any, raw: bytes) -> Any:
    return post_webhook(client, "tiktokshop", raw, signed_headers(channel, raw))


def variant(name: str, *, envelope: dict[str, Any] | None = None, **data_changes: Any) -> bytes:
    body = json.loads(sample(name))
    body.update(envelope or {})
    body["data"].update(data_changes)
    return json.dumps(body, ensure_ascii=False).encode()


def test_adapter_signature_matches_the_documented_formula(channels):
    raw = sample("tiktokshop_text.json")
    assert signed_headers(channels["tiktokshop"], raw) == {
        "Authorization": tiktok_signature("tts-app-key", "tts-app-secret", raw)
    }


def test_buyer_text_is_stored_with_the_conversation_as_contact(client, channels):
    raw = sample("tiktokshop_text.json")
    headers = {"Authorization": tiktok_signature("tts-app-key", "tts-app-secret", raw)}
    response = post_webhook(client, "tiktokshop", raw, headers)
    assert response.status_code == 200
    message = Message.objects.select_related("conversation__contact").get()
    assert message.platform_message_id == "7499000000000000001"
    assert message.direction == "in"
    assert message.source == "customer"
    assert message.kind == "text"
    assert message.text == "Kak, produk serum ini ready? mau order 2"
    assert message.sent_at == datetime(2026, 3, 2, 3, 15, 0, tzinfo=UTC)
    assert message.attachments == []
    assert message.status == "received"
    contact = message.conversation.contact
    assert contact.external_id == CONVERSATION_ID
    assert contact.name == "sitirahma88"
    assert contact.extra == {"im_user_id": "7497000000000000001"}
    assert message.conversation.platform_conversation_id == CONVERSATION_ID
    conversation = Conversation.objects.get()
    assert conversation.waiting_since == datetime(2026, 3, 2, 3, 15, 0, tzinfo=UTC)
    assert conversation.unread_count == 1
    event = WebhookEvent.objects.get()
    assert event.outcome == "accepted"
    assert event.body == raw.decode()


def test_image_content_string_is_decoded(client, channels):
    assert deliver(client, channels["tiktokshop"], sample("tiktokshop_image.json")).status_code == 200
    message = Message.objects.select_related("conversation__contact").get()
    assert message.platform_message_id == "7499000000000000002"
    assert (message.direction, message.source, message.kind) == ("in", "customer", "image")
    assert message.text == ""
    assert message.sent_at == datetime(2026, 3, 2, 3, 15, 40, tzinfo=UTC)
    assert message.attachments == [
        {"type": "image", "url": "https://p16-oec.example.invalid/test-serum.image", "width": 1080, "height": 1440}
    ]
    assert message.conversation.contact.external_id == CONVERSATION_ID
    assert message.conversation.contact.name == "sitirahma88"
    assert message.conversation.platform_conversation_id == CONVERSATION_ID


def test_seller_side_echo_joins_the_buyers_conversation_and_ends_the_wait(client, channels):
    assert deliver(client, channels["tiktokshop"], sample("tiktokshop_text.json")).status_code == 200
    assert deliver(client, channels["tiktokshop"], sample("tiktokshop_echo.json")).status_code == 200
    echo = Message.objects.select_related("conversation__contact").get(direction="out")
    assert echo.platform_message_id == "7499000000000000003"
    assert echo.source == "echo"
    assert echo.kind == "text"
    assert echo.text == "Ready kak, stok masih 15. Silakan checkout ya 🙏"
    assert echo.sent_at == datetime(2026, 3, 2, 3, 17, 0, tzinfo=UTC)
    assert echo.attachments == []
    assert echo.sender_label == "GlowBeauty CS"
    assert echo.status == "sent"
    # The echo names only the seller; the buyer's name and im_user_id must survive it.
    contact = echo.conversation.contact
    assert contact.external_id == CONVERSATION_ID
    assert contact.name == "sitirahma88"
    assert contact.extra == {"im_user_id": "7497000000000000001"}
    assert echo.conversation.platform_conversation_id == CONVERSATION_ID
    assert Contact.objects.count() == 1
    assert Conversation.objects.count() == 1
    conversation = Conversation.objects.get()
    assert conversation.waiting_since is None
    assert conversation.last_reply_at == echo.sent_at


def test_echo_arriving_first_creates_a_nameless_contact_the_buyer_then_names(client, channels):
    assert deliver(client, channels["tiktokshop"], sample("tiktokshop_echo.json")).status_code == 200
    assert Contact.objects.get().name == ""
    assert deliver(client, channels["tiktokshop"], sample("tiktokshop_text.json")).status_code == 200
    contact = Contact.objects.get()
    assert contact.name == "sitirahma88"
    assert contact.extra == {"im_user_id": "7497000000000000001"}


@pytest.mark.parametrize(
    ("role", "source"), [("ROBOT", "auto"), ("SYSTEM", "auto"), ("SHOP", "echo"), ("SELLER", "echo")]
)
def test_non_buyer_roles(client, channels, role, source):
    assert deliver(client, channels["tiktokshop"], sample("tiktokshop_text.json")).status_code == 200
    raw = variant(
        "tiktokshop_echo.json",
        sender={"im_user_id": "7497000000000000998", "role": role, "nickname": "", "avatar": ""},
    )
    assert deliver(client, channels["tiktokshop"], raw).status_code == 200
    message = Message.objects.get(direction="out")
    assert message.source == source
    assert message.sender_label == role
    conversation = Conversation.objects.get()
    if source == "auto":
        assert conversation.waiting_since == datetime(2026, 3, 2, 3, 15, 0, tzinfo=UTC)
    else:
        assert conversation.waiting_since is None


@pytest.mark.parametrize(
    ("message_type", "content", "kind", "text", "attachments"),
    [
        (
            "VIDEO",
            {"url": "https://v16.example.invalid/v.mp4", "cover": "https://p16.example.invalid/c.jpg", "duration": 9},
            "video",
            "",
            [
                {
                    "type": "video",
                    "url": "https://v16.example.invalid/v.mp4",
                    "cover": "https://p16.example.invalid/c.jpg",
                    "duration": 9,
                }
            ],
        ),
        (
            "PRODUCT_CARD",
            {"product_id": "1729384756", "title": "Serum"},
            "product",
            "",
            [{"type": "product", "card": "PRODUCT_CARD", "product_id": "1729384756"}],
        ),
        (
            "ORDER_CARD",
            {"order_id": "576461413038785752"},
            "order",
            "",
            [{"type": "order", "card": "ORDER_CARD", "order_id": "576461413038785752"}],
        ),
        (
            "RETURN_REFUND_CARD",
            {"order_id": "576461413038785752", "return_id": "4035"},
            "order",
            "",
            [{"type": "order", "card": "RETURN_REFUND_CARD", "order_id": "576461413038785752", "return_id": "4035"}],
        ),
        ("EMOTICONS", {"emoticon_id": "e1"}, "sticker", "", [{"type": "sticker", "emoticon_id": "e1"}]),
        ("COUPON_CARD", {"coupon_id": "c1"}, "unsupported", "", [{"type": "COUPON_CARD"}]),
        ("HOLOGRAM", {"beam": [1, 2]}, "unsupported", "", [{"type": "HOLOGRAM"}]),
    ],
)
def test_other_message_types(client, channels, message_type, content, kind, text, attachments):
    raw = variant("tiktokshop_text.json", type=message_type, content=json.dumps(content))
    assert deliver(client, channels["tiktokshop"], raw).status_code == 200
    message = Message.objects.get()
    assert message.kind == kind
    assert message.text == text
    assert message.attachments == attachments
    assert (message.direction, message.source) == ("in", "customer")
    assert Conversation.objects.get().waiting_since == message.sent_at


def test_missing_create_time_falls_back_to_the_envelope_timestamp(client, channels):
    body = json.loads(sample("tiktokshop_text.json"))
    del body["data"]["create_time"]
    raw = json.dumps(body).encode()
    assert deliver(client, channels["tiktokshop"], raw).status_code == 200
    assert Message.objects.get().sent_at == datetime(2026, 3, 2, 3, 15, 1, tzinfo=UTC)


def test_create_time_in_milliseconds_is_understood(client, channels):
    raw = variant("tiktokshop_text.json", create_time=1772421300000)
    assert deliver(client, channels["tiktokshop"], raw).status_code == 200
    assert Message.objects.get().sent_at == datetime(2026, 3, 2, 3, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize("event_type", [13, 33, 1, 99])
def test_other_event_types_are_acknowledged_and_ignored(client, channels, event_type):
    raw = variant("tiktokshop_text.json", envelope={"type": event_type})
    response = deliver(client, channels["tiktokshop"], raw)
    assert response.status_code == 200
    assert Message.objects.count() == 0
    event = WebhookEvent.objects.get()
    assert event.outcome == "ignored"
    assert f"event type {event_type}" in event.detail


def test_new_conversation_without_a_message_is_ignored(client, channels):
    raw = json.dumps(
        {
            "type": 13,
            "tts_notification_id": "7498000000000000010",
            "shop_id": "7495000000000000001",
            "timestamp": 1772421299,
            "data": {"conversation_id": CONVERSATION_ID, "create_time": 1772421299},
        }
    ).encode()
    assert deliver(client, channels["tiktokshop"], raw).status_code == 200
    assert Message.objects.count() == 0
    assert WebhookEvent.objects.get().outcome == "ignored"


def test_replay_twenty_times_stores_one_message(client, channels):
    raw = sample("tiktokshop_text.json")
    headers = signed_headers(channels["tiktokshop"], raw)
    for _ in range(20):
        assert post_webhook(client, "tiktokshop", raw, headers).status_code == 200
    assert Message.objects.count() == 1
    assert WebhookEvent.objects.filter(outcome="duplicate").count() == 19


def test_retry_with_a_new_notification_id_is_still_one_message(client, channels):
    for notification_id in ("7498000000000000001", "7498000000000000077"):
        raw = variant("tiktokshop_text.json", envelope={"tts_notification_id": notification_id})
        assert deliver(client, channels["tiktokshop"], raw).status_code == 200
    assert Message.objects.count() == 1


def _other_tiktok_channel(shop: Any) -> Any:
    return ChannelFactory(
        shop=shop,
        platform="tiktokshop",
        account_id="7495000000000000999",
        secrets={"app_key": "other-key", "app_secret": "other-secret", "access_token": "t", "shop_cipher": "X"},
    )


@pytest.mark.parametrize(
    "make_headers",
    [
        pytest.param(lambda raw, other: {}, id="missing"),
        pytest.param(lambda raw, other: {"Authorization": ""}, id="empty"),
        pytest.param(lambda raw, other: {"Authorization": "0" * 64}, id="zeros"),
        pytest.param(
            lambda raw, other: {"Authorization": tiktok_signature("tts-app-key", "wrong-secret", raw)},
            id="wrong-secret",
        ),
        pytest.param(
            lambda raw, other: {"Authorization": tiktok_signature("", "tts-app-secret", raw)}, id="without-app-key"
        ),
        pytest.param(
            lambda raw, other: {"Authorization": "Bearer " + tiktok_signature("tts-app-key", "tts-app-secret", raw)},
            id="bearer-prefix",
        ),
        pytest.param(lambda raw, other: signed_headers(other, raw), id="other-channel"),
        pytest.param(
            lambda raw, other: {"X-Tts-Signature": tiktok_signature("tts-app-key", "tts-app-secret", raw)},
            id="wrong-header",
        ),
    ],
)
def test_bad_signature_is_401_and_stores_nothing(client, channels, shop, make_headers):
    other = _other_tiktok_channel(shop)
    raw = sample("tiktokshop_text.json")
    response = post_webhook(client, "tiktokshop", raw, make_headers(raw, other))
    assert response.status_code == 401
    assert Message.objects.count() == 0
    assert WebhookEvent.objects.count() == 0
    assert Contact.objects.count() == 0


def test_unknown_shop_is_404(client, channels):
    raw = variant("tiktokshop_text.json", envelope={"shop_id": "7495000000000000404"})
    response = deliver(client, channels["tiktokshop"], raw)
    assert response.status_code == 404
    assert "7495000000000000404" in response.json()["error"]
    assert Message.objects.count() == 0
    assert WebhookEvent.objects.count() == 0
