"""Browser and admin logins: repeated failures per IP + username lock that pair out for a while."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.factories import MemberFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "S3cret!pass"


@pytest.fixture(autouse=True)
def _guard(settings: Any, clean_cache: None) -> None:
    settings.BALAS_LOGIN_MAX_FAILURES = 3
    settings.BALAS_LOGIN_MAX_FAILURES_PER_IP = 8
    settings.BALAS_LOGIN_LOCKOUT_S = 600


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
    assert [login(client, username, "wrong").status_code for _ in range(3)] == [200, 200, 200]
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
    for i in range(8):
        assert login(client, f"guess{i}-{uuid.uuid4().hex[:6]}@example.com", "wrong").status_code == 200
    assert login(client, member.user.username, PASSWORD).status_code == 429


def test_admin_login_is_guarded_too():
    staff = get_user_model().objects.create_user(
        username=f"staff-{uuid.uuid4().hex[:6]}", password=PASSWORD, is_staff=True, is_superuser=True
    )
    client = Client(REMOTE_ADDR="10.0.0.10")
    for _ in range(3):
        assert login(client, staff.username, "wrong", "/admin/login/").status_code == 200
    assert login(client, staff.username, PASSWORD, "/admin/login/").status_code == 429
    assert not logged_in(client)


def test_login_still_works_when_the_cache_is_down(settings, member):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    client = Client(REMOTE_ADDR="10.0.0.11")
    assert login(client, member.user.username, "wrong").status_code == 200
    assert login(client, member.user.username, PASSWORD).status_code == 302 and logged_in(client)
