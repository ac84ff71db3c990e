"""Every collected real payload through the signed webhook into PostgreSQL (issue 13).

For each file under tests/fixtures/platforms/<platform>/ a channel with the payload's own account
id is created, the exact bytes are signed with its secret and posted. Always asserted: 200, one
`WebhookEvent` with the expected outcome and ignored reasons, the messages stored (kind, text,
direction, source, contact, time) for kinds the model holds today, and that reactions, edits,
deletes and receipts never become messages.

What only the storage side of issue 13 (branch i13-model) stores, `content`, reactions, edits,
deletes and the contract's new kinds, is asserted through the REST API in the tests marked with
`tests/inbox/model_side.py`'s helpers (`needs_model_kind`, `needs_model_fields`): they are
skipped until that branch is merged and then run as they are. The lead can grep `needs_model_`.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from inbox.adapters import get_adapter
from inbox.adapters.base import ParsedEvent
from inbox.models import Channel, Conversation, Message, WebhookEvent
from tests.conftest import post_webhook, signed_headers
from tests.factories import ChannelFactory, ContactFactory, ConversationFactory, MemberFactory, MessageFactory
from tests.inbox.model_side import model_has_kind, needs_model_fields

pytestmark = pytest.mark.django_db(transaction=True)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "platforms"
ALL = [
    (platform.name, path.stem)
    for platform in sorted(p for p in FIXTURES.iterdir() if p.is_dir())
    for path in sorted(platform.glob("*.json"))
]


def raw_of(platform: str, name: str) -> bytes:
    return (FIXTURES / platform / f"{name}.json").read_bytes()


def channel_for(shop: Any, platform: str, raw: bytes) -> Channel:
    ids = get_adapter(platform).account_ids(json.loads(raw))
    # An account-level body names no channel: the platform's channel (the default id) takes it.
    return ChannelFactory(shop=shop, platform=platform, **({"account_id": ids[0]} if ids else {}))


def expected(channel: Channel, raw: bytes) -> ParsedEvent:
    """What the adapter reads (asserted field by field in tests/inbox/adapters/test_fixtures_parse.py)."""
    return get_adapter(channel.platform).parse(
        payload=json.loads(raw), account_id=channel.account_id, secrets=channel.secrets
    )


@pytest.mark.parametrize(("platform", "name"), ALL)
def test_every_fixture_is_answered_200_and_stored_as_what_it_means(client, shop, platform, name):
    raw = raw_of(platform, name)
    channel = channel_for(shop, platform, raw)
    parsed = expected(channel, raw)
    unstorable = sorted({m.kind for m in parsed.messages if not model_has_kind(m.kind) and len(m.kind) > 10})
    if unstorable:
        pytest.skip(f"model side (i13-model): Message.kind cannot hold {unstorable} yet")
    before = timezone.now()

    response = post_webhook(client, platform, raw, signed_headers(channel, raw))

    assert response.status_code == 200, response.content
    event = WebhookEvent.objects.get()
    assert event.channel_id == channel.pk
    for reason in parsed.ignored:
        assert reason[:100] in event.detail
    stored = list(Message.objects.order_by("id"))
    # Reactions, edits, deletes, receipts and ignored events are never messages of their own.
    assert len(stored) == len(parsed.messages)
    if parsed.messages:
        assert event.outcome == "accepted"
    elif parsed.statuses:
        assert event.outcome == "ignored"  # receipts about messages this test never sent
    elif parsed.reactions or parsed.edits or parsed.deletes:
        # Today's ingest records them as ignored; the model side applies them (to a stored target;
        # here none is stored). Either way: acknowledged, recorded, nothing added.
        assert event.outcome in ("accepted", "ignored")
    else:
        assert event.outcome == "ignored"
        assert event.detail
    for row, message in zip(stored, parsed.messages, strict=True):
        assert row.platform_message_id == message.platform_message_id
        assert (row.direction, row.source, row.kind, row.text) == (
            message.direction,
            message.source,
            message.kind,
            message.text,
        )
        assert row.conversation.contact.external_id == message.contact_external_id
        if message.timestamp_missing:
            assert before <= row.sent_at <= timezone.now()
        else:
            assert row.sent_at == message.sent_at


@pytest.mark.parametrize(("platform", "name"), ALL)
def test_every_fixture_replayed_stores_nothing_new(client, shop, platform, name):
    raw = raw_of(platform, name)
    channel = channel_for(shop, platform, raw)
    parsed = expected(channel, raw)
    if any(len(m.kind) > 10 and not model_has_kind(m.kind) for m in parsed.messages):
        pytest.skip("model side (i13-model): Message.kind cannot hold this kind yet")
    for _ in range(2):
        assert post_webhook(client, platform, raw, signed_headers(channel, raw)).status_code == 200
    assert Message.objects.count() == len(parsed.messages)
    assert WebhookEvent.objects.count() == 2


def test_an_account_level_event_names_no_number_and_is_recorded_as_ignored(client, shop):
    raw = raw_of("whatsapp", "account_update_restriction")
    first = ChannelFactory(shop=shop, platform="whatsapp")
    second = ChannelFactory(shop=shop, platform="whatsapp", account_id="110223344556602", secrets={"app_secret": "x"})
    response = post_webhook(client, "whatsapp", raw, signed_headers(first, raw))
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    # Only the channel whose app secret signed it records it.
    assert (event.channel_id, event.outcome) == (first.pk, "ignored")
    assert "field 'account_update' ACCOUNT_RESTRICTION (account-level)" in event.detail
    assert second.pk != first.pk


def test_an_account_level_event_with_a_wrong_signature_is_401(client, shop):
    raw = raw_of("whatsapp", "template_status_approved")
    ChannelFactory(shop=shop, platform="whatsapp")
    response = post_webhook(client, "whatsapp", raw, {"X-Hub-Signature-256": "sha256=" + "0" * 64})
    assert response.status_code == 401
    assert WebhookEvent.objects.count() == 0


def test_an_account_level_event_with_no_channel_on_the_platform_is_404(client, db):
    raw = raw_of("whatsapp", "template_status_approved")
    response = post_webhook(client, "whatsapp", raw, {"X-Hub-Signature-256": "sha256=" + "0" * 64})
    assert response.status_code == 404
    assert WebhookEvent.objects.count() == 0


# --- What the model side stores, through the contract's API (skipped until i13-model is merged) ---
def _thread(shop: Any, platform: str, raw: bytes, contact_id: str, target_id: str, **fields: Any) -> Any:
    channel = channel_for(shop, platform, raw)
    contact = ContactFactory(channel=channel, shop=shop, external_id=contact_id)
    conversation = ConversationFactory(shop=shop, channel=channel, contact=contact)
    original = MessageFactory(
        conversation=conversation,
        platform_message_id=target_id,
        sent_at=timezone.now() - timedelta(minutes=5),
        **fields,
    )
    return channel, conversation, original


def _api_messages(client: Any, shop: Any, conversation: Conversation) -> list[dict[str, Any]]:
    owner = MemberFactory(shop=shop, role="owner")
    response = client.get(
        f"/api/v1/conversations/{conversation.pk}/messages/", headers={"Authorization": f"Token {owner.api_token}"}
    )
    assert response.status_code == 200
    return response.json()["results"]


@needs_model_fields("reactions")
@pytest.mark.parametrize(("name", "emoji"), [("reaction", "\U0001f62e"), ("unreaction_empty", None)])
def test_model_side_a_whatsapp_reaction_attaches_to_its_message(client, shop, name, emoji):
    raw = raw_of("whatsapp", name)
    channel, conversation, original = _thread(shop, "whatsapp", raw, "972987654321", "wamid.yzxyzx=")
    waiting_before = Conversation.objects.get(pk=conversation.pk).waiting_since
    assert post_webhook(client, "whatsapp", raw, signed_headers(channel, raw)).status_code == 200
    [message] = _api_messages(client, shop, conversation)
    assert message["id"] == original.pk
    if emoji is None:
        assert message["reactions"] == []
    else:
        assert [(r["emoji"], r["from"]) for r in message["reactions"]] == [(emoji, "customer")]
    assert Conversation.objects.get(pk=conversation.pk).waiting_since == waiting_before


@needs_model_fields("edited_at", "edits")
@pytest.mark.parametrize(("name", "contact"), [("edit_text", "972987654321"), ("smb_echo_edit", "972123456789")])
def test_model_side_a_whatsapp_edit_changes_the_original_and_keeps_history(client, shop, name, contact):
    raw = raw_of("whatsapp", name)
    channel, conversation, _original = _thread(shop, "whatsapp", raw, contact, "wamid.zzzzzz", text="Teks lama")
    assert post_webhook(client, "whatsapp", raw, signed_headers(channel, raw)).status_code == 200
    [message] = _api_messages(client, shop, conversation)
    assert message["text"] == "Text was edited"
    assert message["edited_at"] is not None
    assert "Teks lama" in json.dumps(message["edits"])


@needs_model_fields("deleted_at")
@pytest.mark.parametrize(
    ("platform", "name", "contact", "target"),
    [
        ("whatsapp", "revoke", "972987654321", "wamid.zzzzzz"),
        ("whatsapp", "smb_echo_revoke", "972123456789", "wamid.zzzzzz"),
        ("instagram", "unsend", "Sender-id-1", "message-id-to-delete"),
    ],
)
def test_model_side_a_delete_marks_the_original(client, shop, platform, name, contact, target):
    raw = raw_of(platform, name)
    channel, conversation, _original = _thread(shop, platform, raw, contact, target)
    assert post_webhook(client, platform, raw, signed_headers(channel, raw)).status_code == 200
    [message] = _api_messages(client, shop, conversation)
    assert message["deleted_at"] is not None


@needs_model_fields("content")
@pytest.mark.parametrize(
    ("platform", "name", "key"),
    [
        ("whatsapp", "contacts", "contacts"),
        ("whatsapp", "order", "items"),
        ("whatsapp", "location_chosen", "latitude"),
        ("whatsapp", "list_reply", "description"),
        ("whatsapp", "nfm_reply", "response"),
        ("whatsapp", "image_with_url", "url"),
        ("messenger", "location", "latitude"),
        ("instagram", "story_reply", "story"),
    ],
)
def test_model_side_the_structured_content_is_served(client, shop, platform, name, key):
    raw = raw_of(platform, name)
    channel = channel_for(shop, platform, raw)
    parsed = expected(channel, raw)
    assert post_webhook(client, platform, raw, signed_headers(channel, raw)).status_code == 200
    conversation = Conversation.objects.get()
    [message] = _api_messages(client, shop, conversation)
    assert message["kind"] == parsed.messages[0].kind
    assert message["content"][key] == json.loads(json.dumps(parsed.messages[0].content))[key]


def test_a_reaction_beside_a_broken_event_is_kept_and_the_broken_one_recorded(client, shop):
    body = json.loads(raw_of("messenger", "reaction_react"))
    body["entry"][0]["messaging"].append({"sender": {"id": "<PSID>"}, "recipient": {"id": "<PAGE_ID>"}, "message": 5})
    raw = json.dumps(body).encode()
    channel = channel_for(shop, "messenger", raw)
    parsed = expected(channel, raw)
    assert len(parsed.reactions) == 1 and parsed.errors  # what the view must keep, and what it records
    response = post_webhook(client, "messenger", raw, signed_headers(channel, raw))
    assert response.status_code == 200, response.content
    event = WebhookEvent.objects.get()
    assert "invalid: entry[0].messaging[1]: event.message has the wrong type" in event.detail
    assert Message.objects.count() == 0


@needs_model_fields("reactions")
def test_model_side_a_reaction_beside_a_broken_event_still_attaches(client, shop):
    # The view records the broken event on the raw event and must pass the reaction on untouched.
    body = json.loads(raw_of("messenger", "reaction_react"))
    body["entry"][0]["messaging"].append({"sender": {"id": "<PSID>"}, "recipient": {"id": "<PAGE_ID>"}, "message": 5})
    raw = json.dumps(body).encode()
    channel, conversation, _original = _thread(shop, "messenger", raw, "<PSID>", "<MID_OF_ReactedTo_Message>")
    assert post_webhook(client, "messenger", raw, signed_headers(channel, raw)).status_code == 200
    [message] = _api_messages(client, shop, conversation)
    assert [r["emoji"] for r in message["reactions"]] == ["\u2764\ufe0f"]
