"""Instagram webhooks through the real view and PostgreSQL: every sample, echoes, seen, replays."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from inbox.models import Channel, Conversation, Message, WebhookEvent
from tests.conftest import post_webhook, sample, signed_headers
from tests.factories import ContactFactory, ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db(transaction=True)

CUSTOMER = "5566778899001122"
IG_ID = "17841400000000001"
ECHO_MID = "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOlRFU1QtRUNITw=="
T0 = datetime(2026, 3, 2, 3, 15, tzinfo=UTC)


def deliver(client: Any, channel: Channel, raw: bytes) -> Any:
    return post_webhook(client, "instagram", raw, signed_headers(channel, raw))


def body_with_events(*events: dict[str, Any], array: str = "messaging") -> bytes:
    return json.dumps(
        {"object": "instagram", "entry": [{"id": IG_ID, "time": 1772421300500, array: list(events)}]}
    ).encode()


def customer_event(message: dict[str, Any], ts: int = 1772421300000) -> dict[str, Any]:
    return {"sender": {"id": CUSTOMER}, "recipient": {"id": IG_ID}, "timestamp": ts, "message": message}


def shop_message(channel: Channel, *, mid: str | None, sent_at: datetime, status: str = "sent", **kw: Any) -> Message:
    contact = ContactFactory(channel=channel, external_id=CUSTOMER, name="")
    conversation = ConversationFactory(contact=contact)
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
    response = deliver(client, channels["instagram"], sample("instagram_text.json"))
    assert response.status_code == 200
    assert response.json() == {"received": True}
    message = Message.objects.select_related("conversation__contact").get()
    assert message.platform_message_id == "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOlRFU1QtMDAwMQ=="
    assert message.conversation.contact.external_id == CUSTOMER
    assert message.conversation.contact.name == ""
    assert message.channel == channels["instagram"]
    assert message.direction == "in"
    assert message.source == "customer"
    assert message.kind == "text"
    assert message.text == "Kak, produk serum ini ready? mau order 2"
    assert message.sent_at == T0
    assert message.attachments == []
    assert message.status == "received"
    conversation = Conversation.objects.get()
    assert conversation.waiting_since == T0
    assert conversation.unread_count == 1
    event = WebhookEvent.objects.get()
    assert (event.platform, event.outcome, event.messages_stored) == ("instagram", "accepted", 1)


def test_image_keeps_the_attachment_url(client, channels):
    assert deliver(client, channels["instagram"], sample("instagram_image.json")).status_code == 200
    message = Message.objects.select_related("conversation__contact").get()
    assert message.platform_message_id == "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOlRFU1QtMDAwMg=="
    assert message.conversation.contact.external_id == CUSTOMER
    assert message.direction == "in"
    assert message.source == "customer"
    assert message.kind == "image"
    assert message.text == ""
    assert message.sent_at == datetime(2026, 3, 2, 3, 15, 40, tzinfo=UTC)
    assert message.attachments == [
        {"type": "image", "url": "https://lookaside.example.invalid/ig_messaging_cdn/test-serum.jpg"}
    ]


def test_app_echo_is_a_shop_reply_to_the_recipient_and_ends_the_wait(client, channels):
    deliver(client, channels["instagram"], sample("instagram_text.json"))
    assert deliver(client, channels["instagram"], sample("instagram_echo.json")).status_code == 200
    echo = Message.objects.select_related("conversation__contact").get(direction="out")
    assert echo.platform_message_id == ECHO_MID
    assert echo.conversation.contact.external_id == CUSTOMER
    assert echo.source == "echo"
    assert echo.kind == "text"
    assert echo.text == "Ready kak, stok masih 15. Silakan checkout ya 🙏"
    assert echo.sent_at == datetime(2026, 3, 2, 3, 17, tzinfo=UTC)
    assert echo.attachments == []
    assert echo.status == "sent"
    assert echo.sender_label == "Instagram"
    assert Message.objects.count() == 2
    conversation = Conversation.objects.get()
    assert conversation.waiting_since is None
    assert conversation.last_reply_at == echo.sent_at


def test_echo_of_our_own_send_reply_adds_no_row(client, channels):
    reply = shop_message(channels["instagram"], mid=ECHO_MID, sent_at=T0 + timedelta(seconds=119), status="pending")
    assert deliver(client, channels["instagram"], sample("instagram_echo.json")).status_code == 200
    assert Message.objects.count() == 1
    reply.refresh_from_db()
    assert reply.status == "sent"
    assert reply.source == "inbox"


def test_echo_with_our_app_id_fills_in_the_pending_reply(client, channels):
    channel = channels["instagram"]
    channel.secrets = {**channel.secrets, "app_id": "1234567890"}
    channel.save()
    text = "Ready kak, stok masih 15. Silakan checkout ya 🙏"
    pending = shop_message(channel, mid=None, sent_at=T0 + timedelta(seconds=119), status="pending", text=text)
    Message.objects.filter(pk=pending.pk).update(created_at=T0 + timedelta(seconds=119))
    raw = sample("instagram_echo.json").replace(b'"is_echo": true,', b'"is_echo": true, "app_id": 1234567890,')
    assert deliver(client, channel, raw).status_code == 200
    assert Message.objects.count() == 1
    pending.refresh_from_db()
    assert pending.platform_message_id == ECHO_MID
    assert pending.status == "sent"


def test_seen_marks_the_named_message_and_everything_before_it_read(client, channels):
    channel = channels["instagram"]
    named = shop_message(channel, mid=ECHO_MID, sent_at=T0 + timedelta(seconds=120), status="delivered")
    earlier = MessageFactory(
        conversation=named.conversation,
        platform_message_id="ig-earlier",
        direction="out",
        source="echo",
        status="sent",
        sent_at=T0 + timedelta(seconds=60),
    )
    later = MessageFactory(
        conversation=named.conversation,
        platform_message_id="ig-later",
        direction="out",
        source="inbox",
        status="sent",
        sent_at=T0 + timedelta(seconds=400),
    )
    assert deliver(client, channel, sample("instagram_seen.json")).status_code == 200
    for message in (named, earlier, later):
        message.refresh_from_db()
    assert (named.status, earlier.status, later.status) == ("read", "read", "sent")
    assert Message.objects.count() == 3
    assert WebhookEvent.objects.get().statuses_applied == 2


def test_standby_events_are_parsed_like_messaging(client, channels):
    raw = body_with_events(customer_event({"mid": "ig-standby-1", "text": "Halo kak"}), array="standby")
    assert deliver(client, channels["instagram"], raw).status_code == 200
    message = Message.objects.get()
    assert (message.platform_message_id, message.direction, message.text) == ("ig-standby-1", "in", "Halo kak")


@pytest.mark.parametrize(
    ("attachment_type", "kind"),
    [
        ("video", "video"),
        ("audio", "audio"),
        ("file", "document"),
        ("share", "unsupported"),
        ("story_mention", "unsupported"),
        ("ig_reel", "unsupported"),
        ("reel", "unsupported"),
    ],
)
def test_attachment_kinds(client, channels, attachment_type, kind):
    url = f"https://lookaside.example.invalid/{attachment_type}"
    message = {"mid": f"ig-{attachment_type}", "attachments": [{"type": attachment_type, "payload": {"url": url}}]}
    assert deliver(client, channels["instagram"], body_with_events(customer_event(message))).status_code == 200
    stored = Message.objects.get()
    assert stored.kind == kind
    assert stored.attachments == [{"type": attachment_type, "url": url}]


def test_unknown_message_type_is_kept_as_other(client, channels):
    raw = body_with_events(customer_event({"mid": "ig-hologram", "hologram": {"id": 1}}))
    assert deliver(client, channels["instagram"], raw).status_code == 200
    message = Message.objects.get()
    assert (message.kind, message.text, message.attachments) == ("unsupported", "", [{"type": "hologram"}])
    assert Conversation.objects.get().waiting_since == T0


def test_unsupported_message_is_kept_as_other(client, channels):
    raw = body_with_events(customer_event({"mid": "ig-unsupported", "is_unsupported": True}))
    assert deliver(client, channels["instagram"], raw).status_code == 200
    assert Message.objects.get().kind == "unsupported"


def test_postback_is_stored_as_the_customers_text(client, channels):
    event = {
        "sender": {"id": CUSTOMER},
        "recipient": {"id": IG_ID},
        "timestamp": 1772421305000,
        "postback": {"mid": "ig-postback-1", "title": "Cek ongkir", "payload": "ONGKIR"},
    }
    assert deliver(client, channels["instagram"], body_with_events(event)).status_code == 200
    message = Message.objects.get()
    assert (message.platform_message_id, message.direction, message.source) == ("ig-postback-1", "in", "customer")
    assert (message.kind, message.text) == ("text", "Cek ongkir")
    assert message.sent_at == T0 + timedelta(seconds=5)


@pytest.mark.parametrize(
    ("event", "words"),
    [
        ({"reaction": {"mid": "x", "action": "react", "reaction": "love", "emoji": "❤"}}, "reaction"),
        ({"postback": {"title": "Cek ongkir", "payload": "ONGKIR"}}, "postback without mid"),
        ({"message": {"mid": "ig-deleted", "is_deleted": True}}, "message deleted"),
        ({"referral": {"ref": "ad", "source": "ADS"}}, "referral"),
        ({"message_edit": {"mid": "x", "text": "baru", "num_edit": 1}}, "message edit"),
        ({"hologram_event": {"x": 1}}, "unknown event hologram_event"),
    ],
)
def test_events_balas_does_not_handle_are_acknowledged_and_ignored(client, channels, event, words):
    event = {"sender": {"id": CUSTOMER}, "recipient": {"id": IG_ID}, "timestamp": 1772421300000, **event}
    response = deliver(client, channels["instagram"], body_with_events(event))
    assert response.status_code == 200
    assert Message.objects.count() == 0
    recorded = WebhookEvent.objects.get()
    assert recorded.outcome == "ignored"
    assert words in recorded.detail


def test_one_delivery_with_many_events_stores_each(client, channels):
    raw = body_with_events(
        customer_event({"mid": "ig-burst-1", "text": "kak"}, ts=1772421300000),
        customer_event({"mid": "ig-burst-2", "text": "ready?"}, ts=1772421301000),
        {"sender": {"id": CUSTOMER}, "recipient": {"id": IG_ID}, "timestamp": 1, "reaction": {"mid": "x"}},
    )
    assert deliver(client, channels["instagram"], raw).status_code == 200
    assert list(Message.objects.order_by("sent_at").values_list("platform_message_id", flat=True)) == [
        "ig-burst-1",
        "ig-burst-2",
    ]
    assert Conversation.objects.get().waiting_since == T0


def test_replaying_one_delivery_twenty_times_stores_one_message(client, channels):
    raw = sample("instagram_text.json")
    headers = signed_headers(channels["instagram"], raw)
    for _ in range(20):
        assert post_webhook(client, "instagram", raw, headers).status_code == 200
    assert Message.objects.count() == 1
    assert Conversation.objects.get().unread_count == 1
    assert WebhookEvent.objects.filter(outcome="accepted").count() == 1
    assert WebhookEvent.objects.filter(outcome="duplicate").count() == 19


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Hub-Signature-256": ""},
        {"X-Hub-Signature-256": "sha256=" + "0" * 64},
        {"X-Hub-Signature-256": "junk"},
        {"X-Hub-Signature": "sha1=" + "0" * 40},
    ],
)
def test_wrong_or_missing_signature_is_401_and_stores_nothing(client, channels, headers):
    response = post_webhook(client, "instagram", sample("instagram_text.json"), headers)
    assert response.status_code == 401
    assert Message.objects.count() == 0
    assert WebhookEvent.objects.count() == 0


@pytest.mark.parametrize("other", ["messenger", "whatsapp"])
def test_signature_with_another_channels_secret_is_401(client, channels, other):
    raw = sample("instagram_text.json")
    response = post_webhook(client, "instagram", raw, signed_headers(channels[other], raw))
    assert response.status_code == 401
    assert Message.objects.count() == 0
    assert WebhookEvent.objects.count() == 0


def test_signature_over_other_bytes_is_401(client, channels):
    raw = sample("instagram_text.json")
    headers = signed_headers(channels["instagram"], raw)
    tampered = raw.replace(b"mau order 2", b"mau order 9")
    assert post_webhook(client, "instagram", tampered, headers).status_code == 401
    assert Message.objects.count() == 0


def test_unknown_account_is_404(client, channels):
    raw = sample("instagram_text.json").replace(IG_ID.encode(), b"17841499999999999")
    response = post_webhook(client, "instagram", raw, signed_headers(channels["instagram"], raw))
    assert response.status_code == 404
    assert Message.objects.count() == 0
