"""The shop reacts from the inbox: `POST`/`DELETE /api/v1/conversations/{id}/messages/{message_id}/reactions/`,
sent through the platform's API (the real local stand-in server), and messages carry every new field."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from inbox.adapters.base import MessageEdit, ParsedEvent
from inbox.models import Channel, Member, Message
from inbox.models import Reaction as ReactionRow
from inbox.services import deliveries_ingest
from tests.factories import ChannelFactory, ConversationFactory, MemberFactory, MessageFactory, ShopFactory

pytestmark = pytest.mark.django_db


def auth(member: Member) -> dict[str, str]:
    return {"Authorization": f"Token {member.api_token}"}


def customer_message(channel: Channel, **fields: Any) -> Message:
    conversation = ConversationFactory(contact__channel=channel, contact__shop=channel.shop)
    return MessageFactory(conversation=conversation, **fields)


def url(message: Message) -> str:
    return f"/api/v1/conversations/{message.conversation_id}/messages/{message.pk}/reactions/"


@pytest.mark.parametrize("platform", ["whatsapp", "messenger", "instagram"])
def test_react_then_remove_through_the_platform(client, shop, admin_member, fake_platforms, platform):
    channel = ChannelFactory(shop=shop, platform=platform)
    message = customer_message(channel, platform_message_id=f"{platform}-mid-1")
    response = client.post(url(message), {"emoji": "❤️"}, content_type="application/json", headers=auth(admin_member))
    assert response.status_code == 200, response.content
    [reaction] = response.json()["reactions"]
    assert (reaction["emoji"], reaction["from"]) == ("❤️", "shop")
    row = ReactionRow.objects.get()
    assert (row.reactor, row.emoji, row.member_id) == ("shop", "❤️", admin_member.pk)
    [sent] = fake_platforms.requests_for(platform)
    assert sent.path == f"/{channel.account_id}/messages"
    contact_id = message.conversation.contact.external_id
    if platform == "whatsapp":
        assert sent.json["type"] == "reaction"
        assert sent.json["to"] == contact_id
        assert sent.json["reaction"] == {"message_id": "whatsapp-mid-1", "emoji": "❤️"}
    else:
        assert sent.json["recipient"] == {"id": contact_id}
        assert sent.json["sender_action"] == "react"
        assert sent.json["payload"] == {"message_id": f"{platform}-mid-1", "reaction": "❤️"}

    response = client.delete(url(message), headers=auth(admin_member))
    assert response.status_code == 200, response.content
    assert response.json()["reactions"] == []
    assert not ReactionRow.objects.exists()
    removal = fake_platforms.requests_for(platform)[-1].json
    if platform == "whatsapp":
        assert removal["reaction"] == {"message_id": "whatsapp-mid-1", "emoji": ""}
    else:
        assert (removal["sender_action"], removal["payload"]) == ("unreact", {"message_id": f"{platform}-mid-1"})


def test_an_empty_emoji_removes_too(client, shop, owner, fake_platforms):
    message = customer_message(ChannelFactory(shop=shop, platform="whatsapp"), platform_message_id="wamid.R1")
    client.post(url(message), {"emoji": "👍"}, content_type="application/json", headers=auth(owner))
    response = client.post(url(message), {"emoji": ""}, content_type="application/json", headers=auth(owner))
    assert response.status_code == 200
    assert response.json()["reactions"] == []


@pytest.mark.parametrize(("platform", "label"), [("shopee", "Shopee"), ("tiktokshop", "TikTok Shop")])
def test_platforms_without_a_reaction_api_answer_422_naming_it(client, shop, owner, fake_platforms, platform, label):
    message = customer_message(ChannelFactory(shop=shop, platform=platform))
    response = client.post(url(message), {"emoji": "👍"}, content_type="application/json", headers=auth(owner))
    assert response.status_code == 422
    assert label in response.json()["error"]
    assert fake_platforms.requests == []
    assert not ReactionRow.objects.exists()


def test_a_platform_refusal_is_502_and_stores_nothing(client, shop, owner, fake_platforms):
    message = customer_message(ChannelFactory(shop=shop, platform="whatsapp"), platform_message_id="wamid.R2")
    fake_platforms.queue_response(400, {"error": {"message": "Message not found", "code": 131009}})
    response = client.post(url(message), {"emoji": "👍"}, content_type="application/json", headers=auth(owner))
    assert response.status_code == 502
    assert "Message not found" in response.json()["error"]
    assert not ReactionRow.objects.exists()


def test_a_missing_emoji_is_a_400_naming_the_field(client, shop, owner, fake_platforms):
    message = customer_message(ChannelFactory(shop=shop, platform="whatsapp"))
    response = client.post(url(message), {}, content_type="application/json", headers=auth(owner))
    assert response.status_code == 400
    assert "emoji" in response.json()


def test_another_shops_message_is_404(client, owner, fake_platforms):
    other = customer_message(ChannelFactory(shop=ShopFactory(), platform="whatsapp"))
    response = client.post(url(other), {"emoji": "👍"}, content_type="application/json", headers=auth(owner))
    assert response.status_code == 404
    assert fake_platforms.requests == []


def test_messages_carry_kind_content_reactions_edits_and_deletes(client, shop, owner):
    channel = ChannelFactory(shop=shop, platform="whatsapp")
    message = customer_message(
        channel,
        platform_message_id="wamid.E1",
        kind="location",
        text="",
        content={"latitude": -6.2, "longitude": 106.8, "name": "Toko Glow", "address": "Jl. Sudirman 1"},
        reply_to="wamid.E0",
    )
    edit = MessageEdit("wamid.E1", message.conversation.contact.external_id, "Di sini kak", False, timezone.now())
    deliveries_ingest(deliveries=[(channel, ParsedEvent(edits=(edit,)))], raw_body="{}")
    response = client.get(f"/api/v1/conversations/{message.conversation_id}/messages/", headers=auth(owner))
    assert response.status_code == 200
    [item] = response.json()["results"]
    assert item["kind"] == "location"
    assert item["content"]["latitude"] == -6.2 and item["content"]["name"] == "Toko Glow"
    assert item["reply_to"] == "wamid.E0"
    assert item["text"] == "Di sini kak"
    assert item["edited_at"] is not None
    assert [e["text"] for e in item["edits"]] == [""]
    assert item["reactions"] == [] and item["deleted_at"] is None


def test_conversations_show_a_placeholder_for_a_nameless_instagram_customer(client, shop, owner):
    channel = ChannelFactory(shop=shop, platform="instagram")
    ConversationFactory(contact__channel=channel, contact__shop=shop, contact__name="", contact__external_id="17" * 8)
    response = client.get("/api/v1/conversations/", headers=auth(owner))
    [item] = response.json()["results"]
    assert item["contact"]["display_name"] == "Pelanggan Instagram ·1717"
    assert item["contact"]["name"] == ""
    assert "1717171717171717" not in item["contact"]["display_name"]


def test_member_of_the_shop_only(client, shop, fake_platforms):
    stranger = MemberFactory(shop=ShopFactory())
    message = customer_message(ChannelFactory(shop=shop, platform="whatsapp"))
    assert client.post(url(message), {"emoji": "👍"}, headers=auth(stranger)).status_code == 404
