"""Tenant isolation as a matrix: every route the URL resolver knows x every caller x every method.

Callers: the owner and an admin of another shop, an anonymous visitor, and (for the owner-only
parts) an admin of the shop itself. After every request shop A's rows are compared with a
snapshot: nothing may change, and no response may show shop A's data. New routes are covered
automatically; a new route with an id in its path fails here until PK_SOURCES says which of shop
A's objects that id names.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from config.asgi import application
from inbox.realtime import event_publish
from tests.conftest import post_webhook, sample
from tests.reliability.conftest import VICTIM_MARKER, db_snapshot

pytestmark = pytest.mark.django_db

METHODS = ("get", "post", "put", "patch", "delete")
# Which of shop A's objects an id in a route names (first match wins).
PK_SOURCES = (
    (r"^api/v1/channels/<int:pk>/", "api_channel"),
    (r"^api/v1/conversations/<int:pk>/", "conversation"),
    (r"^api/v1/messages/<int:pk>/", "failed"),
    (r"^api/v1/alerts/<int:pk>/", "alert"),
    (r"^alerts/<int:pk>/", "alert"),
    (r"^c/<int:pk>/", "conversation"),
    (r"^m/<int:pk>/", "failed"),
    (r"^quick-replies/<int:pk>/", "quick_reply"),
)
# Routes that are public on purpose (the API schema and its page), the login/logout and language
# pages, the Web Push service worker (a static script served from the root for its scope), and the
# platform webhooks (signature-checked; tested below).
PUBLIC = {"api/schema/", "api/docs/", "login/", "logout/", "i18n/setlang/", "sw.js"}
WEBHOOK = "webhooks/<slug:platform>/"
OWNER_ONLY_WRITES = (
    ("post", "/api/v1/channels/", {"platform": "api", "name": "x", "account_id": "x"}),
    ("patch", "/api/v1/policy/", {"first_reply_target_s": 1}),
    ("get", "/api/v1/reports/response-times/", None),
    ("get", "/dashboard/", None),
    ("get", "/dashboard/export/replies.csv", None),
)


def routes() -> Iterator[str]:
    def walk(patterns: list[Any], prefix: str) -> Iterator[str]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if str(pattern.pattern) == "admin/":
                    continue  # the admin has its own test below
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern)

    return walk(get_resolver().url_patterns, "")


def concrete(route: str, victim: dict[str, Any]) -> str:
    if "<" not in route:
        return "/" + route
    for regex, key in PK_SOURCES:
        if re.match(regex, route):
            # A message inside the conversation (`<int:message_id>`) is shop A's message of that conversation.
            path = route.replace("<int:pk>", str(victim[key].pk))
            return "/" + path.replace("<int:message_id>", str(victim["failed"].pk))
    pytest.fail(f"route {route!r} has an id: add which object of shop A it names to PK_SOURCES")


def leaked(response: Any, victim: dict[str, Any]) -> bool:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode(errors="replace")
    return VICTIM_MARKER in text or victim["channel"].account_id in text


def body_for(method: str, attacker: dict[str, Any]) -> dict[str, Any]:
    # Plausible fields for every write endpoint at once; each view takes what it knows.
    return {
        "text": "diambil alih",
        "status": "closed",
        "assignee": attacker["admin"].pk,
        "first_reply_target_s": 1,
        "reply_target_s": 1,
        "customer": "halo",
        "reply": "ok",
        "shortcut": "salam",
        "external_id": "x-1",
        "contact": {"id": "c-1"},
        "direction": "in",
        "sent_at": "2026-03-02T03:15:00Z",
    }


def api_client(member: Any | None) -> Client:
    client = Client()
    if member is not None:
        client.defaults["HTTP_AUTHORIZATION"] = f"Token {member.api_token}"
    return client


def page_client(member: Any | None) -> Client:
    client = Client()
    if member is not None:
        client.force_login(member.user)
    return client


def call(client: Client, method: str, path: str, data: dict[str, Any] | None, api: bool) -> Any:
    if method == "get":
        return client.get(path)
    if api:
        return getattr(client, method)(path, data=json.dumps(data or {}), content_type="application/json")
    if method == "post":
        return client.post(path, data={k: v for k, v in (data or {}).items() if not isinstance(v, dict)})
    return getattr(client, method)(path)


@pytest.fixture
def no_platform_calls(fake_platforms: Any) -> Iterator[Any]:
    yield fake_platforms
    assert fake_platforms.requests == [], "a cross-shop request reached a platform's send API"


@pytest.mark.parametrize("caller", ["other_owner", "other_admin", "anonymous"])
def test_no_route_reads_or_writes_another_shop(caller, victim, attacker, no_platform_calls):
    member = {"other_owner": attacker["owner"], "other_admin": attacker["admin"], "anonymous": None}[caller]
    before = db_snapshot(victim["shop"])
    checked = []
    for route in routes():
        if route == WEBHOOK:
            continue
        api = route.startswith("api/")
        path = concrete(route, victim)
        client = api_client(member) if api else page_client(member)
        for method in METHODS:
            response = call(client, method, path, body_for(method, attacker), api)
            where = f"{caller} {method.upper()} {path} -> {response.status_code}"
            assert response.status_code < 500, where
            assert not leaked(response, victim), f"shop A's data in the answer to {where}"
            if "<int:pk>" in route:
                # Another shop's object does not exist for this caller.
                allowed = {401, 403, 404, 405} if member else {302, 401, 403, 405}
                assert response.status_code in allowed, where
            elif member is None and route not in PUBLIC:
                assert response.status_code in {302, 401, 403, 405}, where
                if response.status_code == 302:
                    assert response["Location"].startswith(("/login/", reverse("login"))), where
            checked.append(where)
    assert db_snapshot(victim["shop"]) == before
    assert len(checked) >= 5 * 30


def test_an_admin_cannot_use_the_owners_powers(victim, no_platform_calls):
    before = db_snapshot(victim["shop"])
    for method, path, data in OWNER_ONLY_WRITES:
        api = path.startswith("/api/")
        client = api_client(victim["admin"]) if api else page_client(victim["admin"])
        response = call(client, method, path, data, api)
        assert response.status_code == 403, f"admin {method.upper()} {path} -> {response.status_code}"
    assert db_snapshot(victim["shop"]) == before


def test_the_owner_can_reach_their_own_objects(victim):
    """The positive control: the same matrix's paths do answer shop A's own owner."""
    client = api_client(victim["owner"])
    conversation = victim["conversation"].pk
    assert client.get(f"/api/v1/conversations/{conversation}/").status_code == 200
    assert VICTIM_MARKER in client.get(f"/api/v1/conversations/{conversation}/messages/").content.decode()
    assert page_client(victim["owner"]).get(f"/c/{conversation}/").status_code == 200


def test_another_shops_webhook_needs_that_shops_signature(client, victim, attacker):
    before = db_snapshot(victim["shop"])
    body = json.loads(sample("whatsapp_text.json"))
    body["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = victim["channel"].account_id
    raw = json.dumps(body).encode()
    # Signed with the attacker's own channel secret, unsigned, and with a made-up signature.
    from inbox.adapters import get_adapter

    attacker_headers = get_adapter("whatsapp").signature_headers(secrets=attacker["channel"].secrets, raw_body=raw)
    for headers in (attacker_headers, {}, {"X-Hub-Signature-256": "sha256=" + "0" * 64}):
        response = post_webhook(client, "whatsapp", raw, headers)
        assert response.status_code == 401
        assert response.json() == {"error": "signature is missing or wrong"}
    assert db_snapshot(victim["shop"]) == before


ADMIN_OBJECTS = {
    "inbox.shop": "shop",
    "inbox.member": "owner",
    "inbox.channel": "channel",
    "inbox.contact": "contact",
    "inbox.conversation": "conversation",
    "inbox.message": "message",
    "inbox.quickreply": "quick_reply",
    "monitoring.waitingperiod": "period",
    "monitoring.alert": "alert",
}


@pytest.mark.parametrize("caller", ["other_owner", "victim_admin", "victim_owner", "anonymous"])
def test_the_django_admin_is_closed_to_shop_members(caller, victim, attacker):
    member = {
        "other_owner": attacker["owner"],
        "victim_admin": victim["admin"],
        "victim_owner": victim["owner"],
        "anonymous": None,
    }[caller]
    client = page_client(member)
    before = db_snapshot(victim["shop"])
    paths = ["/admin/"]
    for model in admin.site._registry:
        label = f"{model._meta.app_label}_{model._meta.model_name}"
        paths.append(reverse(f"admin:{label}_changelist"))
        paths.append(reverse(f"admin:{label}_add"))
        key = ADMIN_OBJECTS.get(model._meta.label_lower)
        if key:
            pk = victim[key].pk
            paths += [reverse(f"admin:{label}_change", args=[pk]), reverse(f"admin:{label}_delete", args=[pk])]
    for path in paths:
        for method in ("get", "post"):
            response = getattr(client, method)(path, data={"post": "yes", "name": "diambil alih"})
            where = f"{caller} {method.upper()} {path} -> {response.status_code}"
            assert response.status_code == 302, where
            assert response["Location"].startswith("/admin/login/"), where
            assert not leaked(response, victim), where
    assert db_snapshot(victim["shop"]) == before


# --- the WebSocket ------------------------------------------------------------------------------

ORIGIN = (b"origin", b"http://testserver")


def _session_cookie(member: Any) -> bytes:
    client = page_client(member)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


@pytest.mark.django_db(transaction=True)
def test_the_websocket_carries_no_event_of_another_shop(victim, attacker):
    sockets = {
        "victim": WebsocketCommunicator(application, f"/ws/inbox/?token={victim['owner'].api_token}", headers=[ORIGIN]),
        "other_owner_token": WebsocketCommunicator(
            application, f"/ws/inbox/?token={attacker['owner'].api_token}", headers=[ORIGIN]
        ),
        "other_admin_session": WebsocketCommunicator(
            application, "/ws/inbox/", headers=[(b"cookie", _session_cookie(attacker["admin"])), ORIGIN]
        ),
    }
    refused = {
        "anonymous": WebsocketCommunicator(application, "/ws/inbox/", headers=[ORIGIN]),
        "bad_token": WebsocketCommunicator(application, "/ws/inbox/?token=bm_not-a-token", headers=[ORIGIN]),
        "channel_token_of_victim": WebsocketCommunicator(
            application, "/ws/inbox/?token=" + victim["owner"].api_token + "x", headers=[ORIGIN]
        ),
    }

    async def scenario() -> None:
        for name, socket in sockets.items():
            connected, _ = await socket.connect(timeout=10)
            assert connected, name
        for name, socket in refused.items():
            connected, _ = await socket.connect(timeout=10)
            assert not connected, name
        await _publish(victim["shop"].pk)
        event = await sockets["victim"].receive_json_from(timeout=10)
        assert event["type"] == "alert.created" and VICTIM_MARKER in event["alert"]["title"]
        for name in ("other_owner_token", "other_admin_session"):
            assert await sockets[name].receive_nothing(timeout=1.0), f"{name} received shop A's event"
        for socket in sockets.values():
            await socket.disconnect()

    async_to_sync(scenario)()


async def _publish(shop_id: int) -> None:
    from asgiref.sync import sync_to_async

    await sync_to_async(event_publish)(
        shop_id=shop_id,
        event={"type": "alert.created", "alert": {"id": 1, "title": f"Lambat {VICTIM_MARKER}", "assignee_id": None}},
    )
