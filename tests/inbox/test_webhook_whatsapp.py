from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from inbox.models import Conversation, Message, WebhookEvent
from tests.conftest import post_webhook, sample, signed_headers

pytestmark = pytest.mark.django_db(transaction=True)


def test_customer_text_is_stored(client, channels):
    raw = sample("whatsapp_text.json")
    response = post_webhook(client, "whatsapp", raw, signed_headers(channels["whatsapp"], raw))
    assert response.status_code == 200
    message = Message.objects.get()
    assert message.platform_message_id == "wamid.TEST-IN-0001-serum-ready"
    assert message.direction == "in"
    assert message.source == "customer"
    assert message.text == "Kak, produk serum ini ready? mau order 2"
    assert message.sent_at == datetime(2026, 3, 2, 3, 15, tzinfo=UTC)
    assert message.attachments == []
    assert message.conversation.contact.external_id == "6281234567890"
    assert message.conversation.contact.name == "Siti Rahma"
    conversation = Conversation.objects.get()
    assert conversation.waiting_since == message.sent_at
    assert conversation.unread_count == 1
    assert WebhookEvent.objects.get().outcome == "accepted"


def test_image_keeps_media_metadata(client, channels):
    raw = sample("whatsapp_image.json")
    assert post_webhook(client, "whatsapp", raw, signed_headers(channels["whatsapp"], raw)).status_code == 200
    message = Message.objects.get()
    assert message.kind == "image"
    assert message.text == "Yang ini ya kak, warna pink"
    assert message.attachments == [
        {
            "type": "image",
            "media_id": "880011223344556",
            "mime_type": "image/jpeg",
            "caption": "Yang ini ya kak, warna pink",
        }
    ]
    assert message.conversation.contact.extra == {"user_id": "ID.9081726354433221100"}


def test_phone_app_echo_is_a_shop_reply_that_ends_the_wait(client, channels):
    for name in ("whatsapp_text.json", "whatsapp_echo.json"):
        raw = sample(name)
        assert post_webhook(client, "whatsapp", raw, signed_headers(channels["whatsapp"], raw)).status_code == 200
    echo = Message.objects.get(direction="out")
    assert echo.source == "echo"
    assert echo.conversation.contact.external_id == "6281234567890"
    assert echo.sent_at == datetime(2026, 3, 2, 3, 17, tzinfo=UTC)
    assert Conversation.objects.get().waiting_since is None


def test_read_status_moves_our_message_forward(client, channels):
    raw = sample("whatsapp_text.json")
    post_webhook(client, "whatsapp", raw, signed_headers(channels["whatsapp"], raw))
    conversation = Conversation.objects.get()
    Message.objects.create(
        shop=conversation.shop,
        channel=conversation.channel,
        conversation=conversation,
        platform_message_id="wamid.TEST-OUT-0001-admin-reply",
        direction="out",
        source="inbox",
        text="Ready kak",
        sent_at=datetime(2026, 3, 2, 3, 16, tzinfo=UTC),
        status="sent",
    )
    raw = sample("whatsapp_status_read.json")
    assert post_webhook(client, "whatsapp", raw, signed_headers(channels["whatsapp"], raw)).status_code == 200
    assert Message.objects.get(direction="out").status == "read"
    assert Message.objects.count() == 2


def test_replay_twenty_times_stores_one_message(client, channels):
    raw = sample("whatsapp_text.json")
    headers = signed_headers(channels["whatsapp"], raw)
    for _ in range(20):
        assert post_webhook(client, "whatsapp", raw, headers).status_code == 200
    assert Message.objects.count() == 1
    assert WebhookEvent.objects.filter(outcome="duplicate").count() == 19


@pytest.mark.parametrize(
    "headers", [{}, {"X-Hub-Signature-256": "sha256=" + "0" * 64}, {"X-Hub-Signature-256": "junk"}]
)
def test_bad_signature_is_401_and_stores_nothing(client, channels, headers):
    raw = sample("whatsapp_text.json")
    response = post_webhook(client, "whatsapp", raw, headers)
    assert response.status_code == 401
    assert Message.objects.count() == 0
    assert WebhookEvent.objects.count() == 0


def test_unknown_account_is_404(client, channels):
    raw = sample("whatsapp_text.json").replace(b"110223344556601", b"999999999999999")
    response = post_webhook(client, "whatsapp", raw, signed_headers(channels["whatsapp"], raw))
    assert response.status_code == 404
    assert Message.objects.count() == 0


def test_missing_text_object_is_400_naming_the_field(client, channels):
    body = json.loads(sample("whatsapp_text.json"))
    del body["entry"][0]["changes"][0]["value"]["messages"][0]["text"]
    raw = json.dumps(body).encode()
    response = post_webhook(client, "whatsapp", raw, signed_headers(channels["whatsapp"], raw))
    assert response.status_code == 400
    assert "text" in response.json()["error"]
    assert Message.objects.count() == 0


# --- exact stored fields, receipts and signatures (Meta adapters task) ------------------------
def test_image_is_stored_exactly(client, channels):
    raw = sample("whatsapp_image.json")
    assert post_webhook(client, "whatsapp", raw, signed_headers(channels["whatsapp"], raw)).status_code == 200
    message = Message.objects.select_related("conversation__contact").get()
    assert message.platform_message_id == "wamid.TEST-IN-0002-photo"
    assert message.conversation.contact.external_id == "6281234567890"
    assert message.conversation.contact.name == "Siti Rahma"
    assert (message.direction, message.source, message.status) == ("in", "customer", "received")
    assert message.sent_at == datetime(2026, 3, 2, 3, 15, 40, tzinfo=UTC)


def test_phone_app_echo_is_stored_exactly(client, channels):
    raw = sample("whatsapp_echo.json")
    assert post_webhook(client, "whatsapp", raw, signed_headers(channels["whatsapp"], raw)).status_code == 200
    echo = Message.objects.select_related("conversation__contact").get()
    assert echo.platform_message_id == "wamid.TEST-ECHO-0001-from-phone-app"
    assert echo.conversation.contact.external_id == "6281234567890"
    assert echo.conversation.contact.name == ""
    assert (echo.direction, echo.source, echo.kind, echo.status) == ("out", "echo", "text", "sent")
    assert echo.text == "Ready kak, stok masih 15. Silakan checkout ya 🙏"
    assert echo.attachments == []
    assert echo.sender_label == "WhatsApp Business app"


def test_read_status_updates_a_factory_message_and_adds_no_row(client, channels):
    from tests.factories import ContactFactory, ConversationFactory, MessageFactory

    contact = ContactFactory(channel=channels["whatsapp"], external_id="6281234567890")
    ours = MessageFactory(
        conversation=ConversationFactory(contact=contact),
        platform_message_id="wamid.TEST-OUT-0001-admin-reply",
        direction="out",
        source="inbox",
        status="delivered",
        sent_at=datetime(2026, 3, 2, 3, 16, tzinfo=UTC),
    )
    raw = sample("whatsapp_status_read.json")
    assert post_webhook(client, "whatsapp", raw, signed_headers(channels["whatsapp"], raw)).status_code == 200
    ours.refresh_from_db()
    assert ours.status == "read"
    assert Message.objects.count() == 1
    event = WebhookEvent.objects.get()
    assert (event.outcome, event.statuses_applied, event.messages_stored) == ("accepted", 1, 0)


def test_failed_status_keeps_the_platforms_reason(client, channels):
    from tests.factories import ContactFactory, ConversationFactory, MessageFactory

    contact = ContactFactory(channel=channels["whatsapp"], external_id="6281234567890")
    ours = MessageFactory(
        conversation=ConversationFactory(contact=contact),
        platform_message_id="wamid.TEST-OUT-0001-admin-reply",
        direction="out",
        source="inbox",
        status="sent",
    )
    body = json.loads(sample("whatsapp_status_read.json"))
    status = body["entry"][0]["changes"][0]["value"]["statuses"][0]
    status["status"] = "failed"
    status["errors"] = [{"code": 131047, "title": "Re-engagement message"}]
    raw = json.dumps(body).encode()
    assert post_webhook(client, "whatsapp", raw, signed_headers(channels["whatsapp"], raw)).status_code == 200
    ours.refresh_from_db()
    assert ours.status == "failed"
    assert ours.error == "Re-engagement message (code 131047)"


def test_status_for_an_unknown_message_is_acknowledged_and_stores_nothing(client, channels):
    raw = sample("whatsapp_status_read.json")
    assert post_webhook(client, "whatsapp", raw, signed_headers(channels["whatsapp"], raw)).status_code == 200
    assert Message.objects.count() == 0
    assert WebhookEvent.objects.get().outcome == "ignored"


@pytest.mark.parametrize("other", ["instagram", "messenger"])
def test_signature_with_another_channels_secret_is_401(client, channels, other):
    raw = sample("whatsapp_text.json")
    response = post_webhook(client, "whatsapp", raw, signed_headers(channels[other], raw))
    assert response.status_code == 401
    assert Message.objects.count() == 0
    assert WebhookEvent.objects.count() == 0


def test_replaying_a_phone_app_echo_twenty_times_stores_one_reply(client, channels):
    raw = sample("whatsapp_echo.json")
    headers = signed_headers(channels["whatsapp"], raw)
    for _ in range(20):
        assert post_webhook(client, "whatsapp", raw, headers).status_code == 200
    assert Message.objects.count() == 1


def test_unknown_message_type_is_kept_as_other(client, channels):
    body = json.loads(sample("whatsapp_text.json"))
    message = body["entry"][0]["changes"][0]["value"]["messages"][0]
    del message["text"]
    message["type"] = "hologram"
    message["hologram"] = {"id": "h1"}
    raw = json.dumps(body).encode()
    assert post_webhook(client, "whatsapp", raw, signed_headers(channels["whatsapp"], raw)).status_code == 200
    stored = Message.objects.get()
    assert (stored.kind, stored.text, stored.attachments) == ("unsupported", "", [{"type": "hologram"}])
    assert Conversation.objects.get().waiting_since == stored.sent_at
