"""Browser and admin logins (django-axes): repeated failures per IP + username lock that pair out.

Behaviour only, through the login pages: the counts live wherever axes keeps them.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.factories import MemberFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "S3cret!pass"


@pytest.fixture(autouse=True)
def _guard(settings: Any, clean_cache: None) -> None:
    settings.AXES_FAILURE_LIMIT = 3
    settings.BALAS_LOGIN_MAX_FAILURES_PER_IP = 8
    settings.AXES_COOLOFF_TIME = timedelta(seconds=600)


@pytest.fixture
def member(shop: Any) -> Any:
    return MemberFactory(shop=shop, user=UserFactory(username=f"{uuid.uuid4().hex[:8]}@example.com"))


def login(client: Client, username: str, password: str, path: str = "/login/") -> Any:
    return client.post(path, {"username": username, "password": password})


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_lockout_after_repeated_failures_even_with_the_right_password(member):
    client = Client(REMOTE_ADDR="10.0.0.5")
    username = member.user.username
    # The failure that reaches the limit is answered with the lockout already.
    assert [login(client, username, "wrong").status_code for _ in range(3)] == [200, 200, 429]
    refused = login(client, username, PASSWORD)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 600
    assert "Terlalu banyak percobaan masuk" in refused.content.decode()
    assert not logged_in(client)


def test_lockout_is_per_ip_and_username(member, shop):
    other = MemberFactory(shop=shop, user=UserFactory(username=f"{uuid.uuid4().hex[:8]}@example.com"))
    attacker = Client(REMOTE_ADDR="10.0.0.6")
    for _ in range(3):
        login(attacker, member.user.username, "wrong")
    assert login(attacker, member.user.username, PASSWORD).status_code == 429
    assert not logged_in(attacker)
    # The same person from their own network, and another user from the attacker's IP, still get in.
    own = Client(REMOTE_ADDR="10.0.0.7")
    assert login(own, member.user.username, PASSWORD).status_code == 302 and logged_in(own)
    colleague = Client(REMOTE_ADDR="10.0.0.6")
    assert login(colleague, other.user.username, PASSWORD).status_code == 302 and logged_in(colleague)


def test_success_clears_the_failures(member):
    client = Client(REMOTE_ADDR="10.0.0.8")
    for _ in range(2):
        login(client, member.user.username, "wrong")
    assert login(client, member.user.username, PASSWORD).status_code == 302
    client.logout()
    for _ in range(2):
        login(client, member.user.username, "wrong")
    assert login(client, member.user.username, PASSWORD).status_code == 302


def test_username_spraying_from_one_ip_is_locked_out(member):
    client = Client(REMOTE_ADDR="10.0.0.9")
    for i in range(7):
        assert login(client, f"guess{i}-{uuid.uuid4().hex[:6]}@example.com", "wrong").status_code == 200
    assert login(client, f"guess7-{uuid.uuid4().hex[:6]}@example.com", "wrong").status_code == 429
    assert login(client, member.user.username, PASSWORD).status_code == 429
    # Another address is not touched by it.
    assert login(Client(REMOTE_ADDR="10.0.0.19"), member.user.username, PASSWORD).status_code == 302


def test_admin_login_is_guarded_too():
    staff = get_user_model().objects.create_user(
        username=f"staff-{uuid.uuid4().hex[:6]}", password=PASSWORD, is_staff=True, is_superuser=True
    )
    client = Client(REMOTE_ADDR="10.0.0.10")
    assert [login(client, staff.username, "wrong", "/admin/login/").status_code for _ in range(3)] == [200, 200, 429]
    assert login(client, staff.username, PASSWORD, "/admin/login/").status_code == 429
    assert not logged_in(client)


def test_look_alike_user_names_share_the_lock(member):
    """Attack 5: fullwidth letters (NFKC turns them into the real name) and another case."""
    client = Client(REMOTE_ADDR="10.0.0.11")
    username = member.user.username
    fullwidth = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in username)
    assert fullwidth != username
    assert login(client, fullwidth, "wrong").status_code == 200
    assert login(client, username.upper(), "wrong").status_code == 200
    assert login(client, f"  {username}", "wrong").status_code == 429
    assert login(client, username, PASSWORD).status_code == 429
    assert not logged_in(client)


def test_a_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored(member):
    """Attack 6: a client picking a new X-Forwarded-For per guess still counts as its own address."""
    client = Client(REMOTE_ADDR="10.0.0.12")
    username = member.user.username
    statuses = [
        client.post("/login/", {"username": username, "password": "wrong"}, HTTP_X_FORWARDED_FOR=f"198.51.100.{i}")
        for i in range(3)
    ]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert (
        client.post(
            "/login/", {"username": username, "password": PASSWORD}, HTTP_X_FORWARDED_FOR="198.51.100.99"
        ).status_code
        == 429
    )


def test_behind_a_trusted_proxy_each_client_has_its_own_lock(settings, member, shop):
    """Attack 7: behind the proxy, one client's failures lock that client, not every client."""
    settings.BALAS_TRUSTED_PROXIES = ["10.9.0.0/16"]
    proxy = Client(REMOTE_ADDR="10.9.0.2")
    username = member.user.username

    def via_proxy(forwarded: str, password: str) -> int:
        return proxy.post(
            "/login/", {"username": username, "password": password}, HTTP_X_FORWARDED_FOR=forwarded
        ).status_code

    # The attacker prepends addresses of its own; the proxy appends the one it saw.
    assert [via_proxy(f"1.2.3.{i}, 203.0.113.7", "wrong") for i in range(3)] == [200, 200, 429]
    assert via_proxy("203.0.113.7", PASSWORD) == 429
    assert via_proxy("203.0.113.8", PASSWORD) == 302


@pytest.mark.django_db(transaction=True)
def test_lockout_under_asgi_too(member):
    """uvicorn runs the async middleware path (axes' __acall__), the demo's and ws's server."""
    from asgiref.sync import async_to_sync
    from django.test import AsyncClient

    client = AsyncClient(REMOTE_ADDR="10.0.0.13")
    username = member.user.username

    async def scenario() -> list[Any]:
        answers = [await client.post("/login/", {"username": username, "password": "wrong"}) for _ in range(3)]
        answers.append(await client.post("/login/", {"username": username, "password": PASSWORD}))
        return answers

    answers = async_to_sync(scenario)()
    assert [a.status_code for a in answers] == [200, 200, 429, 429]
    assert 0 < int(answers[-1]["Retry-After"]) <= 600
    assert "Terlalu banyak percobaan masuk" in answers[-1].content.decode()


def test_the_lockout_holds_when_the_cache_is_down(settings, member):
    """The counts are rows in PostgreSQL: a Redis outage neither opens nor breaks the login."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    client = Client(REMOTE_ADDR="10.0.0.14")
    assert [login(client, member.user.username, "wrong").status_code for _ in range(3)] == [200, 200, 429]
    assert login(client, member.user.username, PASSWORD).status_code == 429
    other = Client(REMOTE_ADDR="10.0.0.15")
    assert login(other, member.user.username, PASSWORD).status_code == 302 and logged_in(other)


def test_no_password_is_kept_with_the_failures(member):
    from axes.models import AccessAttempt

    client = Client(REMOTE_ADDR="10.0.0.16")
    login(client, member.user.username, "my-Wrong-Secret-1")
    attempt = AccessAttempt.objects.get(ip_address="10.0.0.16")
    assert attempt.username == member.user.username.casefold()
    assert "my-Wrong-Secret-1" not in attempt.post_data + attempt.get_data
