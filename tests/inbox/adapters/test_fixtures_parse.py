"""Every collected real payload (tests/fixtures/platforms/<platform>/*.json) through its adapter.

The payloads come from the platforms' documentation and widely used open-source clients (each
file's source is in the SOURCES.md beside it). Each test names the fields Balas must read out
of one payload: the shape it becomes (message, status, reaction, edit, delete, or ignored with a
reason), its kind, content, the replied-to id, and whether the timestamp was usable.
No database: tests/inbox/test_webhook_fixtures_replay.py sends the same files through the view.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from inbox.adapters import get_adapter
from inbox.adapters.base import MessageDelete, MessageEdit, NormalizedMessage, ParsedEvent, Reaction, StatusUpdate

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "platforms"
PLATFORMS = ("whatsapp", "messenger", "instagram", "shopee", "tiktokshop")


def fixture_names(platform: str) -> list[str]:
    return sorted(p.stem for p in (FIXTURES / platform).glob("*.json"))


def load(platform: str, name: str) -> Any:
    return json.loads((FIXTURES / platform / f"{name}.json").read_bytes())


def parse(platform: str, name: str, secrets: dict[str, Any] | None = None) -> ParsedEvent:
    adapter = get_adapter(platform)
    payload = load(platform, name)
    ids = adapter.account_ids(payload)
    # An account-level body names no channel: any channel's parse records it as ignored.
    return adapter.parse(payload=payload, account_id=ids[0] if ids else "any-channel", secrets=secrets or {})


def only(items: tuple[Any, ...], kind: type) -> Any:
    assert len(items) == 1, items
    assert isinstance(items[0], kind)
    return items[0]


def message(platform: str, name: str) -> NormalizedMessage:
    event = parse(platform, name)
    assert not (event.statuses or event.reactions or event.edits or event.deletes or event.errors), event
    return only(event.messages, NormalizedMessage)


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def delivery_time(value: datetime) -> bool:
    return abs(timezone.now() - value) < timedelta(minutes=1)


@pytest.mark.parametrize(
    ("platform", "name"), [(p, n) for p in PLATFORMS if (FIXTURES / p).is_dir() for n in fixture_names(p)]
)
def test_every_fixture_parses_without_errors_and_cites_its_source(platform, name):
    event = parse(platform, name)
    assert event.errors == ()
    assert not event.is_empty or event.ignored, "a valid event is stored as something or ignored with a reason"
    assert f"`{name}.json`" in (FIXTURES / platform / "SOURCES.md").read_text()


# --- WhatsApp ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "kind", "text", "content"),
    [
        ("text", "text", "Body Text", {}),
        (
            "image_with_url",
            "image",
            "",
            {
                "media_id": "65463453",
                "url": "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=65463453&source=webhook"
                "&ext=487r9re&hash=heiwchueowbcew-dnedcw",
                "mime_type": "image/jpeg",
                "sha256": "4654+8g=",
            },
        ),
        (
            "video",
            "video",
            "caption",
            {
                "media_id": "765756756",
                "mime_type": "video/mp4",
                "sha256": "Jh+2ij6PzUv/J2y+grrtegr/ZMzRxkEPwc24Oyib4s03w9Jc=",
                "caption": "caption",
            },
        ),
        (
            "document",
            "document",
            "caption",
            {
                "media_id": "1234567890987654321",
                "mime_type": "application/pdf",
                "sha256": "grwfwe/ZPx0wAbdfbdeFUNItPZ0RylL8gGUvdt3YFqc18SY=",
                "filename": "filename.pdf",
                "caption": "caption",
            },
        ),
        (
            "audio",
            "audio",
            "",
            {
                "media_id": "1234567890987654321",
                "mime_type": "audio/ogg; codecs=opus",
                "sha256": "E3dxS/PdYZE7ppA3pQ4mpCFaXBJ8pX4SRN/dsfvds/iPGA=",
                "voice": False,
            },
        ),
        (
            "voice",
            "voice",
            "",
            {
                "media_id": "1234567890987654321",
                "mime_type": "audio/ogg; codecs=opus",
                "sha256": "m04pFf2ERdaopTyFkGPA0+bX3i+YY2dYgVFwOgDLSDI=",
                "voice": True,
            },
        ),
        (
            "sticker_animated",
            "sticker",
            "",
            {
                "media_id": "1234567890987654321",
                "mime_type": "image/webp",
                "sha256": "HcwyCKrTKXHk0a00ms4HWIA76GY0Du6q4Z/iuwevw=",
                "animated": True,
            },
        ),
        (
            "location_chosen",
            "location",
            "Facebook HQ",
            {
                "latitude": 37.4611978,
                "longitude": -122.2164385,
                "name": "Facebook HQ",
                "address": "1 Hacker Way, Menlo Park, CA 94025",
                "url": "https://maps.google.com/?cid=2000000000000000000",
            },
        ),
        ("location_current", "location", "", {"latitude": 12.25089, "longitude": 43.90539}),
        (
            "contacts",
            "contacts",
            "Chandler Bing, Monica, Rachel Green",
            {
                "contacts": [
                    {"name": "Chandler Bing", "phones": ["+1 555-555-5555"]},
                    {"name": "Monica", "phones": ["+1 666-666-6666"]},
                    {"name": "Rachel Green", "phones": ["+1 777-777-7777"]},
                ]
            },
        ),
        (
            "order",
            "order",
            "",
            {
                "catalog_id": "354160437058781",
                "items": [
                    {"product_id": "HAMBURGER", "quantity": 3, "price": 30, "currency": "ILS"},
                    {"product_id": "FRENCH_FRIES", "quantity": 2, "price": 35, "currency": "ILS"},
                    {"product_id": "SODA", "quantity": 2, "price": 10, "currency": "ILS"},
                ],
            },
        ),
        (
            "button_reply",
            "interactive",
            "title",
            {"type": "button_reply", "reply_id": "callback_data", "title": "title"},
        ),
        (
            "list_reply",
            "interactive",
            "title",
            {"type": "list_reply", "reply_id": "callback_data", "title": "title", "description": "description"},
        ),
        (
            "quick_reply_button",
            "interactive",
            "title",
            {"type": "button", "reply_id": "callback_data", "title": "title"},
        ),
        (
            "nfm_reply",
            "interactive",
            "Sent",
            {
                "type": "nfm_reply",
                "name": "flow",
                "body": "Sent",
                "response": {
                    "comment_text": "Comment Text",
                    "delivery_rating": "4",
                    "flow_token": "AQAAAAACS5FpgQ_cAAAAAD0QI3s.",
                    "purchase_rating": "2",
                    "recommend_radio": "0",
                    "cs_rating": "0",
                },
            },
        ),
    ],
)
def test_whatsapp_customer_message_kinds_and_content(name, kind, text, content):
    parsed = message("whatsapp", name)
    assert (parsed.direction, parsed.source, parsed.contact_external_id) == ("in", "customer", "972987654321")
    assert (parsed.kind, parsed.text, dict(parsed.content)) == (kind, text, content)
    assert parsed.timestamp_missing is False
    assert parsed.contact_name == "Test Name"


def test_whatsapp_media_keeps_its_attachment_for_the_first_round_ui():
    parsed = message("whatsapp", "document")
    assert [a.as_dict() for a in parsed.attachments] == [
        {
            "type": "file",
            "media_id": "1234567890987654321",
            "mime_type": "application/pdf",
            "caption": "caption",
            "filename": "filename.pdf",
        }
    ]


@pytest.mark.parametrize(
    ("name", "reply_to"),
    [
        ("reply", "wamid.xyzxyz=="),
        ("button_reply", "wamid.xyzxyz"),
        ("nfm_reply", "wamid.gvwegfretge=="),
        ("video", ""),  # context.forwarded only: forwarded, not a reply
    ],
)
def test_whatsapp_the_replied_to_message(name, reply_to):
    assert message("whatsapp", name).reply_to_platform_message_id == reply_to


def test_whatsapp_click_to_whatsapp_ad_context_is_kept():
    parsed = message("whatsapp", "referral")
    assert (parsed.kind, parsed.text) == ("text", "BODY")
    assert parsed.content["referral"]["source_id"] == "ADID"
    assert parsed.content["referral"]["headline"] == "AD_TITLE"
    assert parsed.content["referral"]["ctwa_clid"] == "CTWA_CLID"


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("unsupported", "Message type unknown (code 131051)"),
        ("unsupported_with_type", "Message type unknown (code 131051)"),
        ("interactive_with_errors", "Something went wrong (code 131000)"),
    ],
)
def test_whatsapp_unsupported_and_broken_interactive_are_kept_raw(name, error):
    parsed = message("whatsapp", name)
    raw = load("whatsapp", name)["entry"][0]["changes"][0]["value"]["messages"][0]
    assert (parsed.kind, parsed.text) == ("unsupported", "")
    assert parsed.content == {"raw": raw, "error": error}


def test_whatsapp_system_notice_is_a_system_message():
    parsed = message("whatsapp", "system_user_changed_number")
    assert (parsed.kind, parsed.direction, parsed.source) == ("system", "in", "customer")
    assert parsed.text == "User A changed from \u200e972987654321 to 97211111111\u200e"
    assert parsed.content["type"] == "user_changed_number"
    assert parsed.content["wa_id"] == "97211111111"


@pytest.mark.parametrize(
    ("name", "emoji"), [("reaction", "\U0001f62e"), ("unreaction_empty", ""), ("unreaction_no_emoji", "")]
)
def test_whatsapp_reactions_are_never_messages(name, emoji):
    event = parse("whatsapp", name)
    assert event.messages == ()
    reaction = only(event.reactions, Reaction)
    assert reaction == Reaction(
        target_platform_message_id="wamid.yzxyzx=",
        contact_external_id="972987654321",
        emoji=emoji,
        from_shop=False,
        at=at(1697044456),
    )


@pytest.mark.parametrize(
    ("name", "target", "text", "from_shop", "content"),
    [
        ("edit_text", "wamid.zzzzzz", "Text was edited", False, {}),
        ("smb_echo_edit", "wamid.zzzzzz", "Text was edited", True, {}),
        (
            "edit_caption",
            "wamid.HBgLMTQxMjU1NTA4MjkVAgASGBQzQUNCNjk5RDUwNUZGMUZEM0VBRAA=",
            "Updated image caption",
            False,
            {
                "media_id": "1234567890",
                "url": "https://media.example.com/updated-image.jpg",
                "mime_type": "image/jpeg",
                "sha256": "a1b2c3d4e5f6...",
                "caption": "Updated image caption",
            },
        ),
    ],
)
def test_whatsapp_edits_change_the_original(name, target, text, from_shop, content):
    event = parse("whatsapp", name)
    assert event.messages == ()
    edit = only(event.edits, MessageEdit)
    assert (edit.target_platform_message_id, edit.text, edit.from_shop, dict(edit.content)) == (
        target,
        text,
        from_shop,
        content,
    )


@pytest.mark.parametrize(
    ("name", "contact", "from_shop"), [("revoke", "972987654321", False), ("smb_echo_revoke", "972123456789", True)]
)
def test_whatsapp_deletes_by_the_customer_and_in_the_business_app(name, contact, from_shop):
    event = parse("whatsapp", name)
    assert event.messages == ()
    assert only(event.deletes, MessageDelete) == MessageDelete(
        target_platform_message_id="wamid.zzzzzz", contact_external_id=contact, from_shop=from_shop, at=at(1697044968)
    )


def test_whatsapp_business_app_echo_is_the_shops_message():
    parsed = message("whatsapp", "smb_echo_text")
    assert (parsed.direction, parsed.source, parsed.kind, parsed.text) == ("out", "echo", "text", "Test message")
    assert parsed.contact_external_id == "<WHATSAPP_USER_PHONE_NUMBER>"


@pytest.mark.parametrize(
    ("name", "status", "error"),
    [
        ("status_sent", "sent", ""),
        ("status_delivered", "delivered", ""),
        ("status_played", "read", ""),
        ("status_failed", "failed", "User's number is part of an experiment (code 130472)"),
    ],
)
def test_whatsapp_statuses_played_means_read(name, status, error):
    event = parse("whatsapp", name)
    update = only(event.statuses, StatusUpdate)
    assert (update.status, update.platform_message_id, update.contact_external_id, update.error) == (
        status,
        "wamid.xyzxyz",
        "972987654321",
        error,
    )
    assert update.timestamp_missing is False


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("account_update_restriction", "field 'account_update' ACCOUNT_RESTRICTION (account-level)"),
        ("account_update_partner_added", "field 'account_update' PARTNER_ADDED (account-level)"),
        ("template_status_approved", "field 'message_template_status_update' APPROVED (account-level)"),
    ],
)
def test_whatsapp_account_level_fields_name_no_channel_and_are_ignored(name, words):
    adapter = get_adapter("whatsapp")
    assert adapter.account_ids(load("whatsapp", name)) == []
    event = parse("whatsapp", name)
    assert event.is_empty
    assert event.ignored == (words,)


# --- Messenger --------------------------------------------------------------------------------
def test_messenger_delivery_without_timestamp_takes_the_delivery_time():
    event = parse("messenger", "delivery_no_timestamp")
    update = only(event.statuses, StatusUpdate)
    assert (update.status, update.platform_message_id, update.contact_external_id) == (
        "delivered",
        "mid.1458668856218:ed81099e15d3f4f233",
        "<PSID>",
    )
    assert update.timestamp_missing is True
    assert delivery_time(update.at)


@pytest.mark.parametrize(
    ("platform", "name", "emoji"),
    [
        ("messenger", "reaction_react", "\u2764\ufe0f"),
        ("messenger", "reaction_unreact", ""),
        ("instagram", "reaction", "\u2764\ufe0f"),
        ("instagram", "unreact", ""),
    ],
)
def test_meta_reactions_react_and_unreact(platform, name, emoji):
    event = parse(platform, name)
    assert event.messages == ()
    reaction = only(event.reactions, Reaction)
    assert (reaction.emoji, reaction.from_shop) == (emoji, False)
    target = load(platform, name)["entry"][0]["messaging"][0]["reaction"]["mid"]
    customer = load(platform, name)["entry"][0]["messaging"][0]["sender"]["id"]
    assert (reaction.target_platform_message_id, reaction.contact_external_id) == (target, customer)


@pytest.mark.parametrize(
    ("platform", "name", "target", "text"),
    [
        ("messenger", "message_edit", "<MESSAGE_ID>", "<TEXT>"),
        ("instagram", "message_edit", "MESSAGE-ID", "MESSAGE-TEXT"),
    ],
)
def test_meta_message_edits(platform, name, target, text):
    event = parse(platform, name)
    edit = only(event.edits, MessageEdit)
    assert (edit.target_platform_message_id, edit.text, edit.from_shop) == (target, text, False)
    assert edit.at == at(1458668856.463 if platform == "messenger" else 1569262485.349)


def test_messenger_postback_from_a_user_ref_with_a_string_timestamp():
    parsed = message("messenger", "postback_changes")
    assert (parsed.kind, parsed.text, parsed.contact_external_id) == ("postback", "TITLE-FOR-THE-CTA", "USER-REF-ID")
    assert parsed.content == {
        "payload": "USER-DEFINED-PAYLOAD",
        "title": "TITLE-FOR-THE-CTA",
        "referral": {"ref": "USER-DEFINED-REFERRAL-PARAM", "source": "SHORT-URL", "type": "OPEN_THREAD"},
    }
    assert (parsed.sent_at, parsed.timestamp_missing) == (at(1527459824), False)


def test_messenger_location_keeps_the_coordinates():
    parsed = message("messenger", "location")
    assert parsed.kind == "location"
    assert parsed.content == {
        "media_type": "location",
        "latitude": -33.431012,
        "longitude": -70.57618,
        "name": "User 's Location",
    }


def test_messenger_quick_reply_reply_to_file_and_sticker():
    quick = message("messenger", "quick_reply")
    assert (quick.kind, quick.text) == ("interactive", "hello, world!")
    assert quick.content == {"type": "quick_reply", "reply_id": "<DEVELOPER_DEFINED_PAYLOAD>", "title": "hello, world!"}
    assert message("messenger", "reply_to").reply_to_platform_message_id == "m_1fTq8oLumEyIp3Q2MR-aY7IfLZDamVrALniheU"
    document = message("messenger", "attachment_file")
    assert (document.kind, document.content) == ("document", {"media_type": "file", "url": "<ATTACHMENT_URL>"})
    sticker = message("messenger", "sticker_thumbs_up")
    assert (sticker.kind, sticker.content["sticker_id"]) == ("sticker", 369239263222822)
    assert sticker.timestamp_missing is True and delivery_time(sticker.sent_at)


def test_messenger_read_and_standby_and_referral():
    read = only(parse("messenger", "read").statuses, StatusUpdate)
    assert (read.status, read.watermark) == ("read", at(1458668856.253))
    standby = message("messenger", "standby_text")
    assert (standby.text, standby.direction) == ("hello, world!", "in")
    referral = parse("messenger", "referral")
    assert referral.is_empty
    assert referral.ignored == (
        "entry[0].messaging[0]: referral (source=SHORTLINK, type=OPEN_THREAD, ref=<REF_DATA_PASSED_IN_M.ME_PARAM>)",
    )


# --- Instagram --------------------------------------------------------------------------------
def test_instagram_story_reply_keeps_the_story_url():
    parsed = message("instagram", "story_reply")
    assert (parsed.kind, parsed.text) == ("text", "This is the story reply")
    assert parsed.content == {
        "story": {"id": "chatwoot-app-user-id-1", "url": "https://chatwoot-assets.local/sample.png"}
    }
    # Chatwoot's factory has an ISO timestamp, which Meta never sends: the delivery's time, flagged.
    assert parsed.timestamp_missing is True and delivery_time(parsed.sent_at)


@pytest.mark.parametrize(
    ("name", "kind", "content"),
    [
        ("story_mention", "image", {"media_type": "story_mention", "url": "https://www.example.com/test.jpeg"}),
        ("share", "image", {"media_type": "share", "url": "https://www.example.com/test.jpeg"}),
        (
            "ig_reel",
            "video",
            {"media_type": "ig_reel", "url": "REEL-URL", "title": "REEL-TITLE", "reel_video_id": "REEL-ID"},
        ),
    ],
)
def test_instagram_mentions_shares_and_reels_keep_their_url(name, kind, content):
    parsed = message("instagram", name)
    assert (parsed.kind, dict(parsed.content)) == (kind, content)


def test_instagram_unsend_is_a_delete_never_a_message():
    event = parse("instagram", "unsend")
    assert event.messages == ()
    delete = only(event.deletes, MessageDelete)
    assert (delete.target_platform_message_id, delete.contact_external_id, delete.from_shop) == (
        "message-id-to-delete",
        "Sender-id-1",
        False,
    )


def test_instagram_seen_standby_dashboard_test_and_the_rest():
    seen = only(parse("instagram", "seen").statuses, StatusUpdate)
    assert (seen.status, seen.platform_message_id) == ("read", "message-id-1")
    assert message("instagram", "standby").text.startswith("This is the first standby message")
    test_event = message("instagram", "dashboard_test_text")
    assert (test_event.text, test_event.sent_at, test_event.timestamp_missing) == ("random_text", at(1527459824), False)
    assert message("instagram", "reply_to_message").reply_to_platform_message_id == "REPLIED-TO-MESSAGE-ID"
    referral = message("instagram", "referral_ad").content["referral"]
    assert (referral["ad_id"], referral["ads_context_data"]["ad_title"]) == ("AD-ID", "AD-TITLE")
    postback = message("instagram", "postback_icebreaker")
    assert (postback.kind, postback.content["payload"]) == ("postback", "CUSTOMER-RESPONSE-PAYLOAD")
    unsupported = message("instagram", "unsupported")
    assert (unsupported.kind, unsupported.content) == (
        "unsupported",
        {"raw": {"mid": "MESSAGE-ID", "is_unsupported": True}},
    )


def test_whatsapp_customer_identity_changed_is_a_system_message_too():
    # Meta's messages reference documents a second system type; no captured sample was found, so
    # the system sample's notice is swapped for the documented fields.
    payload = load("whatsapp", "system_user_changed_number")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["system"] = {
        "body": "User A's security code changed",
        "identity": "dd55b8c8b2e4a6b1",
        "type": "customer_identity_changed",
        "customer": "972987654321",
    }
    event = get_adapter("whatsapp").parse(payload=payload, account_id="1122334455667", secrets={})
    parsed = only(event.messages, NormalizedMessage)
    assert (parsed.kind, parsed.text) == ("system", "User A's security code changed")
    assert parsed.content["type"] == "customer_identity_changed"
    assert parsed.content["identity"] == "dd55b8c8b2e4a6b1"
