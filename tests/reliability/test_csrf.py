"""CSRF: every browser form (and the API under a browser session) refuses a POST without the token."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from tests.reliability.conftest import db_snapshot
from tests.reliability.test_isolation_matrix import concrete, routes

pytestmark = pytest.mark.django_db

# The platform webhooks are exempt by design: no cookie, the HMAC signature is the proof.
EXEMPT = {"webhooks/<slug:platform>/"}
# Token-authenticated API calls carry no cookie, so CSRF does not apply to them.
PUBLIC_READS = {"api/schema/", "api/docs/"}


def csrf_client(member: Any) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(member.user)
    return client


def test_every_post_without_the_token_is_refused(victim, fake_platforms):
    owner = victim["owner"]
    client = csrf_client(owner)
    before = db_snapshot(victim["shop"])
    refused = []
    for route in routes():
        if route in EXEMPT:
            continue
        path = concrete(route, victim)
        for method in ("post", "put", "patch", "delete"):
            data = json.dumps({"text": "tanpa token", "status": "closed", "first_reply_target_s": 1})
            response = getattr(client, method)(path, data=data, content_type="application/json")
            where = f"{method.upper()} {path} -> {response.status_code}"
            if route in PUBLIC_READS:
                assert response.status_code in {403, 405}, where
                continue
            assert response.status_code == 403, where
            assert "CSRF" in response.content.decode(), where
            refused.append(where)
    assert db_snapshot(victim["shop"]) == before
    assert fake_platforms.requests == []
    assert len(refused) >= 4 * 25


def test_forms_carry_the_token_and_work_with_it(victim, fake_platforms):
    """The pages embed the token (form field and HTMX header) and a POST with it goes through."""
    client = csrf_client(victim["owner"])
    page = client.get(f"/c/{victim['conversation'].pk}/").content.decode()
    tokens = set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page))
    tokens |= set(re.findall(r'"X-CSRFToken": "([^"]+)"', page))
    assert tokens, "no CSRF token on the conversation page"
    token = tokens.pop()
    response = client.post(
        f"/c/{victim['conversation'].pk}/status/", {"status": "closed", "csrfmiddlewaretoken": token}
    )
    assert response.status_code in {200, 302}, response.content[:300]
    victim["conversation"].refresh_from_db()
    assert victim["conversation"].status == "closed"


def test_login_form_needs_the_token(owner):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"username": owner.user.username, "password": "S3cret!pass"})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session
    page = client.get("/login/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = client.post(
        "/login/", {"username": owner.user.username, "password": "S3cret!pass", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert "_auth_user_id" in client.session


def test_token_api_calls_need_no_csrf(victim):
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Token {victim['owner'].api_token}")
    response = client.post(
        "/api/v1/tone/check/",
        data=json.dumps({"customer": "ready?", "reply": "ready kak"}),
        content_type="application/json",
    )
    assert response.status_code == 200
