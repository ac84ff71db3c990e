"""`request.member` (inbox.middleware.MemberMiddleware) and `scope["member"]` (inbox.ws_auth), through
the project's real middleware stacks."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import include, path

from inbox.http import BalasRequest
from inbox.models import Member
from inbox.services import channel_create
from inbox.ws_auth import TokenOrSessionAuthMiddleware
from tests.conftest import post_webhook, sample, signed_headers
from tests.factories import ChannelFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


def _whoami(request: HttpRequest) -> JsonResponse:
    assert isinstance(request, BalasRequest)
    member = request.member
    return JsonResponse({"member": member.pk if member is not None else None})


def _untouched(request: HttpRequest) -> JsonResponse:
    return JsonResponse({})


urlpatterns = [
    path("whoami/", _whoami),
    path("untouched/", _untouched),
    path("", include("config.urls")),
]


def whoami(client: Client, **headers: str) -> Any:
    response = client.get("/whoami/", headers=headers)
    assert response.status_code == 200
    return response.json()["member"]


def member_queries(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if '"inbox_member"' in (q["sql"] or "")]


@pytest.fixture
def api_channel_token(owner: Member) -> str:
    _channel, token = channel_create(shop=owner.shop, platform="api", name="Website chat", account_id="", secrets={})
    return token


def test_session_user_is_the_member(client: Client, owner: Member) -> None:
    client.force_login(owner.user)
    assert whoami(client) == owner.pk


def test_member_token_is_the_member(client: Client, admin_member: Member) -> None:
    assert whoami(client, Authorization=f"Token {admin_member.api_token}") == admin_member.pk
    assert whoami(client, Authorization=f"token   {admin_member.api_token}") == admin_member.pk


def test_channel_token_is_no_member(client: Client, api_channel_token: str) -> None:
    assert whoami(client, Authorization=f"Token {api_channel_token}") is None


def test_a_token_header_decides_even_with_a_session(client: Client, owner: Member, api_channel_token: str) -> None:
    # The order DRF authenticates in: a request naming a token is that token's, never the session's.
    client.force_login(owner.user)
    assert whoami(client, Authorization=f"Token {api_channel_token}") is None
    assert whoami(client, Authorization="Token bm_not-a-real-token") is None
    assert whoami(client, Authorization="Token two words") is None
    assert whoami(client, Authorization="Bearer something") == owner.pk  # not a Token header: the session


def test_deactivated_users_token_and_session_are_no_member(client: Client, owner: Member) -> None:
    client.force_login(owner.user)
    owner.user.is_active = False
    owner.user.save(update_fields=["is_active"])
    assert whoami(client) is None
    assert whoami(Client(), Authorization=f"Token {owner.api_token}") is None


def test_anonymous_and_a_user_without_member_are_no_member(client: Client, owner: Member) -> None:
    assert whoami(client) is None
    client.force_login(get_user_model().objects.create_user(username="nobody@example.com", password="x"))
    assert whoami(client) is None


def test_member_is_looked_up_once_and_only_when_read(client: Client, owner: Member) -> None:
    client.force_login(owner.user)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/untouched/").status_code == 200
    assert member_queries(queries) == []
    with CaptureQueriesContext(connection) as queries:
        assert whoami(client) == owner.pk
    assert len(member_queries(queries)) == 1


def test_a_webhook_runs_no_member_query(client: Client, owner: Member) -> None:
    channel = ChannelFactory(shop=owner.shop, platform="whatsapp")
    client.force_login(owner.user)  # even a caller with a session and a member token pays nothing
    raw = sample("whatsapp_text.json")
    headers = {**signed_headers(channel, raw), "Authorization": f"Token {owner.api_token}"}
    with CaptureQueriesContext(connection) as queries:
        assert post_webhook(client, "whatsapp", raw, headers).status_code == 200
    assert member_queries(queries) == []


def test_api_token_request_looks_the_member_up_once(client: Client, owner: Member) -> None:
    # DRF's token authentication hands the member it found to request.member.
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/conversations/", headers={"Authorization": f"Token {owner.api_token}"})
    assert response.status_code == 200
    assert len(member_queries(queries)) == 1


# --- WebSocket --------------------------------------------------------------------------------


def _scope_member_of(path: str, headers: list[tuple[bytes, bytes]] | None = None) -> Any:
    seen: dict[str, Any] = {}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen["member"] = scope["member"]
        await send({"type": "websocket.close", "code": 4000})

    async def scenario() -> None:
        communicator = WebsocketCommunicator(TokenOrSessionAuthMiddleware(app), path, headers=headers or [])
        await communicator.connect(timeout=10)
        await communicator.wait(timeout=10)

    async_to_sync(scenario)()
    return seen["member"]


@pytest.mark.django_db(transaction=True)
def test_socket_scope_member_from_token_or_session(owner: Member, admin_member: Member) -> None:
    _channel, channel_token = channel_create(
        shop=owner.shop, platform="api", name="Website chat", account_id="", secrets={}
    )
    client = Client()
    client.force_login(owner.user)
    cookie = [(b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())]

    assert _scope_member_of(f"/ws/inbox/?token={admin_member.api_token}").pk == admin_member.pk
    assert _scope_member_of("/ws/inbox/", cookie).pk == owner.pk
    assert _scope_member_of(f"/ws/inbox/?token={channel_token}") is None
    assert _scope_member_of("/ws/inbox/") is None
    # A token that names no member leaves the session to decide, as the socket always did.
    assert _scope_member_of(f"/ws/inbox/?token={channel_token}", cookie).pk == owner.pk
