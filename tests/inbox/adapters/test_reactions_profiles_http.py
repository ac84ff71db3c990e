"""Admin reactions and customer profiles through the adapters, over real HTTP to the fake platforms.

`devtools/fake_platforms.py` is a real local server answering like the Graph API: these tests
check the exact request each adapter sends, what it reads from the answer, and how a refusal, an
unreachable customer and a timeout come back (a SendError with the platform's reason).
"""

from __future__ import annotations

import json
import urllib.request

import pytest

from inbox.adapters import get_adapter
from inbox.adapters.base import OutboundContext, Profile, SendError
from tests.factories import SAMPLE_ACCOUNT_IDS, SAMPLE_SECRETS

CUSTOMER = {"whatsapp": "6281234567890", "messenger": "7012345678901234", "instagram": "5566778899001122"}


def ctx(platform: str, contact: str | None = None) -> OutboundContext:
    return OutboundContext(
        account_id=SAMPLE_ACCOUNT_IDS[platform],
        secrets=SAMPLE_SECRETS[platform],
        contact_external_id=contact or CUSTOMER[platform],
        platform_conversation_id="",
        text="",
    )


def test_which_platforms_react_and_fetch_profiles():
    flags = {p: (get_adapter(p).supports_reactions, get_adapter(p).supports_profile_fetch) for p in CUSTOMER}
    assert flags == {"whatsapp": (True, False), "messenger": (True, True), "instagram": (True, True)}
    for platform in ("shopee", "tiktokshop"):
        assert (get_adapter(platform).supports_reactions, get_adapter(platform).supports_profile_fetch) == (
            False,
            False,
        )


@pytest.mark.parametrize("emoji", ["\U0001f44d", ""])
def test_whatsapp_reaction_is_a_reaction_message(fake_platforms, emoji):
    get_adapter("whatsapp").send_reaction(ctx("whatsapp"), target_platform_message_id="wamid.CUSTOMER-1", emoji=emoji)
    [request] = fake_platforms.requests_for("whatsapp")
    assert (request.method, request.path) == ("POST", f"/{SAMPLE_ACCOUNT_IDS['whatsapp']}/messages")
    assert request.headers["Authorization"] == "Bearer wa-token"
    # An empty emoji is how WhatsApp takes a reaction back.
    assert request.json == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": CUSTOMER["whatsapp"],
        "type": "reaction",
        "reaction": {"message_id": "wamid.CUSTOMER-1", "emoji": emoji},
    }


@pytest.mark.parametrize("platform", ["messenger", "instagram"])
def test_meta_messaging_react_and_unreact_are_sender_actions(fake_platforms, platform):
    adapter = get_adapter(platform)
    adapter.send_reaction(ctx(platform), target_platform_message_id="m_CUSTOMER-1", emoji="\u2764\ufe0f")
    adapter.send_reaction(ctx(platform), target_platform_message_id="m_CUSTOMER-1", emoji="")
    react, unreact = fake_platforms.requests_for(platform)
    assert react.path == unreact.path == f"/{SAMPLE_ACCOUNT_IDS[platform]}/messages"
    assert react.headers["Authorization"] == f"Bearer {SAMPLE_SECRETS[platform]['access_token']}"
    assert react.json == {
        "recipient": {"id": CUSTOMER[platform]},
        "sender_action": "react",
        "payload": {"message_id": "m_CUSTOMER-1", "reaction": "\u2764\ufe0f"},
    }
    assert unreact.json == {
        "recipient": {"id": CUSTOMER[platform]},
        "sender_action": "unreact",
        "payload": {"message_id": "m_CUSTOMER-1"},
    }


@pytest.mark.parametrize("platform", ["whatsapp", "messenger", "instagram"])
def test_a_refused_reaction_is_a_send_error_with_the_platforms_reason(fake_platforms, platform):
    fake_platforms.fail_for(
        CUSTOMER[platform], 400, {"error": {"message": "(#10) Message is older than 7 days", "code": 10}}
    )
    with pytest.raises(SendError) as refused:
        get_adapter(platform).send_reaction(ctx(platform), target_platform_message_id="old", emoji="\U0001f44d")
    assert refused.value.reason == "(#10) Message is older than 7 days (code 10)"
    assert (refused.value.status_code, refused.value.retryable) == (400, False)


def test_a_reaction_that_times_out_is_retryable(fake_platforms, settings):
    settings.PLATFORM_SEND_TIMEOUT_S = 0.3
    fake_platforms.hang_for(CUSTOMER["messenger"], 2)
    with pytest.raises(SendError) as timed_out:
        get_adapter("messenger").send_reaction(ctx("messenger"), target_platform_message_id="m1", emoji="\U0001f44d")
    assert timed_out.value.retryable is True
    assert "did not answer in time" in timed_out.value.reason


@pytest.mark.parametrize(
    ("platform", "fields", "profile"),
    [
        (
            "messenger",
            "first_name,last_name,profile_pic",
            Profile(
                name="Pelanggan Messenger 1234",
                avatar_url="https://fake-platforms.invalid/messenger/7012345678901234.jpg",
            ),
        ),
        (
            "instagram",
            "name,username,profile_pic",
            Profile(
                name="Pelanggan Instagram 1122",
                avatar_url="https://fake-platforms.invalid/instagram/5566778899001122.jpg",
            ),
        ),
    ],
)
def test_profile_fetch_reads_the_user_profile_api(fake_platforms, platform, fields, profile):
    got = get_adapter(platform).profile_fetch(
        account_id=SAMPLE_ACCOUNT_IDS[platform],
        secrets=SAMPLE_SECRETS[platform],
        contact_external_id=CUSTOMER[platform],
    )
    assert got == profile
    [request] = fake_platforms.requests_for(platform)
    assert (request.method, request.path, request.query) == ("GET", f"/{CUSTOMER[platform]}", {"fields": fields})
    # The token travels in a header, never in the URL.
    assert request.headers["Authorization"] == f"Bearer {SAMPLE_SECRETS[platform]['access_token']}"
    assert "access_token" not in request.query


def test_an_instagram_profile_without_a_name_shows_the_username(fake_platforms):
    fake_platforms.profiles[("instagram", CUSTOMER["instagram"])] = {"username": "siti.rahma", "profile_pic": ""}
    got = get_adapter("instagram").profile_fetch(
        account_id=SAMPLE_ACCOUNT_IDS["instagram"],
        secrets=SAMPLE_SECRETS["instagram"],
        contact_external_id=CUSTOMER["instagram"],
    )
    assert got == Profile(name="@siti.rahma", avatar_url="")


def test_a_messenger_profile_with_only_a_first_name(fake_platforms):
    fake_platforms.profiles[("messenger", CUSTOMER["messenger"])] = {"first_name": "Siti"}
    got = get_adapter("messenger").profile_fetch(
        account_id=SAMPLE_ACCOUNT_IDS["messenger"],
        secrets=SAMPLE_SECRETS["messenger"],
        contact_external_id=CUSTOMER["messenger"],
    )
    assert got == Profile(name="Siti", avatar_url="")


@pytest.mark.parametrize("platform", ["messenger", "instagram"])
def test_profile_fetch_errors_and_timeouts_are_send_errors(fake_platforms, settings, platform):
    adapter = get_adapter(platform)
    secrets = SAMPLE_SECRETS[platform]
    # A "fail-" id is refused by the fake server without any setup (usable from the demo too).
    with pytest.raises(SendError) as refused:
        adapter.profile_fetch(account_id="1", secrets=secrets, contact_external_id="fail-4429")
    assert refused.value.reason == "(#100) fail-4429 cannot be reached (fake failure) (code 100)"
    assert refused.value.retryable is False
    settings.PLATFORM_SEND_TIMEOUT_S = 0.3
    fake_platforms.hang_for("7000000000004429", 2)
    with pytest.raises(SendError) as timed_out:
        adapter.profile_fetch(account_id="1", secrets=secrets, contact_external_id="7000000000004429")
    assert timed_out.value.retryable is True


def test_profile_fetch_when_the_platform_is_down_is_retryable(settings):
    settings.MESSENGER_API_BASE = "http://127.0.0.1:9/messenger/v21.0"  # nothing listens on port 9
    with pytest.raises(SendError) as down:
        get_adapter("messenger").profile_fetch(
            account_id="1", secrets=SAMPLE_SECRETS["messenger"], contact_external_id=CUSTOMER["messenger"]
        )
    assert down.value.retryable is True
    assert "could not be reached" in down.value.reason


def test_the_control_endpoint_fails_and_resets_from_another_process(fake_platforms):
    def control(command: dict[str, object]) -> object:
        request = urllib.request.Request(
            f"http://127.0.0.1:{fake_platforms.port}/_control",
            data=json.dumps(command).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=5) as answer:
            return json.loads(answer.read())

    assert control(
        {"fail": {"contact": CUSTOMER["instagram"], "status": 500, "body": {"error": {"message": "x"}}}}
    ) == {"ok": True}
    adapter = get_adapter("instagram")
    with pytest.raises(SendError) as failed:
        adapter.profile_fetch(
            account_id="1", secrets=SAMPLE_SECRETS["instagram"], contact_external_id=CUSTOMER["instagram"]
        )
    assert (failed.value.status_code, failed.value.retryable) == (500, True)
    control({"reset": True})
    assert (
        adapter.profile_fetch(
            account_id="1", secrets=SAMPLE_SECRETS["instagram"], contact_external_id=CUSTOMER["instagram"]
        ).name
        == "Pelanggan Instagram 1122"
    )
