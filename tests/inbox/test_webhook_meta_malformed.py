"""Bodies that are not (quite) Meta's format, for WhatsApp, Instagram and Messenger.

Every one goes through the real webhook view, correctly signed unless said otherwise. Never a
500: a body where nothing is valid is a 400 whose error names the field, and stores no row; a
body with something valid stores exactly that; what Balas does not handle is acknowledged.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from inbox.models import Message, WebhookEvent
from tests.conftest import post_webhook, sample, signed_headers

pytestmark = pytest.mark.django_db(transaction=True)

DELETE = object()
IG_EVENT = ("entry", 0, "messaging", 0)
IG_MSG = (*IG_EVENT, "message")
FB_EVENT = ("entry", 0, "messaging", 0)
FB_MSG = (*FB_EVENT, "message")
WA_VALUE = ("entry", 0, "changes", 0, "value")
WA_MSG = (*WA_VALUE, "messages", 0)
WA_STATUS = (*WA_VALUE, "statuses", 0)
SAMPLE_FOR = {"instagram": "instagram_text.json", "messenger": "messenger_text.json", "whatsapp": "whatsapp_text.json"}


def variant(name: str, *changes: tuple[tuple[Any, ...], Any]) -> bytes:
    """The sample with each (path, value) set, or deleted when value is DELETE."""
    body: Any = json.loads(sample(name))
    for path, value in changes:
        node = body
        for key in path[:-1]:
            node = node[key]
        if value is DELETE:
            del node[path[-1]]
        else:
            node[path[-1]] = value
    return json.dumps(body, ensure_ascii=False).encode()


def raw_text(name: str, old: bytes, new: bytes) -> bytes:
    raw = sample(name)
    assert old in raw
    return raw.replace(old, new, 1)


def deliver(client: Any, channels: Any, platform: str, raw: bytes) -> Any:
    return post_webhook(client, platform, raw, signed_headers(channels[platform], raw))


ig = "instagram_text.json"
fb = "messenger_text.json"
wa = "whatsapp_text.json"
too_long = "x" * 300
huge = 10**400

# (platform, body, words the 400's error must contain)
REFUSED: list[Any] = [
    # --- not JSON at all (answered before the signature is looked at) ---------------------
    *[pytest.param(p, b"", "not valid JSON", id=f"{p}-empty") for p in ("instagram", "messenger", "whatsapp")],
    *[
        pytest.param(p, sample(SAMPLE_FOR[p])[:-7], "not valid JSON", id=f"{p}-truncated")
        for p in ("instagram", "messenger", "whatsapp")
    ],
    *[
        pytest.param(p, raw_text(SAMPLE_FOR[p], b"serum", b"s\xe9rum"), "not UTF-8", id=f"{p}-latin1-byte")
        for p in ("instagram", "messenger", "whatsapp")
    ],
    *[
        pytest.param(p, b"\xff\xfe\x00garbage", "not UTF-8", id=f"{p}-binary")
        for p in ("instagram", "messenger", "whatsapp")
    ],
    *[pytest.param(p, b"[]", "object", id=f"{p}-array") for p in ("instagram", "messenger", "whatsapp")],
    *[pytest.param(p, b"null", "object", id=f"{p}-null") for p in ("instagram", "messenger", "whatsapp")],
    *[pytest.param(p, b'"text"', "object", id=f"{p}-string") for p in ("instagram", "messenger", "whatsapp")],
    # --- Instagram ---------------------------------------------------------------------------
    pytest.param("instagram", variant(ig, (("object",), "page")), '"object"', id="ig-object-page"),
    pytest.param("instagram", variant(ig, (("object",), DELETE)), '"object"', id="ig-object-missing"),
    pytest.param("instagram", variant(ig, (("entry",), DELETE)), "entry is missing", id="ig-entry-missing"),
    pytest.param("instagram", variant(ig, (("entry",), {})), "entry has the wrong type", id="ig-entry-object"),
    pytest.param("instagram", variant(ig, (("entry",), "x")), "entry has the wrong type", id="ig-entry-string"),
    pytest.param("instagram", variant(ig, (("entry",), [])), "entry is empty", id="ig-entry-empty"),
    pytest.param("instagram", variant(ig, (("entry",), ["x"])), "entry[0]", id="ig-entry-item-string"),
    pytest.param("instagram", variant(ig, (("entry", 0, "id"), DELETE)), "entry[0].id", id="ig-entry-id-missing"),
    pytest.param(
        "instagram", variant(ig, (("entry", 0, "id"), 17841400000000001)), "entry[0].id", id="ig-entry-id-number"
    ),
    pytest.param(
        "instagram", variant(ig, (("entry", 0, "messaging"), {})), "messaging has the wrong type", id="ig-messaging-obj"
    ),
    pytest.param("instagram", variant(ig, (IG_EVENT, "x")), "messaging[0]: is not an object", id="ig-event-string"),
    pytest.param("instagram", variant(ig, ((*IG_EVENT, "sender"), DELETE)), "sender", id="ig-sender-missing"),
    pytest.param(
        "instagram", variant(ig, ((*IG_EVENT, "sender", "id"), 5566778899001122)), "sender.id", id="ig-sender-id-num"
    ),
    pytest.param("instagram", variant(ig, ((*IG_EVENT, "sender", "id"), too_long)), "sender.id", id="ig-sender-long"),
    pytest.param("instagram", variant(ig, ((*IG_EVENT, "sender", "id"), "")), "sender.id", id="ig-sender-empty"),
    pytest.param("instagram", variant(ig, ((*IG_EVENT, "recipient"), DELETE)), "recipient", id="ig-recipient-gone"),
    pytest.param(
        "instagram", variant(ig, ((*IG_EVENT, "timestamp"), "1772421300000")), "timestamp", id="ig-timestamp-string"
    ),
    pytest.param("instagram", variant(ig, ((*IG_EVENT, "timestamp"), DELETE)), "timestamp", id="ig-timestamp-gone"),
    pytest.param("instagram", variant(ig, ((*IG_EVENT, "timestamp"), True)), "timestamp", id="ig-timestamp-bool"),
    pytest.param("instagram", variant(ig, ((*IG_EVENT, "timestamp"), -5)), "timestamp", id="ig-timestamp-negative"),
    pytest.param("instagram", variant(ig, ((*IG_EVENT, "timestamp"), huge)), "timestamp", id="ig-timestamp-huge"),
    pytest.param("instagram", variant(ig, ((*IG_EVENT, "timestamp"), 1e300)), "timestamp", id="ig-timestamp-1e300"),
    pytest.param(
        "instagram",
        raw_text(ig, b'"timestamp": 1772421300000', b'"timestamp": NaN'),
        "timestamp",
        id="ig-timestamp-nan",
    ),
    pytest.param("instagram", variant(ig, (IG_MSG, "halo")), "message has the wrong type", id="ig-message-string"),
    pytest.param("instagram", variant(ig, ((*IG_MSG, "mid"), 12345)), "message.mid", id="ig-mid-number"),
    pytest.param("instagram", variant(ig, ((*IG_MSG, "mid"), DELETE)), "message.mid", id="ig-mid-missing"),
    pytest.param("instagram", variant(ig, ((*IG_MSG, "mid"), "")), "message.mid", id="ig-mid-empty"),
    pytest.param("instagram", variant(ig, ((*IG_MSG, "mid"), too_long)), "message.mid", id="ig-mid-too-long"),
    pytest.param("instagram", variant(ig, ((*IG_MSG, "text"), 42)), "message.text", id="ig-text-number"),
    pytest.param(
        "instagram", variant(ig, ((*IG_MSG, "text"), DELETE)), "neither text nor attachments", id="ig-only-mid"
    ),
    pytest.param(
        "instagram", variant(ig, ((*IG_MSG, "attachments"), {"type": "image"})), "attachments", id="ig-attach-object"
    ),
    pytest.param(
        "instagram",
        variant(ig, ((*IG_MSG, "attachments"), [{"payload": {"url": "https://x.invalid"}}])),
        "attachments[0].type",
        id="ig-attach-no-type",
    ),
    pytest.param(
        "instagram",
        variant(ig, ((*IG_MSG, "attachments"), [{"type": "image", "payload": "https://x.invalid"}])),
        "attachments[0].payload",
        id="ig-attach-payload-string",
    ),
    pytest.param("instagram", variant(ig, ((*IG_MSG, "attachments"), ["x"])), "attachments[0]", id="ig-attach-str"),
    pytest.param("instagram", variant(ig, ((*IG_MSG, "is_echo"), "true")), "is_echo", id="ig-is-echo-string"),
    pytest.param(
        "instagram",
        variant(ig, ((*IG_MSG, "is_echo"), True), ((*IG_MSG, "app_id"), [1])),
        "app_id",
        id="ig-app-id-list",
    ),
    pytest.param("instagram", variant("instagram_seen.json", ((*IG_EVENT, "read"), "x")), "read", id="ig-read-string"),
    pytest.param(
        "instagram", variant("instagram_seen.json", ((*IG_EVENT, "read"), {})), "read.watermark", id="ig-read-empty"
    ),
    pytest.param(
        "instagram", variant("instagram_seen.json", ((*IG_EVENT, "read", "mid"), 7)), "read.mid", id="ig-read-mid-num"
    ),
    pytest.param(
        "instagram",
        variant(ig, (IG_MSG, DELETE), ((*IG_EVENT, "postback"), {"mid": 5, "title": "x"})),
        "postback.mid",
        id="ig-postback-mid-number",
    ),
    pytest.param(
        "instagram",
        variant(ig, (IG_MSG, DELETE), ((*IG_EVENT, "postback"), {"mid": "p1", "title": ["x"]})),
        "postback.title",
        id="ig-postback-title-list",
    ),
    # --- Messenger -------------------------------------------------------------------------
    pytest.param("messenger", variant(fb, (("object",), "instagram")), '"object"', id="fb-object-instagram"),
    pytest.param("messenger", variant(fb, (("entry",), 5)), "entry has the wrong type", id="fb-entry-number"),
    pytest.param("messenger", variant(fb, (("entry", 0), None)), "entry[0]", id="fb-entry-null"),
    pytest.param("messenger", variant(fb, (("entry", 0, "messaging"), "x")), "messaging", id="fb-messaging-string"),
    pytest.param(
        "messenger",
        variant(fb, (("entry", 0, "messaging"), DELETE), (("entry", 0, "standby"), 1)),
        "standby",
        id="fb-standby-number",
    ),
    pytest.param("messenger", variant(fb, ((*FB_EVENT, "sender"), "7012")), "sender", id="fb-sender-string"),
    pytest.param("messenger", variant(fb, ((*FB_EVENT, "timestamp"), "soon")), "timestamp", id="fb-timestamp-str"),
    pytest.param("messenger", variant(fb, ((*FB_EVENT, "timestamp"), None)), "timestamp", id="fb-timestamp-null"),
    pytest.param("messenger", variant(fb, ((*FB_MSG, "mid"), 1.5)), "message.mid", id="fb-mid-float"),
    pytest.param("messenger", variant(fb, ((*FB_MSG, "mid"), None)), "message.mid", id="fb-mid-null"),
    pytest.param("messenger", variant(fb, ((*FB_MSG, "text"), {"body": "x"})), "message.text", id="fb-text-object"),
    pytest.param(
        "messenger", variant(fb, ((*FB_MSG, "text"), DELETE)), "neither text nor attachments", id="fb-only-mid"
    ),
    pytest.param(
        "messenger",
        variant("messenger_echo.json", ((*FB_MSG, "app_id"), True)),
        "app_id",
        id="fb-echo-app-id-bool",
    ),
    pytest.param(
        "messenger",
        variant("messenger_echo.json", ((*FB_EVENT, "recipient", "id"), 7012345678901234)),
        "recipient.id",
        id="fb-echo-recipient-number",
    ),
    pytest.param(
        "messenger", variant("messenger_delivery.json", ((*FB_EVENT, "delivery"), [])), "delivery", id="fb-dlv-list"
    ),
    pytest.param(
        "messenger",
        variant("messenger_delivery.json", ((*FB_EVENT, "delivery", "mids"), "m_TEST-FB-OUT-0001")),
        "delivery.mids",
        id="fb-dlv-mids-string",
    ),
    pytest.param(
        "messenger",
        variant("messenger_delivery.json", ((*FB_EVENT, "delivery", "mids"), [1])),
        "delivery.mids[0]",
        id="fb-dlv-mid-number",
    ),
    pytest.param(
        "messenger",
        variant(
            "messenger_delivery.json",
            ((*FB_EVENT, "delivery", "mids"), DELETE),
            ((*FB_EVENT, "delivery", "watermark"), DELETE),
        ),
        "delivery.watermark",
        id="fb-dlv-nothing",
    ),
    pytest.param(
        "messenger",
        variant(
            "messenger_delivery.json",
            ((*FB_EVENT, "delivery", "mids"), DELETE),
            ((*FB_EVENT, "delivery", "watermark"), "1772421499000"),
        ),
        "delivery.watermark",
        id="fb-dlv-watermark-string",
    ),
    pytest.param(
        "messenger",
        variant("messenger_read.json", ((*FB_EVENT, "read", "watermark"), "1772421599000")),
        "read.watermark",
        id="fb-read-watermark-string",
    ),
    pytest.param(
        "messenger",
        variant("messenger_read.json", ((*FB_EVENT, "read", "watermark"), huge)),
        "read.watermark",
        id="fb-read-watermark-huge",
    ),
    pytest.param(
        "messenger",
        variant("messenger_read.json", ((*FB_EVENT, "sender"), DELETE)),
        "sender",
        id="fb-read-no-sender",
    ),
    # --- WhatsApp ----------------------------------------------------------------------------
    pytest.param("whatsapp", variant(wa, (("object",), "page")), '"object"', id="wa-object-page"),
    pytest.param("whatsapp", variant(wa, (("entry",), {})), "entry has the wrong type", id="wa-entry-object"),
    pytest.param("whatsapp", variant(wa, (("entry", 0, "changes"), DELETE)), "changes", id="wa-changes-missing"),
    pytest.param("whatsapp", variant(wa, (("entry", 0, "changes"), {})), "changes", id="wa-changes-object"),
    pytest.param("whatsapp", variant(wa, ((*WA_VALUE, "metadata"), DELETE)), "metadata", id="wa-metadata-missing"),
    pytest.param(
        "whatsapp",
        variant(wa, ((*WA_VALUE, "metadata", "phone_number_id"), 110223344556601)),
        "phone_number_id",
        id="wa-phone-number-id-number",
    ),
    pytest.param("whatsapp", variant(wa, ((*WA_VALUE, "messages"), 5)), "messages", id="wa-messages-number"),
    pytest.param("whatsapp", variant(wa, ((*WA_VALUE, "messages"), "x")), "messages", id="wa-messages-string"),
    pytest.param("whatsapp", variant(wa, (WA_MSG, "x")), "messages[0]", id="wa-message-string"),
    pytest.param("whatsapp", variant(wa, ((*WA_MSG, "id"), 42)), "message.id", id="wa-id-number"),
    pytest.param("whatsapp", variant(wa, ((*WA_MSG, "id"), too_long)), "message.id", id="wa-id-too-long"),
    pytest.param("whatsapp", variant(wa, ((*WA_MSG, "from"), DELETE)), "message.from", id="wa-from-missing"),
    pytest.param("whatsapp", variant(wa, ((*WA_MSG, "from"), too_long)), "message.from", id="wa-from-too-long"),
    pytest.param("whatsapp", variant(wa, ((*WA_MSG, "from"), 628123)), "message.from", id="wa-from-number"),
    pytest.param("whatsapp", variant(wa, ((*WA_MSG, "timestamp"), 1772421300)), "timestamp", id="wa-timestamp-num"),
    pytest.param("whatsapp", variant(wa, ((*WA_MSG, "timestamp"), "kemarin")), "timestamp", id="wa-timestamp-word"),
    pytest.param("whatsapp", variant(wa, ((*WA_MSG, "timestamp"), "1" * 400)), "timestamp", id="wa-timestamp-huge"),
    pytest.param("whatsapp", variant(wa, ((*WA_MSG, "type"), DELETE)), "message.type", id="wa-type-missing"),
    pytest.param("whatsapp", variant(wa, ((*WA_MSG, "text"), DELETE)), "message.text", id="wa-text-missing"),
    pytest.param("whatsapp", variant(wa, ((*WA_MSG, "text", "body"), 7)), "message.text.body", id="wa-body-number"),
    pytest.param(
        "whatsapp",
        variant(wa, ((*WA_MSG, "type"), "image"), ((*WA_MSG, "image"), {"mime_type": "image/jpeg"})),
        "message.image.id",
        id="wa-image-without-id",
    ),
    pytest.param(
        "whatsapp",
        variant("whatsapp_status_read.json", ((*WA_VALUE, "statuses"), {"id": "x"})),
        "statuses",
        id="wa-statuses-object",
    ),
    pytest.param(
        "whatsapp",
        variant("whatsapp_status_read.json", ((*WA_STATUS, "status"), "exploded")),
        "exploded",
        id="wa-status-unknown",
    ),
    pytest.param(
        "whatsapp",
        variant("whatsapp_status_read.json", ((*WA_STATUS, "id"), DELETE)),
        "status.id",
        id="wa-status-id-missing",
    ),
    pytest.param(
        "whatsapp",
        variant("whatsapp_status_read.json", ((*WA_STATUS, "timestamp"), None)),
        "status.timestamp",
        id="wa-status-timestamp-null",
    ),
    pytest.param(
        "whatsapp",
        variant("whatsapp_echo.json", ((*WA_VALUE, "message_echoes"), 3)),
        "message_echoes",
        id="wa-echoes-number",
    ),
    pytest.param(
        "whatsapp",
        variant("whatsapp_echo.json", ((*WA_VALUE, "message_echoes", 0, "to"), DELETE)),
        "message_echo.to",
        id="wa-echo-to-missing",
    ),
]


@pytest.mark.parametrize(("platform", "raw", "words"), REFUSED)
def test_a_body_with_nothing_valid_is_400_naming_the_field(client, channels, platform, raw, words):
    response = deliver(client, channels, platform, raw)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert words in error
    assert Message.objects.count() == 0
    assert WebhookEvent.objects.count() == 0


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"{not json", id="truncated"),
        pytest.param(b"\xc3\x28", id="invalid-utf8"),
    ],
)
@pytest.mark.parametrize("platform", ["instagram", "messenger", "whatsapp"])
def test_unsigned_garbage_is_400_never_stored(client, channels, platform, raw):
    response = post_webhook(client, platform, raw, {})
    assert response.status_code == 400
    assert Message.objects.count() == 0
    assert WebhookEvent.objects.count() == 0


# (platform, body, words recorded on the event): acknowledged with 200, nothing stored.
IGNORED: list[Any] = [
    pytest.param(
        "instagram",
        variant(ig, (IG_MSG, DELETE), ((*IG_EVENT, "hologram_event"), {"x": 1})),
        "unknown event hologram_event",
        id="ig-unknown-event",
    ),
    pytest.param("instagram", variant(ig, (IG_EVENT, {})), "unknown event (empty)", id="ig-empty-event"),
    pytest.param("instagram", variant(ig, (("entry", 0, "messaging"), [])), "", id="ig-no-events"),
    pytest.param(
        "instagram", variant(ig, (("entry", 0, "messaging"), DELETE)), "no messaging events", id="ig-entry-no-arrays"
    ),
    pytest.param(
        "instagram",
        variant(ig, (("entry", 0, "messaging"), DELETE), (("entry", 0, "changes"), [{"field": "comments"}])),
        "field 'comments'",
        id="ig-comments-change",
    ),
    pytest.param(
        "messenger",
        variant(fb, (FB_MSG, DELETE), ((*FB_EVENT, "optin"), {"ref": "x"})),
        "opt-in",
        id="fb-optin",
    ),
    pytest.param(
        "messenger",
        variant(fb, (FB_MSG, DELETE), ((*FB_EVENT, "pass_thread_control"), {"new_owner_app_id": "1"})),
        "thread control passed",
        id="fb-pass-thread",
    ),
    pytest.param(
        "messenger",
        variant(fb, (FB_MSG, DELETE), ((*FB_EVENT, "reaction"), {"mid": "m", "action": "react"})),
        "reaction",
        id="fb-reaction",
    ),
    pytest.param(
        "whatsapp",
        variant(wa, (("entry", 0, "changes", 0, "field"), "account_update")),
        "field 'account_update'",
        id="wa-unknown-field",
    ),
    pytest.param(
        "whatsapp", variant(wa, ((*WA_VALUE, "messages"), DELETE)), "no messages or statuses", id="wa-empty-value"
    ),
]


@pytest.mark.parametrize(("platform", "raw", "words"), IGNORED)
def test_what_balas_does_not_handle_is_acknowledged_and_ignored(client, channels, platform, raw, words):
    response = deliver(client, channels, platform, raw)
    assert response.status_code == 200, response.content
    assert Message.objects.count() == 0
    event = WebhookEvent.objects.get()
    assert event.outcome == "ignored"
    assert words in event.detail


# (platform, body, the stored message's kind and text): unknown types and fields never lose a message.
STORED: list[Any] = [
    pytest.param("instagram", variant(ig, (("surprise",), {"a": 1})), "text", None, id="ig-unknown-top-field"),
    pytest.param("instagram", variant(ig, (("entry", 0, "surprise"), 1)), "text", None, id="ig-unknown-entry-field"),
    pytest.param("instagram", variant(ig, ((*IG_EVENT, "surprise"), [])), "text", None, id="ig-unknown-event-field"),
    pytest.param("instagram", variant(ig, ((*IG_MSG, "surprise"), "x")), "text", None, id="ig-unknown-msg-field"),
    pytest.param(
        "instagram",
        variant(ig, ((*IG_MSG, "text"), DELETE), ((*IG_MSG, "hologram"), {"id": "h1"})),
        "unsupported",
        "",
        id="ig-unknown-message-type",
    ),
    pytest.param("instagram", variant(ig, ((*IG_MSG, "text"), "a\u0000b")), "text", "ab", id="ig-nul-in-text"),
    pytest.param(
        "instagram", variant(ig, ((*IG_EVENT, "timestamp"), 1772421300000.0)), "text", None, id="ig-float-timestamp"
    ),
    pytest.param(
        "instagram",
        variant(ig, ((*IG_MSG, "attachments"), [{"type": "image\u0000", "payload": {"url": "https://x\u0000"}}])),
        "image",
        None,
        id="ig-nul-in-attachment",
    ),
    pytest.param("messenger", variant(fb, (("entry", 0, "surprise"), None)), "text", None, id="fb-unknown-field"),
    pytest.param(
        "messenger",
        variant(fb, ((*FB_MSG, "quick_reply"), {"payload": "YES"})),
        "text",
        None,
        id="fb-quick-reply",
    ),
    pytest.param(
        "messenger",
        variant(fb, ((*FB_MSG, "text"), DELETE), ((*FB_MSG, "sticker_pack"), {"id": 1})),
        "unsupported",
        "",
        id="fb-unknown-message-type",
    ),
    pytest.param(
        "whatsapp",
        variant(wa, ((*WA_MSG, "type"), "hologram"), ((*WA_MSG, "hologram"), {"x": 1})),
        "unsupported",
        "",
        id="wa-unknown-type",
    ),
    pytest.param("whatsapp", variant(wa, ((*WA_MSG, "type"), "unsupported")), "unsupported", "", id="wa-unsupported"),
    pytest.param("whatsapp", variant(wa, ((*WA_VALUE, "surprise"), [1])), "text", None, id="wa-unknown-field"),
    pytest.param("whatsapp", variant(wa, ((*WA_VALUE, "contacts"), 5)), "text", None, id="wa-contacts-number"),
    pytest.param("whatsapp", variant(wa, ((*WA_VALUE, "contacts"), ["x"])), "text", None, id="wa-contacts-strings"),
    pytest.param("whatsapp", variant(wa, ((*WA_MSG, "text", "body"), "a\u0000b")), "text", "ab", id="wa-nul-in-text"),
    pytest.param(
        "whatsapp",
        variant(wa, ((*WA_MSG, "type"), "location"), ((*WA_MSG, "location"), {"name": "To\u0000ko", "latitude": 1})),
        "location",
        "Toko",
        id="wa-nul-in-location",
    ),
]


@pytest.mark.parametrize(("platform", "raw", "kind", "text"), STORED)
def test_unknown_types_and_fields_never_lose_the_message(client, channels, platform, raw, kind, text):
    response = deliver(client, channels, platform, raw)
    assert response.status_code == 200, response.content
    message = Message.objects.get()
    assert message.kind == kind
    assert message.direction == "in"
    if text is not None:
        assert message.text == text
    else:
        assert message.text == "Kak, produk serum ini ready? mau order 2"


def test_instagram_valid_events_are_kept_beside_a_malformed_one(client, channels):
    good = {
        "sender": {"id": "5566778899001122"},
        "recipient": {"id": "17841400000000001"},
        "timestamp": 1772421300000,
        "message": {"mid": "ig-good", "text": "halo"},
    }
    bad = {**good, "message": {"mid": 123, "text": "rusak"}}
    raw = json.dumps(
        {"object": "instagram", "entry": [{"id": "17841400000000001", "time": 1, "messaging": [bad, good]}]}
    ).encode()
    response = deliver(client, channels, "instagram", raw)
    assert response.status_code == 200
    assert list(Message.objects.values_list("platform_message_id", flat=True)) == ["ig-good"]
    event = WebhookEvent.objects.get()
    assert "invalid: entry[0].messaging[0]: message.mid has the wrong type" in event.detail


def test_messenger_a_broken_entry_does_not_lose_the_valid_one(client, channels):
    body = json.loads(sample("messenger_text.json"))
    body["entry"].insert(0, {"time": 1, "messaging": []})  # no id: cannot be routed
    raw = json.dumps(body).encode()
    response = deliver(client, channels, "messenger", raw)
    assert response.status_code == 200
    assert Message.objects.get().platform_message_id == "m_TEST-FB-IN-0001"
    assert "entry[0].id" in WebhookEvent.objects.get().detail


def test_whatsapp_valid_message_is_kept_beside_a_malformed_one(client, channels):
    body = json.loads(sample("whatsapp_text.json"))
    messages = body["entry"][0]["changes"][0]["value"]["messages"]
    messages.append({**messages[0], "id": "wamid.second", "type": "text", "text": {"body": 5}})
    raw = json.dumps(body).encode()
    response = deliver(client, channels, "whatsapp", raw)
    assert response.status_code == 200
    assert Message.objects.get().platform_message_id == "wamid.TEST-IN-0001-serum-ready"
    assert "messages[1]" in WebhookEvent.objects.get().detail


@pytest.mark.parametrize("platform", ["instagram", "messenger", "whatsapp"])
def test_a_signed_body_in_utf16_is_400(client, channels, platform):
    # json.loads would read UTF-16, but the raw event is kept as UTF-8 text: refuse it cleanly.
    raw = sample(SAMPLE_FOR[platform]).decode().encode("utf-16")
    response = deliver(client, channels, platform, raw)
    assert response.status_code == 400
    assert "UTF-8" in response.json()["error"]
    assert Message.objects.count() == 0
