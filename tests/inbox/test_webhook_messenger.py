"""Messenger webhooks through the real view and PostgreSQL: samples, echoes by app, receipts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from inbox.models import Channel, Conversation, Message, WebhookEvent
from tests.conftest import post_webhook, sample, signed_headers
from tests.factories import ContactFactory, ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db(transaction=True)

CUSTOMER = "7012345678901234"
PAGE_ID = "102938475610001"
OUR_APP_ID = b"990000000000042"  # tests.factories.SAMPLE_SECRETS["messenger"]["app_id"]
OTHER_APP_ID = b"990000000000001"  # the app_id in messenger_echo.json
ECHO_MID = "m_TEST-FB-ECHO-0001"
ECHO_TEXT = "Ready kak, stok masih 15. Silakan checkout ya 🙏"
T0 = datetime(2026, 3, 2, 3, 15, tzinfo=UTC)


def deliver(client: Any, channel: Channel, raw: bytes) -> Any:
    return post_webhook(client, "messenger", raw, signed_headers(channel, raw))


def own_app_echo() -> bytes:
    return sample("messenger_echo.json").replace(OTHER_APP_ID, OUR_APP_ID)


def page_body(*events: dict[str, Any]) -> bytes:
    return json.dumps(
        {"object": "page", "entry": [{"id": PAGE_ID, "time": 1772421300500, "messaging": list(events)}]}
    ).encode()


def conversation_for(channel: Channel) -> Conversation:
    contact = ContactFactory(channel=channel, external_id=CUSTOMER, name="")
    return ConversationFactory(contact=contact)


def shop_message(
    conversation: Conversation, *, mid: str | None, sent_at: datetime, status: str = "sent", **kw: Any
) -> Message:
    return MessageFactory(
        conversation=conversation,
        platform_message_id=mid,
        direction="out",
        source=kw.pop("source", "inbox"),
        status=status,
        sent_at=sent_at,
        text=kw.pop("text", "Ready kak"),
        **kw,
    )


def test_customer_text_is_stored_exactly(client, channels):
    response = deliver(client, channels["messenger"], sample("messenger_text.json"))
    assert response.status_code == 200
    message = Message.objects.select_related("conversation__contact").get()
    assert message.platform_message_id == "m_TEST-FB-IN-0001"
    assert message.channel == channels["messenger"]
    assert message.conversation.contact.external_id == CUSTOMER
    assert message.conversation.contact.name == ""
    assert message.direction == "in"
    assert message.source == "customer"
    assert message.kind == "text"
    assert message.text == "Kak, produk serum ini ready? mau order 2"
    assert message.sent_at == T0
    assert message.attachments == []
    assert message.status == "received"
    conversation = Conversation.objects.get()
    assert conversation.waiting_since == T0
    assert WebhookEvent.objects.get().outcome == "accepted"


def test_image_keeps_the_attachment_url(client, channels):
    assert deliver(client, channels["messenger"], sample("messenger_image.json")).status_code == 200
    message = Message.objects.select_related("conversation__contact").get()
    assert message.platform_message_id == "m_TEST-FB-IN-0002"
    assert message.conversation.contact.external_id == CUSTOMER
    assert (message.direction, message.source, message.kind, message.text) == ("in", "customer", "image", "")
    assert message.sent_at == datetime(2026, 3, 2, 3, 15, 40, tzinfo=UTC)
    assert message.attachments == [{"type": "image", "url": "https://scontent.example.invalid/v/test-serum.jpg"}]


def test_echo_from_another_app_is_a_human_reply_that_ends_the_wait(client, channels):
    deliver(client, channels["messenger"], sample("messenger_text.json"))
    assert Conversation.objects.get().waiting_since == T0
    assert deliver(client, channels["messenger"], sample("messenger_echo.json")).status_code == 200
    echo = Message.objects.select_related("conversation__contact").get(direction="out")
    assert echo.platform_message_id == ECHO_MID
    assert echo.conversation.contact.external_id == CUSTOMER
    assert echo.source == "echo"
    assert echo.kind == "text"
    assert echo.text == ECHO_TEXT
    assert echo.sent_at == datetime(2026, 3, 2, 3, 17, tzinfo=UTC)
    assert echo.attachments == []
    assert echo.status == "sent"
    assert echo.sender_label == "Facebook Page"
    conversation = Conversation.objects.get()
    assert conversation.waiting_since is None
    assert conversation.unread_count == 0
    assert Message.objects.count() == 2


def test_echo_without_app_id_is_an_echo(client, channels):
    raw = sample("messenger_echo.json").replace(b'"app_id": 990000000000001,', b"")
    assert deliver(client, channels["messenger"], raw).status_code == 200
    assert Message.objects.get().source == "echo"


@pytest.mark.parametrize("status", ["pending", "sent"])
def test_own_app_echo_of_a_stored_reply_adds_no_row(client, channels, status):
    conversation = conversation_for(channels["messenger"])
    reply = shop_message(conversation, mid=ECHO_MID, sent_at=T0 + timedelta(seconds=119), status=status, text=ECHO_TEXT)
    assert deliver(client, channels["messenger"], own_app_echo()).status_code == 200
    assert Message.objects.count() == 1
    reply.refresh_from_db()
    assert reply.status == "sent"
    assert reply.source == "inbox"
    assert WebhookEvent.objects.get().outcome == "accepted"


def test_own_app_echo_fills_in_the_id_of_a_pending_reply(client, channels):
    conversation = conversation_for(channels["messenger"])
    pending = shop_message(
        conversation, mid=None, sent_at=T0 + timedelta(seconds=119), status="pending", text=ECHO_TEXT
    )
    # The reply was typed just before the echo's timestamp (created_at is "now" otherwise).
    Message.objects.filter(pk=pending.pk).update(created_at=T0 + timedelta(seconds=119))
    assert deliver(client, channels["messenger"], own_app_echo()).status_code == 200
    assert Message.objects.count() == 1
    pending.refresh_from_db()
    assert pending.platform_message_id == ECHO_MID
    assert pending.status == "sent"
    assert pending.source == "inbox"


def test_own_app_echo_with_other_text_does_not_take_a_pending_reply(client, channels):
    conversation = conversation_for(channels["messenger"])
    pending = shop_message(conversation, mid=None, sent_at=T0 + timedelta(seconds=119), status="pending", text="lain")
    Message.objects.filter(pk=pending.pk).update(created_at=T0 + timedelta(seconds=119))
    assert deliver(client, channels["messenger"], own_app_echo()).status_code == 200
    pending.refresh_from_db()
    assert pending.platform_message_id is None
    assert pending.status == "pending"
    stored = Message.objects.get(platform_message_id=ECHO_MID)
    assert (stored.source, stored.direction) == ("inbox", "out")


def test_delivery_with_mids_moves_that_message_forward(client, channels):
    conversation = conversation_for(channels["messenger"])
    ours = shop_message(conversation, mid="m_TEST-FB-OUT-0001", sent_at=T0 + timedelta(seconds=60))
    other = shop_message(conversation, mid="m_TEST-FB-OUT-0000", sent_at=T0 + timedelta(seconds=30))
    assert deliver(client, channels["messenger"], sample("messenger_delivery.json")).status_code == 200
    ours.refresh_from_db()
    other.refresh_from_db()
    assert ours.status == "delivered"
    assert other.status == "sent"  # mids were given: the watermark is not used
    assert Message.objects.count() == 2
    assert WebhookEvent.objects.get().statuses_applied == 1


def test_delivery_without_mids_uses_the_watermark_and_the_contact(client, channels):
    conversation = conversation_for(channels["messenger"])
    before = shop_message(conversation, mid="m-before", sent_at=T0 + timedelta(seconds=199))
    after = shop_message(conversation, mid="m-after", sent_at=T0 + timedelta(seconds=200))
    someone_else = MessageFactory(
        conversation=ConversationFactory(contact=ContactFactory(channel=channels["messenger"], external_id="999")),
        platform_message_id="m-else",
        direction="out",
        source="inbox",
        status="sent",
        sent_at=T0,
    )
    body = json.loads(sample("messenger_delivery.json"))
    del body["entry"][0]["messaging"][0]["delivery"]["mids"]
    assert deliver(client, channels["messenger"], json.dumps(body).encode()).status_code == 200
    for message in (before, after, someone_else):
        message.refresh_from_db()
    assert (before.status, after.status, someone_else.status) == ("delivered", "sent", "sent")


def test_read_by_watermark_marks_earlier_messages_read(client, channels):
    conversation = conversation_for(channels["messenger"])
    delivered = shop_message(conversation, mid="m-1", sent_at=T0 + timedelta(seconds=60), status="delivered")
    sent = shop_message(conversation, mid="m-2", sent_at=T0 + timedelta(seconds=299))
    later = shop_message(conversation, mid="m-3", sent_at=T0 + timedelta(seconds=300))
    customer_msg = MessageFactory(conversation=conversation, platform_message_id="m-in", sent_at=T0)
    assert deliver(client, channels["messenger"], sample("messenger_read.json")).status_code == 200
    for message in (delivered, sent, later, customer_msg):
        message.refresh_from_db()
    assert (delivered.status, sent.status, later.status) == ("read", "read", "sent")
    assert customer_msg.status == "received"
    assert Message.objects.count() == 4


def test_read_never_moves_a_status_backwards_and_stores_a_receipt_once(client, channels):
    conversation = conversation_for(channels["messenger"])
    read = shop_message(conversation, mid="m-1", sent_at=T0, status="read")
    assert deliver(client, channels["messenger"], sample("messenger_delivery.json")).status_code == 200
    raw = page_body(
        {
            "sender": {"id": CUSTOMER},
            "recipient": {"id": PAGE_ID},
            "timestamp": 1772421500000,
            "delivery": {"mids": ["m-1"], "watermark": 1772421499000},
        }
    )
    assert deliver(client, channels["messenger"], raw).status_code == 200
    read.refresh_from_db()
    assert read.status == "read"


def test_postback_is_stored_as_the_customers_text(client, channels):
    event = {
        "sender": {"id": CUSTOMER},
        "recipient": {"id": PAGE_ID},
        "timestamp": 1772421301000,
        "postback": {"mid": "m-postback", "title": "Lihat katalog", "payload": "CATALOG"},
    }
    assert deliver(client, channels["messenger"], page_body(event)).status_code == 200
    message = Message.objects.get()
    assert (message.platform_message_id, message.direction, message.kind, message.text) == (
        "m-postback",
        "in",
        "text",
        "Lihat katalog",
    )


@pytest.mark.parametrize(
    ("attachment", "kind"),
    [
        ({"type": "video", "payload": {"url": "https://x.invalid/v.mp4"}}, "video"),
        ({"type": "audio", "payload": {"url": "https://x.invalid/a.mp4"}}, "audio"),
        ({"type": "file", "payload": {"url": "https://x.invalid/f.pdf"}}, "document"),
        ({"type": "template", "payload": {"template_type": "generic"}}, "unsupported"),
        ({"type": "fallback", "payload": {"url": "https://x.invalid/"}, "title": "Tautan"}, "unsupported"),
    ],
)
def test_attachment_kinds(client, channels, attachment, kind):
    event = {
        "sender": {"id": CUSTOMER},
        "recipient": {"id": PAGE_ID},
        "timestamp": 1772421300000,
        "message": {"mid": f"m-{attachment['type']}", "attachments": [attachment]},
    }
    assert deliver(client, channels["messenger"], page_body(event)).status_code == 200
    stored = Message.objects.get()
    assert stored.kind == kind
    assert stored.attachments[0]["type"] == attachment["type"]


def test_replaying_one_delivery_twenty_times_stores_one_message(client, channels):
    raw = sample("messenger_text.json")
    headers = signed_headers(channels["messenger"], raw)
    for _ in range(20):
        assert post_webhook(client, "messenger", raw, headers).status_code == 200
    assert Message.objects.count() == 1
    assert Conversation.objects.get().unread_count == 1
    assert WebhookEvent.objects.filter(outcome="duplicate").count() == 19


def test_replaying_an_other_app_echo_twenty_times_stores_one_reply(client, channels):
    raw = sample("messenger_echo.json")
    headers = signed_headers(channels["messenger"], raw)
    for _ in range(20):
        assert post_webhook(client, "messenger", raw, headers).status_code == 200
    assert Message.objects.count() == 1


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-Hub-Signature-256": "sha256=" + "0" * 64}, {"X-Hub-Signature-256": "junk"}, {"X-Hub-Signature": "x"}],
)
def test_wrong_or_missing_signature_is_401_and_stores_nothing(client, channels, headers):
    response = post_webhook(client, "messenger", sample("messenger_text.json"), headers)
    assert response.status_code == 401
    assert Message.objects.count() == 0
    assert WebhookEvent.objects.count() == 0


@pytest.mark.parametrize("other", ["instagram", "whatsapp"])
def test_signature_with_another_channels_secret_is_401(client, channels, other):
    raw = sample("messenger_text.json")
    response = post_webhook(client, "messenger", raw, signed_headers(channels[other], raw))
    assert response.status_code == 401
    assert Message.objects.count() == 0
    assert WebhookEvent.objects.count() == 0


def test_instagram_body_is_not_a_messenger_webhook(client, channels):
    raw = sample("instagram_text.json")
    response = post_webhook(client, "messenger", raw, signed_headers(channels["messenger"], raw))
    assert response.status_code == 400
    assert "object" in response.json()["error"]
    assert Message.objects.count() == 0
