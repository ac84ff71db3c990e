"""Meta's GET subscription handshake for WhatsApp, Instagram and Messenger."""

from __future__ import annotations

from typing import Any

import pytest

from inbox.models import WebhookEvent

pytestmark = pytest.mark.django_db

VERIFY_TOKENS = {"whatsapp": "wa-verify", "instagram": "ig-verify", "messenger": "fb-verify"}
PLATFORMS = list(VERIFY_TOKENS)


def handshake(client: Any, platform: str, **params: str) -> Any:
    return client.get(f"/webhooks/{platform}/", {f"hub.{k}": v for k, v in params.items()})


@pytest.mark.parametrize("platform", PLATFORMS)
def test_right_token_and_subscribe_answers_the_challenge(client, channels, platform):
    response = handshake(
        client, platform, mode="subscribe", verify_token=VERIFY_TOKENS[platform], challenge="1158201444"
    )
    assert response.status_code == 200
    assert response.content == b"1158201444"
    assert response["Content-Type"].startswith("text/plain")
    assert WebhookEvent.objects.count() == 0


@pytest.mark.parametrize("platform", PLATFORMS)
def test_challenge_is_echoed_byte_for_byte(client, channels, platform):
    challenge = "abc-DEF_123.~xyz"
    response = handshake(client, platform, mode="subscribe", verify_token=VERIFY_TOKENS[platform], challenge=challenge)
    assert response.status_code == 200
    assert response.content.decode() == challenge


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"mode": "subscribe", "verify_token": "wrong", "challenge": "1"}, id="wrong-token"),
        pytest.param({"mode": "subscribe", "challenge": "1"}, id="no-token"),
        pytest.param({"mode": "subscribe", "verify_token": "", "challenge": "1"}, id="empty-token"),
        pytest.param({"mode": "unsubscribe", "verify_token": "RIGHT", "challenge": "1"}, id="wrong-mode"),
        pytest.param({"verify_token": "RIGHT", "challenge": "1"}, id="no-mode"),
        pytest.param({"mode": "subscribe", "verify_token": "RIGHTx", "challenge": "1"}, id="token-prefix"),
    ],
)
def test_anything_else_is_403(client, channels, platform, params):
    params = {k: (VERIFY_TOKENS[platform] + v[5:] if v.startswith("RIGHT") else v) for k, v in params.items()}
    response = handshake(client, platform, **params)
    assert response.status_code == 403
    assert b"1" not in response.content


@pytest.mark.parametrize("platform", PLATFORMS)
def test_another_platforms_token_is_403(client, channels, platform):
    other = next(p for p in PLATFORMS if p != platform)
    response = handshake(client, platform, mode="subscribe", verify_token=VERIFY_TOKENS[other], challenge="42")
    assert response.status_code == 403


@pytest.mark.parametrize("platform", PLATFORMS)
def test_inactive_channel_token_is_403(client, channels, platform):
    channel = channels[platform]
    channel.is_active = False
    channel.save()
    response = handshake(client, platform, mode="subscribe", verify_token=VERIFY_TOKENS[platform], challenge="42")
    assert response.status_code == 403


@pytest.mark.parametrize("platform", PLATFORMS)
def test_no_channel_at_all_is_403(client, db, platform):
    response = handshake(client, platform, mode="subscribe", verify_token=VERIFY_TOKENS[platform], challenge="42")
    assert response.status_code == 403
