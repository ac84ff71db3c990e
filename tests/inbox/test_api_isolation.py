"""A member of shop A never sees or touches shop B: B's ids are simply not found (404)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from inbox.models import Conversation, Member, Message
from tests.factories import (
    ChannelFactory,
    ContactFactory,
    ConversationFactory,
    MemberFactory,
    MessageFactory,
    ShopFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop_b() -> dict[str, Any]:
    shop = ShopFactory(name="Toko B")
    owner = MemberFactory(shop=shop, role=Member.Role.OWNER)
    channel = ChannelFactory(shop=shop, platform="whatsapp", account_id="b-phone-1")
    contact = ContactFactory(channel=channel, shop=shop)
    conversation = ConversationFactory(contact=contact, channel=channel, shop=shop, unread_count=2)
    incoming = MessageFactory(conversation=conversation, text="rahasia toko B")
    failed = MessageFactory(conversation=conversation, direction="out", source="inbox", status="failed", text="x")
    return {
        "shop": shop,
        "owner": owner,
        "channel": channel,
        "conversation": conversation,
        "message": incoming,
        "failed": failed,
    }


@pytest.fixture(params=["token", "session"])
def caller(request: Any, owner: Member) -> Client:
    """Shop A's owner, by API token or by a logged-in browser session."""
    client = Client()
    if request.param == "token":
        client.defaults["HTTP_AUTHORIZATION"] = f"Token {owner.api_token}"
    else:
        client.force_login(owner.user)
    return client


def test_lists_show_only_the_callers_shop(caller, owner, shop_b):
    ChannelFactory(shop=owner.shop, platform="whatsapp")
    channels = caller.get("/api/v1/channels/").json()["results"]
    assert [c["id"] for c in channels] != [] and shop_b["channel"].pk not in [c["id"] for c in channels]
    assert caller.get("/api/v1/conversations/").json()["results"] == []
    response = caller.get("/api/v1/conversations/", {"channel": shop_b["channel"].pk})
    assert response.json()["results"] == []
    response = caller.get("/api/v1/conversations/", {"assignee": shop_b["owner"].pk})
    assert response.json()["results"] == []
    assert "rahasia" not in caller.get("/api/v1/conversations/").content.decode()


def test_another_shops_objects_are_404(caller, shop_b, fake_platforms):
    conv = shop_b["conversation"]
    assert caller.get(f"/api/v1/conversations/{conv.pk}/").status_code == 404
    assert caller.get(f"/api/v1/conversations/{conv.pk}/messages/").status_code == 404
    response = caller.patch(
        f"/api/v1/conversations/{conv.pk}/", data=json.dumps({"status": "closed"}), content_type="application/json"
    )
    assert response.status_code == 404
    assert caller.post(f"/api/v1/conversations/{conv.pk}/read/").status_code == 404
    response = caller.post(
        f"/api/v1/conversations/{conv.pk}/replies/", data=json.dumps({"text": "hai"}), content_type="application/json"
    )
    assert response.status_code == 404
    assert caller.post(f"/api/v1/messages/{shop_b['failed'].pk}/retry/").status_code == 404
    # Nothing changed and nothing was sent.
    conv.refresh_from_db()
    assert (conv.status, conv.unread_count) == (Conversation.Status.OPEN, 2)
    assert Message.objects.filter(conversation=conv).count() == 2
    assert Message.objects.get(pk=shop_b["failed"].pk).status == "failed"
    assert fake_platforms.requests == []


def test_cannot_assign_to_another_shops_member(caller, owner, shop_b):
    channel = ChannelFactory(shop=owner.shop, platform="instagram")
    conv = ConversationFactory(
        contact=ContactFactory(channel=channel, shop=owner.shop), channel=channel, shop=owner.shop
    )
    response = caller.patch(
        f"/api/v1/conversations/{conv.pk}/",
        data=json.dumps({"assignee": shop_b["owner"].pk}),
        content_type="application/json",
    )
    assert response.status_code == 422  # a valid id, of no member of this shop: a rule, not the shape
    conv.refresh_from_db()
    assert conv.assignee_id is None


ENDPOINTS = [
    ("get", "/api/v1/channels/"),
    ("post", "/api/v1/channels/"),
    ("get", "/api/v1/conversations/"),
    ("get", "/api/v1/conversations/{conv}/"),
    ("patch", "/api/v1/conversations/{conv}/"),
    ("post", "/api/v1/conversations/{conv}/read/"),
    ("get", "/api/v1/conversations/{conv}/messages/"),
    ("post", "/api/v1/conversations/{conv}/replies/"),
    ("post", "/api/v1/messages/{msg}/retry/"),
    ("post", "/api/v1/channels/{channel}/messages/"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_anonymous_is_refused(client, shop_b, method, path, fake_platforms):
    url = path.format(conv=shop_b["conversation"].pk, msg=shop_b["failed"].pk, channel=shop_b["channel"].pk)
    if method == "get":
        response = client.get(url)
    else:
        response = getattr(client, method)(url, data=json.dumps({"text": "x"}), content_type="application/json")
    assert response.status_code in (401, 403)
    assert "rahasia" not in response.content.decode()
    assert fake_platforms.requests == []


def test_user_without_membership_is_refused(shop_b):
    from tests.factories import UserFactory

    client = Client()
    client.force_login(UserFactory())
    assert client.get("/api/v1/conversations/").status_code == 403
    assert client.get(f"/api/v1/conversations/{shop_b['conversation'].pk}/").status_code == 403
