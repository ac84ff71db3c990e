"""Shopee webchat push (code 10) through the real webhook view and PostgreSQL."""

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

CONVERSATION_ID = "726354810293847561"


def shopee_signature(partner_key: str, callback_url: str, raw: bytes) -> str:
    """Independent of the adapter: the documented formula over the raw bytes."""
    return hmac.new(partner_key.encode(), callback_url.encode() + b"|" + raw, hashlib.sha256).hexdigest()


def deliver(client: Any, channel: Any, raw: bytes) -> Any:
    return post_webhook(client, "shopee", raw, signed_headers(channel, raw))


def variant(name: str, **content_changes: Any) -> bytes:
    body = json.loads(sample(name))
    body["data"]["content"].update(content_changes)
    return json.dumps(body, ensure_ascii=False).encode()


def test_adapter_signature_matches_the_documented_formula(channels):
    raw = sample("shopee_text.json")
    secrets = channels["shopee"].secrets
    assert signed_headers(channels["shopee"], raw) == {
        "Authorization": shopee_signature(secrets["partner_key"], secrets["callback_url"], raw)
    }


def test_buyer_text_is_stored_and_answered_with_an_empty_body(client, channels):
    raw = sample("shopee_text.json")
    headers = {
        "Authorization": shopee_signature("shopee-partner-key", "https://balas.example.com/webhooks/shopee/", raw)
    }
    response = post_webhook(client, "shopee", raw, headers)
    assert response.status_code == 200
    assert response.content == b""
    message = Message.objects.select_related("conversation__contact").get()
    assert message.platform_message_id == "2400000000000000001"
    assert message.direction == "in"
    assert message.source == "customer"
    assert message.kind == "text"
    assert message.text == "Kak, produk serum ini ready? mau order 2"
    assert message.sent_at == datetime(2026, 3, 2, 3, 15, 0, tzinfo=UTC)
    assert message.attachments == []
    assert message.status == "received"
    assert message.sender_label == ""
    assert message.conversation.contact.external_id == "312345678"
    assert message.conversation.contact.name == "siti.rahma88"
    assert message.conversation.platform_conversation_id == CONVERSATION_ID
    conversation = Conversation.objects.get()
    assert conversation.waiting_since == datetime(2026, 3, 2, 3, 15, 0, tzinfo=UTC)
    assert conversation.unread_count == 1
    event = WebhookEvent.objects.get()
    assert event.outcome == "accepted"
    assert event.platform == "shopee"
    assert event.body == raw.decode()


def test_image_keeps_url_thumbnail_and_size(client, channels):
    raw = sample("shopee_image.json")
    response = deliver(client, channels["shopee"], raw)
    assert response.status_code == 200
    assert response.content == b""
    message = Message.objects.select_related("conversation__contact").get()
    assert message.platform_message_id == "2400000000000000002"
    assert message.direction == "in"
    assert message.source == "customer"
    assert message.kind == "image"
    assert message.text == ""
    assert message.sent_at == datetime(2026, 3, 2, 3, 15, 40, tzinfo=UTC)
    assert message.attachments == [
        {
            "type": "image",
            "url": "https://cf.shopee.co.id/file/test-only-serum-photo",
            "thumb_url": "test-only-serum-photo_tn",
            "width": 480,
            "height": 640,
        }
    ]
    assert message.conversation.contact.external_id == "312345678"
    assert message.conversation.contact.name == "siti.rahma88"
    assert message.conversation.platform_conversation_id == CONVERSATION_ID


def test_seller_centre_echo_is_a_shop_reply_to_the_buyer_that_ends_the_wait(client, channels):
    assert deliver(client, channels["shopee"], sample("shopee_text.json")).status_code == 200
    assert Conversation.objects.get().waiting_since is not None
    response = deliver(client, channels["shopee"], sample("shopee_echo.json"))
    assert response.status_code == 200
    assert response.content == b""
    echo = Message.objects.select_related("conversation__contact").get(direction="out")
    assert echo.platform_message_id == "2400000000000000003"
    assert echo.source == "echo"
    assert echo.kind == "text"
    assert echo.text == "Ready kak, stok masih 15. Silakan checkout ya 🙏"
    assert echo.sent_at == datetime(2026, 3, 2, 3, 17, 0, tzinfo=UTC)
    assert echo.attachments == []
    assert echo.status == "sent"
    assert echo.sender_label == "cs_dina"
    # The contact is the buyer (to_id), not the seller account that sent it.
    assert echo.conversation.contact.external_id == "312345678"
    assert echo.conversation.contact.name == "siti.rahma88"
    assert echo.conversation.platform_conversation_id == CONVERSATION_ID
    assert Contact.objects.count() == 1
    conversation = Conversation.objects.get()
    assert conversation.waiting_since is None
    assert conversation.last_reply_at == echo.sent_at
    assert conversation.unread_count == 0


def test_echo_without_sub_account_is_labelled_with_the_shop_user_name(client, channels):
    raw = variant("shopee_echo.json", sub_account_name=0, sub_account_id=0)
    assert deliver(client, channels["shopee"], raw).status_code == 200
    assert Message.objects.get().sender_label == "glowbeauty.id"


def test_from_shop_id_sent_as_a_string_still_marks_our_message(client, channels):
    raw = variant("shopee_echo.json", from_shop_id="880123456")
    assert deliver(client, channels["shopee"], raw).status_code == 200
    message = Message.objects.select_related("conversation__contact").get()
    assert (message.direction, message.source) == ("out", "echo")
    assert message.conversation.contact.external_id == "312345678"


@pytest.mark.parametrize("status", ["auto_reply", "offwork_autoreply"])
def test_shopee_auto_reply_is_auto_and_keeps_the_customer_waiting(client, channels, status):
    assert deliver(client, channels["shopee"], sample("shopee_text.json")).status_code == 200
    waiting_since = Conversation.objects.get().waiting_since
    assert waiting_since == datetime(2026, 3, 2, 3, 15, 0, tzinfo=UTC)

    auto = variant(
        "shopee_echo.json",
        message_id="2400000000000000009",
        status=status,
        created_timestamp=1772421301,
        sub_account_name=0,
        content={"text": "Terima kasih sudah menghubungi kami, kami akan membalas segera."},
    )
    response = deliver(client, channels["shopee"], auto)
    assert response.status_code == 200
    assert response.content == b""
    message = Message.objects.get(platform_message_id="2400000000000000009")
    assert message.direction == "out"
    assert message.source == "auto"
    assert message.sent_at == datetime(2026, 3, 2, 3, 15, 1, tzinfo=UTC)
    assert message.sender_label == "glowbeauty.id"
    conversation = Conversation.objects.get()
    assert conversation.waiting_since == waiting_since
    assert conversation.last_reply_at is None

    # The human echo afterwards does end the wait.
    assert deliver(client, channels["shopee"], sample("shopee_echo.json")).status_code == 200
    assert Conversation.objects.get().waiting_since is None


@pytest.mark.parametrize(
    ("message_type", "content", "kind", "attachments"),
    [
        (
            "video",
            {"video_url": "https://cf.shopee.co.id/file/test-video", "thumb_url": "tn-video", "duration_seconds": 12},
            "video",
            [
                {
                    "type": "video",
                    "url": "https://cf.shopee.co.id/file/test-video",
                    "thumb_url": "tn-video",
                    "duration_seconds": 12,
                }
            ],
        ),
        (
            "item",
            {"shop_id": 880123456, "item_id": 23456789012},
            "product",
            [{"type": "product", "shop_id": 880123456, "item_id": 23456789012}],
        ),
        (
            "order",
            {"shop_id": 880123456, "order_sn": "260302ABCDEF12"},
            "order",
            [{"type": "order", "order_sn": "260302ABCDEF12", "shop_id": 880123456}],
        ),
        (
            "sticker",
            {"sticker_id": "st-1", "sticker_package_id": "pkg-9"},
            "sticker",
            [{"type": "sticker", "sticker_id": "st-1", "sticker_package_id": "pkg-9"}],
        ),
        ("hologram", {"beam": {"x": 1}}, "unsupported", [{"type": "hologram"}]),
        ("faq_liveagent", {}, "unsupported", [{"type": "faq_liveagent"}]),
        ("bundle_message", {"text": "Paket hemat 3 serum"}, "unsupported", [{"type": "bundle_message"}]),
    ],
)
def test_other_message_types(client, channels, message_type, content, kind, attachments):
    raw = variant("shopee_text.json", message_type=message_type, content=content)
    response = deliver(client, channels["shopee"], raw)
    assert response.status_code == 200
    message = Message.objects.get()
    assert message.kind == kind
    assert message.attachments == attachments
    assert message.direction == "in"
    assert message.source == "customer"
    assert message.text == (content.get("text") or "")
    # A message the parser does not know still shows the customer wrote.
    assert Conversation.objects.get().waiting_since == message.sent_at
    assert WebhookEvent.objects.get().outcome == "accepted"


def test_replay_twenty_times_stores_one_message(client, channels):
    raw = sample("shopee_text.json")
    headers = signed_headers(channels["shopee"], raw)
    for _ in range(20):
        response = post_webhook(client, "shopee", raw, headers)
        assert response.status_code == 200
        assert response.content == b""
    assert Message.objects.count() == 1
    assert WebhookEvent.objects.filter(outcome="accepted").count() == 1
    assert WebhookEvent.objects.filter(outcome="duplicate").count() == 19
    assert Conversation.objects.get().unread_count == 1


def _other_shopee_channel(shop: Any) -> Any:
    return ChannelFactory(
        shop=shop,
        platform="shopee",
        account_id="880999999",
        secrets={
            "partner_id": "2009999",
            "partner_key": "another-partner-key",
            "access_token": "other-token",
            "callback_url": "https://balas.example.com/webhooks/shopee/",
        },
    )


@pytest.mark.parametrize(
    "make_headers",
    [
        pytest.param(lambda raw, other: {}, id="missing"),
        pytest.param(lambda raw, other: {"Authorization": ""}, id="empty"),
        pytest.param(lambda raw, other: {"Authorization": "0" * 64}, id="zeros"),
        pytest.param(lambda raw, other: {"Authorization": "junk"}, id="junk"),
        pytest.param(
            lambda raw, other: {
                "Authorization": shopee_signature("wrong-key", "https://balas.example.com/webhooks/shopee/", raw)
            },
            id="wrong-key",
        ),
        pytest.param(
            lambda raw, other: {
                "Authorization": shopee_signature("shopee-partner-key", "https://evil.example.com/", raw)
            },
            id="wrong-callback-url",
        ),
        pytest.param(
            lambda raw, other: {"Authorization": shopee_signature("shopee-partner-key", "", raw)},
            id="no-callback-url",
        ),
        pytest.param(lambda raw, other: signed_headers(other, raw), id="other-channel"),
        pytest.param(
            lambda raw, other: {
                "Authorization": "sha256="
                + shopee_signature("shopee-partner-key", "https://balas.example.com/webhooks/shopee/", raw)
            },
            id="meta-style-prefix",
        ),
        pytest.param(
            lambda raw, other: {
                "X-Hub-Signature-256": "sha256="
                + shopee_signature("shopee-partner-key", "https://balas.example.com/webhooks/shopee/", raw)
            },
            id="wrong-header",
        ),
    ],
)
def test_bad_signature_is_401_and_stores_nothing(client, channels, shop, make_headers):
    other = _other_shopee_channel(shop)
    raw = sample("shopee_text.json")
    response = post_webhook(client, "shopee", raw, make_headers(raw, other))
    assert response.status_code == 401
    assert Message.objects.count() == 0
    assert WebhookEvent.objects.count() == 0
    assert Contact.objects.count() == 0


def test_signature_over_other_bytes_is_401(client, channels):
    raw = sample("shopee_text.json")
    headers = signed_headers(channels["shopee"], raw)
    tampered = raw.replace(b"mau order 2", b"mau order 9")
    assert post_webhook(client, "shopee", tampered, headers).status_code == 401
    assert Message.objects.count() == 0
    assert WebhookEvent.objects.count() == 0


def test_unknown_shop_is_404(client, channels):
    raw = sample("shopee_text.json").replace(b'"shop_id": 880123456,\n  "code"', b'"shop_id": 770000001,\n  "code"')
    assert b"770000001" in raw
    response = post_webhook(client, "shopee", raw, signed_headers(channels["shopee"], raw))
    assert response.status_code == 404
    assert "770000001" in response.json()["error"]
    assert Message.objects.count() == 0
    assert WebhookEvent.objects.count() == 0


def test_inactive_channel_is_404(client, channels):
    channels["shopee"].is_active = False
    channels["shopee"].save(update_fields=["is_active"])
    raw = sample("shopee_text.json")
    assert post_webhook(client, "shopee", raw, signed_headers(channels["shopee"], raw)).status_code == 404
    assert Message.objects.count() == 0


def test_empty_probe_when_the_url_is_saved_gets_2xx(client, channels):
    response = post_webhook(client, "shopee", b"")
    assert response.status_code == 200
    assert response.content == b""
    assert WebhookEvent.objects.count() == 0
