"""send_text for WhatsApp, Instagram and Messenger against the local fake platform server."""

from __future__ import annotations

import json

import pytest

from inbox.adapters import get_adapter
from inbox.adapters.base import OutboundContext, SendError
from tests.conftest import sample

pytestmark = pytest.mark.django_db

CONTACTS = {"whatsapp": "6281234567890", "instagram": "5566778899001122", "messenger": "7012345678901234"}
PLATFORMS = list(CONTACTS)
REFUSAL = {
    "error": {"message": "(#10) This message is sent outside of allowed window.", "type": "OAuthException", "code": 10}
}


def context(channel, text: str, reply_to: str = "") -> OutboundContext:
    return OutboundContext(
        account_id=channel.account_id,
        secrets=channel.secrets,
        contact_external_id=CONTACTS[channel.platform],
        platform_conversation_id="",
        text=text,
        reply_to_platform_message_id=reply_to,
    )


@pytest.mark.parametrize(
    ("platform", "fixture", "reply_to"),
    [
        ("whatsapp", "whatsapp_send_text_request.json", "wamid.TEST-IN-0001-serum-ready"),
        ("instagram", "instagram_send_text_request.json", ""),
        ("messenger", "messenger_send_text_request.json", ""),
    ],
)
def test_send_text_posts_the_documented_body(channels, fake_platforms, platform, fixture, reply_to):
    channel = channels[platform]
    expected = json.loads(sample(fixture))
    text = expected["text"]["body"] if platform == "whatsapp" else expected["message"]["text"]
    result = get_adapter(platform).send_text(context(channel, text, reply_to))

    [request] = fake_platforms.requests_for(platform)
    assert request.method == "POST"
    assert request.path == f"/{channel.account_id}/messages"
    assert request.headers["Authorization"] == f"Bearer {channel.secrets['access_token']}"
    assert request.headers["Content-Type"] == "application/json"
    assert request.json == expected
    # The token travels only in the header, never in the URL.
    assert request.query == {}
    assert channel.secrets["access_token"] not in request.body.decode()
    assert result.platform_message_id
    prefix = "wamid.FAKE-" if platform == "whatsapp" else "m_FAKE-"
    assert result.platform_message_id.startswith(prefix)


def test_whatsapp_without_reply_to_sends_no_context(channels, fake_platforms):
    get_adapter("whatsapp").send_text(context(channels["whatsapp"], "Halo kak"))
    [request] = fake_platforms.requests_for("whatsapp")
    assert "context" not in request.json
    assert request.json["text"] == {"preview_url": False, "body": "Halo kak"}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_platform_refusal_raises_send_error_with_its_message(channels, fake_platforms, platform):
    fake_platforms.queue_response(400, REFUSAL)
    with pytest.raises(SendError) as caught:
        get_adapter(platform).send_text(context(channels[platform], "Halo kak"))
    assert "This message is sent outside of allowed window." in caught.value.reason
    assert "code 10" in caught.value.reason
    assert caught.value.status_code == 400
    assert caught.value.retryable is False
    assert channels[platform].secrets["access_token"] not in caught.value.reason


@pytest.mark.parametrize("platform", PLATFORMS)
def test_platform_server_error_is_retryable(channels, fake_platforms, platform):
    fake_platforms.queue_response(503, {"error": {"message": "Service temporarily unavailable", "code": 2}})
    with pytest.raises(SendError) as caught:
        get_adapter(platform).send_text(context(channels[platform], "Halo kak"))
    assert "Service temporarily unavailable" in caught.value.reason
    assert caught.value.retryable is True


@pytest.mark.parametrize("platform", PLATFORMS)
def test_timeout_raises_a_retryable_send_error(channels, fake_platforms, settings, platform):
    settings.PLATFORM_SEND_TIMEOUT_S = 0.3
    fake_platforms.delay_s = 1
    with pytest.raises(SendError) as caught:
        get_adapter(platform).send_text(context(channels[platform], "Halo kak"))
    assert caught.value.retryable is True
    assert platform in caught.value.reason


@pytest.mark.parametrize("platform", PLATFORMS)
def test_an_answer_without_a_message_id_is_a_send_error(channels, fake_platforms, platform):
    fake_platforms.queue_response(200, {"recipient_id": CONTACTS[platform]})
    with pytest.raises(SendError):
        get_adapter(platform).send_text(context(channels[platform], "Halo kak"))


@pytest.mark.parametrize("platform", PLATFORMS)
def test_unreachable_platform_is_retryable(channels, fake_platforms, settings, platform):
    setattr(settings, f"{platform.upper()}_API_BASE", "http://127.0.0.1:9/v21.0")
    with pytest.raises(SendError) as caught:
        get_adapter(platform).send_text(context(channels[platform], "Halo kak"))
    assert caught.value.retryable is True
