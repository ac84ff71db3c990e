from __future__ import annotations

import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from inbox.models import Member, QuickReply, Shop

pytestmark = pytest.mark.django_db


def run(*args: str) -> dict:
    out = StringIO()
    call_command(*args, stdout=out)
    text = out.getvalue().strip()
    # Exactly one JSON object and nothing else, so scripts can parse the output.
    return json.loads(text)


def test_createshop_prints_one_json_object_and_creates_shop_owner_and_quick_replies(client):
    result = run("createshop", "Glow Beauty", "--owner", "owner@example.com", "--password", "S3cret!")
    assert set(result) == {"shop", "owner", "token"}
    assert result["owner"] == "owner@example.com"
    shop = Shop.objects.get(pk=result["shop"])
    assert shop.name == "Glow Beauty"
    assert shop.timezone == "Asia/Jakarta"
    owner = Member.objects.get(shop=shop)
    assert owner.role == Member.Role.OWNER
    assert owner.user.username == "owner@example.com"
    assert owner.user.check_password("S3cret!")
    assert owner.token_hash and result["token"] not in owner.token_hash
    salam = QuickReply.objects.get(shop=shop, shortcut="salam")
    assert "{nama}" in salam.text and "Halo kak" in salam.text
    assert QuickReply.objects.filter(shop=shop).count() >= 7
    # The printed token is a working API token of the owner.
    response = client.get("/api/v1/channels/", headers={"Authorization": f"Token {result['token']}"})
    assert response.status_code == 200
    assert client.login(username="owner@example.com", password="S3cret!")


def test_createmember_prints_member_and_working_token(client):
    shop_id = run("createshop", "Glow Beauty", "--owner", "owner@example.com", "--password", "S3cret!")["shop"]
    result = run(
        "createmember", "--shop", str(shop_id), "--email", "a@example.com", "--password", "Rahasia9", "--role", "admin"
    )
    assert set(result) == {"member": result["member"], "token": result["token"]}.keys()
    member = Member.objects.get(pk=result["member"])
    assert member.shop_id == shop_id
    assert member.role == Member.Role.ADMIN
    assert member.user.username == "a@example.com"
    response = client.get("/api/v1/conversations/", headers={"Authorization": f"Token {result['token']}"})
    assert response.status_code == 200
    # An admin is not the owner: connecting channels is refused.
    response = client.post(
        "/api/v1/channels/",
        data={"platform": "api", "name": "x"},
        content_type="application/json",
        headers={"Authorization": f"Token {result['token']}"},
    )
    assert response.status_code == 403


def test_duplicate_email_is_a_clear_error_and_creates_nothing():
    run("createshop", "Glow Beauty", "--owner", "owner@example.com", "--password", "S3cret!")
    with pytest.raises(CommandError, match=r"owner@example\.com"):
        call_command("createshop", "Toko Dua", "--owner", "Owner@Example.com", "--password", "x", stdout=StringIO())
    assert Shop.objects.count() == 1
    shop_id = Shop.objects.get().pk
    with pytest.raises(CommandError, match=r"owner@example\.com"):
        call_command(
            "createmember", "--shop", str(shop_id), "--email", "owner@example.com", "--password", "x",
            stdout=StringIO(),
        )  # fmt: skip
    assert Member.objects.count() == 1
    assert get_user_model().objects.count() == 1


def test_unknown_shop_and_bad_email_are_clear_errors():
    with pytest.raises(CommandError, match="No shop has id 999999"):
        call_command("createmember", "--shop", "999999", "--email", "a@example.com", "--password", "x")
    shop_id = run("createshop", "Glow Beauty", "--owner", "owner@example.com", "--password", "S3cret!")["shop"]
    with pytest.raises(CommandError, match="email"):
        call_command("createmember", "--shop", str(shop_id), "--email", "not-an-email", "--password", "x")
    with pytest.raises(CommandError, match="Zona waktu"):
        call_command("createshop", "Toko", "--owner", "b@example.com", "--password", "x", "--timezone", "Mars/Base")
    assert Member.objects.count() == 1
