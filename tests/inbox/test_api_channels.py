from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection

from inbox.models import Channel, Conversation, Member, Message
from inbox.services import CHANNEL_REQUIRED_SECRETS, channel_create
from tests.factories import SAMPLE_ACCOUNT_IDS, SAMPLE_SECRETS, ChannelFactory, MemberFactory, ShopFactory

pytestmark = pytest.mark.django_db

PLATFORMS = ["whatsapp", "instagram", "messenger", "shopee", "tiktokshop"]


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Token {token}"}


def post(client: Any, path: str, data: Any, token: str) -> Any:
    return client.post(path, data=json.dumps(data), content_type="application/json", headers=auth(token))


def secret_values() -> list[str]:
    return [str(v) for secrets in SAMPLE_SECRETS.values() for v in secrets.values()]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_owner_connects_a_channel_and_secrets_never_come_back(client, owner, platform):
    body = {
        "platform": platform,
        "name": f"Toko di {platform}",
        "account_id": SAMPLE_ACCOUNT_IDS[platform],
        "secrets": SAMPLE_SECRETS[platform],
    }
    response = post(client, "/api/v1/channels/", body, owner.api_token)
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["platform"] == platform
    assert data["webhook_url"].endswith(f"/webhooks/{platform}/")
    assert data["token"] is None
    channel = Channel.objects.get(pk=data["id"])
    assert channel.shop_id == owner.shop_id
    assert channel.secrets == SAMPLE_SECRETS[platform]
    for value in SAMPLE_SECRETS[platform].values():
        assert str(value) not in response.content.decode()
    # Encrypted at rest: the column holds no secret in clear text.
    with connection.cursor() as cursor:
        cursor.execute("SELECT secrets FROM inbox_channel WHERE id = %s", [channel.pk])
        stored = cursor.fetchone()[0]
    for value in SAMPLE_SECRETS[platform].values():
        assert str(value) not in stored


@pytest.mark.parametrize("platform", PLATFORMS)
def test_missing_secrets_are_named_in_the_422(client, owner, platform):
    # The body matches the schema; the platform's required secrets are a rule across fields: 422.
    required = CHANNEL_REQUIRED_SECRETS[platform]
    secrets = dict(SAMPLE_SECRETS[platform])
    removed = [required[0], required[-1]]
    for key in removed:
        secrets.pop(key)
    secrets[required[1]] = "   "  # blank counts as missing
    body = {"platform": platform, "name": "x", "account_id": SAMPLE_ACCOUNT_IDS[platform], "secrets": secrets}
    response = post(client, "/api/v1/channels/", body, owner.api_token)
    assert response.status_code == 422
    message = " ".join(response.json()["secrets"])
    for key in [*removed, required[1]]:
        assert key in message
    assert not Channel.objects.exists()


def test_api_channel_returns_its_push_token_once(client, owner):
    response = post(client, "/api/v1/channels/", {"platform": "api", "name": "Website chat"}, owner.api_token)
    assert response.status_code == 201
    data = response.json()
    token = data["token"]
    assert token and data["webhook_url"].endswith(f"/api/v1/channels/{data['id']}/messages/")
    listing = client.get("/api/v1/channels/", headers=auth(owner.api_token))
    assert token not in listing.content.decode()
    assert Channel.objects.get(pk=data["id"]).token_hash not in (None, "", token)


def test_channel_create_errors_name_the_field(client, owner):
    ChannelFactory(shop=ShopFactory(), platform="whatsapp")
    taken = {
        "platform": "whatsapp",
        "name": "x",
        "account_id": SAMPLE_ACCOUNT_IDS["whatsapp"],
        "secrets": SAMPLE_SECRETS["whatsapp"],
    }
    response = post(client, "/api/v1/channels/", taken, owner.api_token)
    assert response.status_code == 422 and "account_id" in response.json()  # stored state: a rule
    response = post(client, "/api/v1/channels/", {"platform": "line", "name": "x"}, owner.api_token)
    assert response.status_code == 400 and "platform" in response.json()
    response = post(
        client,
        "/api/v1/channels/",
        {"platform": "shopee", "name": "x", "secrets": SAMPLE_SECRETS["shopee"]},
        owner.api_token,
    )
    assert response.status_code == 422 and "account_id" in response.json()  # required for this platform: a rule
    response = post(client, "/api/v1/channels/", {"platform": "api"}, owner.api_token)
    assert response.status_code == 400 and "name" in response.json()


def test_members_list_channels_but_only_owners_connect(client, owner, admin_member, channels):
    response = client.get("/api/v1/channels/", headers=auth(admin_member.api_token))
    assert response.status_code == 200
    results = response.json()["results"]
    assert {c["platform"] for c in results} == set(PLATFORMS)
    assert all("secrets" not in c for c in results)
    text = response.content.decode()
    for value in secret_values():
        assert value not in text
    body = {"platform": "api", "name": "x"}
    assert post(client, "/api/v1/channels/", body, admin_member.api_token).status_code == 403
    assert not Channel.objects.filter(platform="api").exists()


# --- pushing messages into an api channel ----------------------------------------------------


@pytest.fixture
def api_channel(owner) -> tuple[Channel, str]:
    channel, token = channel_create(shop=owner.shop, platform="api", name="Website chat", account_id="", secrets={})
    assert token is not None
    return channel, token


def push_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "external_id": "web-0001",
        "contact": {"id": "cust-42", "name": "Siti"},
        "direction": "in",
        "text": "Kak, serumnya ready?",
        "sent_at": "2026-03-02T10:15:00+07:00",
    }
    body.update(overrides)
    return body


def test_push_stores_a_message_and_a_duplicate_gets_200(client, api_channel):
    channel, token = api_channel
    path = f"/api/v1/channels/{channel.pk}/messages/"
    response = post(client, path, push_body(), token)
    assert response.status_code == 201, response.content
    data = response.json()
    message = Message.objects.get(pk=data["id"])
    assert (message.direction, message.source, message.platform_message_id) == ("in", "customer", "web-0001")
    assert message.conversation.contact.external_id == "cust-42"
    assert message.conversation.contact.name == "Siti"
    assert message.sent_at.isoformat() == "2026-03-02T03:15:00+00:00"
    conversation = Conversation.objects.get()
    assert conversation.waiting_since == message.sent_at

    again = post(client, path, push_body(text="changed"), token)
    assert again.status_code == 200
    assert again.json()["id"] == data["id"]
    assert Message.objects.count() == 1
    assert Message.objects.get().text == "Kak, serumnya ready?"


def test_pushed_out_message_is_an_api_reply_that_ends_the_wait(client, api_channel):
    channel, token = api_channel
    path = f"/api/v1/channels/{channel.pk}/messages/"
    assert post(client, path, push_body(), token).status_code == 201
    response = post(
        client,
        path,
        push_body(external_id="web-0002", direction="out", text="Ready kak 😊", sent_at="2026-03-02T10:17:00+07:00"),
        token,
    )
    assert response.status_code == 201
    reply = Message.objects.get(platform_message_id="web-0002")
    assert (reply.direction, reply.source, reply.status) == ("out", "api", "sent")
    assert Conversation.objects.get().waiting_since is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"external_id": ""}, "external_id"),
        ({"direction": "sideways"}, "direction"),
        ({"sent_at": "yesterday"}, "sent_at"),
        ({"text": ""}, "text"),
        ({"contact": {"name": "tanpa id"}}, "contact"),
        ({"contact": "cust-42"}, "contact"),
    ],
)
def test_push_400_names_the_bad_field(client, api_channel, change, field):
    channel, token = api_channel
    response = post(client, f"/api/v1/channels/{channel.pk}/messages/", push_body(**change), token)
    assert response.status_code == 400
    assert field in response.json()
    if field == "contact" and isinstance(change["contact"], dict):
        assert "id" in response.json()["contact"]
    assert not Message.objects.exists()


def test_push_needs_that_channels_token(client, owner, api_channel):
    channel, _ = api_channel
    _other, other_token = channel_create(shop=owner.shop, platform="api", name="Other", account_id="", secrets={})
    path = f"/api/v1/channels/{channel.pk}/messages/"
    # A member's token is not a channel token.
    assert post(client, path, push_body(), owner.api_token).status_code == 403
    # Another channel's token may push only to its own channel.
    assert post(client, path, push_body(), other_token).status_code == 403
    # No token, a made-up token.
    response = client.post(path, data=json.dumps(push_body()), content_type="application/json")
    assert response.status_code in (401, 403)
    assert post(client, path, push_body(), "bc_made-up").status_code == 401
    # A logged-in member's session is not a channel token either.
    client.force_login(owner.user)
    response = client.post(path, data=json.dumps(push_body()), content_type="application/json")
    assert response.status_code == 403
    assert not Message.objects.exists()


def test_channel_token_cannot_read_the_member_api(client, api_channel):
    _, token = api_channel
    assert client.get("/api/v1/conversations/", headers=auth(token)).status_code == 403
    assert client.get("/api/v1/channels/", headers=auth(token)).status_code == 403


def test_inactive_member_token_is_refused(client):
    member = MemberFactory(role=Member.Role.OWNER)
    member.user.is_active = False
    member.user.save()
    assert client.get("/api/v1/channels/", headers=auth(member.api_token)).status_code == 401
