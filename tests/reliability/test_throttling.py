"""API throttling: per member token (or login), per api-channel token, per IP; scoped rates from settings."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client

from inbox.models import Member, Message
from inbox.tokens import token_generate
from tests.factories import ChannelFactory, MemberFactory

pytestmark = pytest.mark.django_db

RATES = {"anon": "3/minute", "member_read": "4/minute", "member_write": "2/minute", "channel_push": "3/minute"}


@pytest.fixture(autouse=True)
def _low_rates(settings: Any, clean_cache: None) -> None:
    settings.BALAS_THROTTLE_RATES = dict(RATES)


def token_client(token: str) -> Client:
    client = Client()
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {token}"
    return client


def test_member_reads_are_limited_per_token(owner, admin_member):
    caller = token_client(owner.api_token)
    statuses = [caller.get("/api/v1/conversations/").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
    refused = caller.get("/api/v1/conversations/")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert refused["Retry-After"] in refused.json()["detail"]  # says when to come back
    # Another member of the same shop has their own budget.
    assert token_client(admin_member.api_token).get("/api/v1/conversations/").status_code == 200


def test_writes_have_their_own_scope(owner):
    caller = token_client(owner.api_token)
    body = json.dumps({"customer": "Kak ready?", "reply": "Ready kak, silakan diorder ya"})
    statuses = [
        caller.post("/api/v1/tone/check/", data=body, content_type="application/json").status_code for _ in range(3)
    ]
    assert statuses == [200, 200, 429]
    # Reads are counted apart from writes.
    assert caller.get("/api/v1/alerts/").status_code == 200


def test_session_logins_are_limited_per_user(owner):
    browser = Client()
    browser.force_login(owner.user)
    statuses = [browser.get("/api/v1/channels/").status_code for _ in range(5)]
    assert statuses[-1] == 429 and statuses[:4] == [200] * 4


def test_anonymous_callers_are_limited_per_ip():
    statuses = [Client(REMOTE_ADDR="10.1.1.1").get("/api/schema/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert Client(REMOTE_ADDR="10.1.1.2").get("/api/schema/").status_code == 200


def test_channel_pushes_are_limited_per_channel(shop):
    raw, digest = token_generate("bc")
    channel = ChannelFactory(shop=shop, platform="api", account_id="web-1")
    channel.token_hash = digest
    channel.save(update_fields=["token_hash"])
    caller = token_client(raw)
    statuses = []
    for i in range(4):
        body = {
            "external_id": f"ord-{i}",
            "contact": {"id": "c-1", "name": "Siti"},
            "direction": "in",
            "text": "halo",
            "sent_at": datetime(2026, 3, 2, 3, i, tzinfo=UTC).isoformat(),
        }
        statuses.append(
            caller.post(
                f"/api/v1/channels/{channel.pk}/messages/", data=json.dumps(body), content_type="application/json"
            ).status_code
        )
    assert statuses == [201, 201, 201, 429]
    # The refused push stored nothing.
    assert Message.objects.filter(channel=channel).count() == 3


def test_a_rate_of_none_turns_a_scope_off(settings, owner):
    settings.BALAS_THROTTLE_RATES = {**RATES, "member_read": None}
    caller = token_client(owner.api_token)
    assert {caller.get("/api/v1/conversations/").status_code for _ in range(8)} == {200}


def test_throttling_fails_open_when_the_cache_is_down(settings, shop):
    member = MemberFactory(shop=shop, role=Member.Role.OWNER)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    caller = token_client(member.api_token)
    assert [caller.get("/api/v1/conversations/").status_code for _ in range(6)] == [200] * 6
