"""Channel secrets: ciphertext at rest, never in an API answer, never in a log line (nor API tokens)."""

from __future__ import annotations

import json
import logging
import random
import uuid
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.db import connection
from django.test import Client

from devtools.simulator import customer_message, customer_new, signed
from inbox.models import Channel, Conversation
from tests.conftest import post_webhook
from tests.factories import SAMPLE_ACCOUNT_IDS, SAMPLE_SECRETS
from tests.reliability.conftest import spec

# Replies call the platform after commit: run with real transactions.
pytestmark = pytest.mark.django_db(transaction=True)

PLATFORMS = ("whatsapp", "instagram", "messenger", "shopee", "tiktokshop")


def fresh_secrets(platform: str) -> dict[str, str]:
    # Same keys as the platform needs, values unique to this run so a leak is unambiguous.
    tag = uuid.uuid4().hex[:12]
    secrets = {key: f"{platform}-{key}-{tag}" for key in SAMPLE_SECRETS[platform]}
    if platform == "messenger":
        secrets["app_id"] = "990000000000042"  # a public id, not a secret
    if platform == "shopee":
        secrets["partner_id"] = "2001234"  # public, part of every request URL
        secrets["callback_url"] = SAMPLE_SECRETS["shopee"]["callback_url"]
    return secrets


SECRET_KEYS = {"app_secret", "verify_token", "access_token", "partner_key", "app_key", "shop_cipher"}


def secret_values(secrets: dict[str, str]) -> list[str]:
    return [v for k, v in secrets.items() if k in SECRET_KEYS]


@pytest.fixture
def api(owner: Any) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Token {owner.api_token}")


def test_secrets_are_ciphertext_at_rest_and_never_leave(api, owner, fake_platforms, caplog):
    caplog.set_level(logging.DEBUG)
    answers: list[str] = []
    created: dict[str, tuple[int, dict[str, str]]] = {}
    for platform in PLATFORMS:
        secrets = fresh_secrets(platform)
        body = {"platform": platform, "name": f"{platform} A", "account_id": SAMPLE_ACCOUNT_IDS[platform]}
        response = api.post(
            "/api/v1/channels/", data=json.dumps({**body, "secrets": secrets}), content_type="application/json"
        )
        assert response.status_code == 201, response.content
        answers.append(response.content.decode())
        created[platform] = (response.json()["id"], secrets)

    response = api.post(
        "/api/v1/channels/", data=json.dumps({"platform": "api", "name": "Web"}), content_type="application/json"
    )
    assert response.status_code == 201
    push_token = response.json()["token"]
    api_channel_id = response.json()["id"]

    # At rest: Fernet ciphertext under BALAS_SECRETS_KEY, no secret in the column.
    fernet = Fernet(settings.BALAS_SECRETS_KEY.encode())
    with connection.cursor() as cursor:
        for platform, (channel_id, secrets) in created.items():
            cursor.execute("SELECT secrets FROM inbox_channel WHERE id = %s", [channel_id])
            stored = cursor.fetchone()[0]
            assert stored.startswith("gAAAAA"), platform
            assert all(value not in stored for value in secrets.values()), platform
            assert json.loads(fernet.decrypt(stored.encode())) == secrets

    # A webhook in (signed with the new secrets), a handshake, a reply out, an API push.
    for platform, (channel_id, _) in created.items():
        channel = Channel.objects.get(pk=channel_id)
        customer = customer_new(platform, random.Random(7))
        raw, headers = signed(spec(channel), customer_message(spec(channel), customer, text="Kak ready?"))
        assert post_webhook(Client(), platform, raw, headers).status_code == 200
    verify = created["whatsapp"][1]["verify_token"]
    handshake = Client().get(
        "/webhooks/whatsapp/", {"hub.mode": "subscribe", "hub.verify_token": verify, "hub.challenge": "42"}
    )
    assert handshake.status_code == 200 and handshake.content == b"42"
    for conversation in Conversation.objects.filter(shop=owner.shop):
        response = api.post(
            f"/api/v1/conversations/{conversation.pk}/replies/",
            data=json.dumps({"text": "Ready kak, terima kasih sudah bertanya"}),
            content_type="application/json",
        )
        assert response.status_code == 201, response.content
        answers.append(response.content.decode())
    assert len(fake_platforms.requests) == len(PLATFORMS)
    push = Client(HTTP_AUTHORIZATION=f"Token {push_token}").post(
        f"/api/v1/channels/{api_channel_id}/messages/",
        data=json.dumps(
            {
                "external_id": "o-1",
                "contact": {"id": "c1"},
                "direction": "in",
                "text": "halo",
                "sent_at": "2026-03-02T03:15:00Z",
            }
        ),
        content_type="application/json",
    )
    assert push.status_code == 201
    answers.append(push.content.decode())

    # Every read the API offers.
    for path in ("/api/v1/channels/", "/api/v1/conversations/", "/api/v1/alerts/", "/api/v1/policy/"):
        answers.append(api.get(path).content.decode())
    for conversation in Conversation.objects.filter(shop=owner.shop):
        answers.append(api.get(f"/api/v1/conversations/{conversation.pk}/").content.decode())
        answers.append(api.get(f"/api/v1/conversations/{conversation.pk}/messages/").content.decode())
    page = Client()
    page.force_login(owner.user)
    for conversation in Conversation.objects.filter(shop=owner.shop):
        answers.append(page.get(f"/c/{conversation.pk}/").content.decode())

    everything = "\n".join(answers)
    logs = caplog.text + "\n".join(str(r.args) for r in caplog.records)
    assert "webhook.ingested" in logs  # the capture did see the flow
    for platform, (_, secrets) in created.items():
        for value in secret_values(secrets):
            assert value not in everything, f"{platform} secret in an API answer or page"
            assert value not in logs, f"{platform} secret in a log line"
    for token in (push_token, owner.api_token):
        assert token not in logs, "an API token in a log line"
    assert push_token not in everything.replace(answers[len(PLATFORMS)], ""), "push token shown twice"
