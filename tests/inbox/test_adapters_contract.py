"""Platform knowledge lives on the adapter classes: what each declares, and a view that names none."""

from __future__ import annotations

import inspect
import re
from typing import ClassVar

import pytest

from inbox import webhooks
from inbox.adapters import adapter_platforms, get_adapter, register
from inbox.adapters.base import HandshakeAnswer, PlatformAdapter, WebhookAnswer
from inbox.models import Platform
from inbox.services import CHANNEL_REQUIRED_SECRETS
from tests.conftest import post_webhook, sample, signed_headers

# The contract's `secrets` keys per platform.
CONTRACT_SECRETS: dict[str, tuple[str, ...]] = {
    "whatsapp": ("app_secret", "verify_token", "access_token"),
    "instagram": ("app_secret", "verify_token", "access_token"),
    "messenger": ("app_secret", "verify_token", "access_token", "app_id"),
    "shopee": ("partner_id", "partner_key", "access_token", "callback_url"),
    "tiktokshop": ("app_key", "app_secret", "access_token", "shop_cipher"),
    "api": (),
}
TEXT_LIMITS = {"whatsapp": 4096, "instagram": 1000, "messenger": 2000, "shopee": 1000, "tiktokshop": 2000}
HANDSHAKE = {"whatsapp": True, "instagram": True, "messenger": True, "shopee": False, "tiktokshop": False}
PLATFORMS = sorted(TEXT_LIMITS)


def test_every_platform_but_api_has_an_adapter():
    assert adapter_platforms() == PLATFORMS
    assert set(PLATFORMS) == set(Platform.values) - {Platform.API}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_adapter_declares_its_platform_knowledge(platform):
    adapter = get_adapter(platform)
    assert adapter.platform == platform
    for name in PlatformAdapter.DECLARATIONS:
        assert hasattr(type(adapter), name), name

    assert adapter.required_secrets == CONTRACT_SECRETS[platform]
    assert isinstance(adapter.required_secrets, tuple)
    assert all(isinstance(key, str) and key for key in adapter.required_secrets)
    assert len(set(adapter.required_secrets)) == len(adapter.required_secrets)

    assert type(adapter.max_text_length) is int
    assert adapter.max_text_length == TEXT_LIMITS[platform]

    assert adapter.supports_handshake is HANDSHAKE[platform]
    if adapter.supports_handshake:
        assert type(adapter).handshake is not PlatformAdapter.handshake

    assert isinstance(adapter.success_answer, WebhookAnswer)
    assert isinstance(adapter.success_answer.body, bytes)
    assert adapter.success_answer.content_type
    assert adapter.is_probe(b'{"a": 1}') is False


def test_channel_creation_requires_exactly_the_contract_secrets():
    assert dict(CHANNEL_REQUIRED_SECRETS) == CONTRACT_SECRETS


def test_the_webhook_view_names_no_platform():
    source = inspect.getsource(webhooks)
    for platform in PLATFORMS:
        assert not re.search(platform, source, re.IGNORECASE), platform
    for value, label in Platform.choices:
        if value != Platform.API:
            assert label not in source, label
    # "api" is also a word of the push URL in the api answer: only a check on it would name it.
    assert not re.search(r"""["']api["']""", source)
    assert not re.search(r"Platform\.[A-Z]", source)
    # Meta's handshake parameters are the Meta adapters' business.
    assert "hub." not in source


@pytest.mark.parametrize("platform", PLATFORMS)
def test_success_answer_is_what_the_adapter_declares(client, channels, platform):
    raw = sample(f"{platform}_text.json")
    response = post_webhook(client, platform, raw, signed_headers(channels[platform], raw))
    assert response.status_code == 200
    if platform == "shopee":
        assert response.content == b""
    else:
        assert response.json() == {"received": True}
        assert response["Content-Type"] == "application/json"
    answer = get_adapter(platform).success_answer
    assert (response.content, response["Content-Type"]) == (answer.body, answer.content_type)


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("raw", [b"", b"  \n"])
def test_only_shopee_acknowledges_an_empty_probe(client, db, platform, raw):
    assert get_adapter(platform).is_probe(raw) is (platform == "shopee")
    response = post_webhook(client, platform, raw)
    # No channel exists: only a probe acknowledged without parsing can answer 200.
    assert response.status_code == (200 if platform == "shopee" else 400)


@pytest.mark.parametrize("platform", [p for p in PLATFORMS if not HANDSHAKE[p]])
def test_a_platform_without_handshake_answers_a_get_405(client, db, platform):
    response = client.get(f"/webhooks/{platform}/", {"hub.mode": "subscribe", "hub.verify_token": "x"})
    assert response.status_code == 405
    assert response.json() == {"error": "this platform has no subscription handshake"}


def test_the_api_platform_and_an_unknown_one_have_no_webhook(client, db):
    response = client.post("/webhooks/api/", data=b"{}", content_type="application/json")
    assert response.status_code == 404
    assert response.json() == {"error": "the api channel receives messages at /api/v1/channels/{id}/messages/"}
    response = client.post("/webhooks/line/", data=b"{}", content_type="application/json")
    assert response.status_code == 404
    assert response.json() == {"error": "unknown platform 'line'"}


def test_meta_handshake_matches_a_token_in_constant_time_and_names_which():
    adapter = get_adapter("instagram")
    params = {"hub.mode": "subscribe", "hub.verify_token": "b-token", "hub.challenge": "77"}
    assert adapter.handshake(params=params, verify_tokens=["", "a-token", "b-token"]) == HandshakeAnswer(
        status=200, body="77", content_type="text/plain", matched=2
    )
    refused = HandshakeAnswer(status=403, body="verification failed", content_type="text/plain", matched=None)
    assert adapter.handshake(params=params, verify_tokens=["a-token"]) == refused
    assert adapter.handshake(params={**params, "hub.mode": "unsubscribe"}, verify_tokens=["b-token"]) == refused
    assert adapter.handshake(params={**params, "hub.verify_token": ""}, verify_tokens=[""]) == refused


def test_register_refuses_an_adapter_that_does_not_declare_everything():
    class Undeclared(PlatformAdapter):
        platform = "undeclared"
        supports_handshake = False

    class HandshakeMissing(PlatformAdapter):
        platform = "handshake-missing"
        required_secrets: ClassVar[tuple[str, ...]] = ()
        max_text_length = 100
        supports_handshake = True

    with pytest.raises(TypeError, match="required_secrets, max_text_length"):
        register(Undeclared)
    with pytest.raises(TypeError, match="handshake"):
        register(HandshakeMissing)
    for name in ("undeclared", "handshake-missing"):
        with pytest.raises(LookupError):
            get_adapter(name)
