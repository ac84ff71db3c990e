"""`seeddemo` builds the demo shop once; running it again changes nothing and keeps the logins working."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from devtools.demo import DEMO_ADMIN_EMAIL, DEMO_OWNER_EMAIL, DEMO_SHOP_NAME
from devtools.simulator import ChannelSpec, customer_message, customer_new, signed
from inbox.auth import authenticate_token
from inbox.models import Channel, Member, Message, Shop
from monitoring.services.policy import policy_for_shop

pytestmark = pytest.mark.django_db(transaction=True)

PLATFORMS = {"whatsapp", "instagram", "messenger", "shopee", "tiktokshop", "api"}


def seed(path, port: int = 8765) -> dict:
    out = StringIO()
    call_command("seeddemo", "--port", str(port), "--output", str(path), stdout=out)
    text = out.getvalue()
    data = json.loads(path.read_text())
    # What the user needs is printed: the URL, both logins and the token.
    assert f"http://127.0.0.1:{port}/" in text
    for login in (data["owner"], data["admin"]):
        assert login["email"] in text
        assert login["password"] in text
    assert data["owner"]["token"] in text
    return data


def logins_work(client, data: dict) -> None:
    for role, login in (("owner", data["owner"]), ("admin", data["admin"])):
        assert client.login(username=login["email"], password=login["password"]), role
        client.logout()
        _, member = authenticate_token(login["token"])
        assert isinstance(member, Member)
        assert member.role == role
        assert member.shop.name == DEMO_SHOP_NAME


def test_seeddemo_twice_makes_one_shop_with_six_channels_and_working_logins(client, tmp_path):
    path = tmp_path / "demo.json"
    first = seed(path)
    second = seed(path)

    assert Shop.objects.filter(name=DEMO_SHOP_NAME).count() == 1
    shop = Shop.objects.get(name=DEMO_SHOP_NAME)
    assert shop.timezone == "Asia/Jakarta"
    assert sorted(Channel.objects.filter(shop=shop).values_list("platform", flat=True)) == sorted(PLATFORMS)
    assert set(shop.members.values_list("user__username", "role")) == {
        (DEMO_OWNER_EMAIL, "owner"),
        (DEMO_ADMIN_EMAIL, "admin"),
    }
    # Nothing was rotated: the second run kept what the first one printed.
    assert second["owner"] == first["owner"]
    assert second["admin"] == first["admin"]
    assert second["channels"] == first["channels"]
    assert second["channels"]["shopee"]["secrets"]["callback_url"] == "http://127.0.0.1:8765/webhooks/shopee/"
    logins_work(client, second)
    # Short targets, so the monitoring shows late replies within minutes of starting the demo.
    policy = policy_for_shop(shop_id=shop.pk)
    assert (policy.first_reply_target_s, policy.reply_target_s) == (120, 180)
    _, api_channel = authenticate_token(second["channels"]["api"]["token"])
    assert api_channel == Channel.objects.get(shop=shop, platform="api")


def test_a_lost_secrets_file_gets_new_logins_and_a_new_port_moves_the_shopee_callback(client, tmp_path):
    path = tmp_path / "demo.json"
    first = seed(path)
    path.unlink()
    again = seed(path, port=9000)

    assert Shop.objects.count() == 1
    assert Channel.objects.count() == 6
    # The old file's passwords and tokens are gone for good, so they were replaced; both work.
    assert again["owner"]["token"] != first["owner"]["token"]
    assert again["channels"]["api"]["token"] != first["channels"]["api"]["token"]
    logins_work(client, again)
    assert not client.login(username=first["owner"]["email"], password=first["owner"]["password"])
    # Channel secrets are read back from the database: the platforms' accounts stay the same.
    assert again["channels"]["whatsapp"]["secrets"] == first["channels"]["whatsapp"]["secrets"]
    assert again["channels"]["shopee"]["secrets"]["callback_url"] == "http://127.0.0.1:9000/webhooks/shopee/"


def test_the_written_secrets_sign_webhooks_the_server_accepts(client, tmp_path):
    path = tmp_path / "demo.json"
    data = seed(path)
    for platform in ("whatsapp", "instagram", "messenger", "shopee", "tiktokshop"):
        entry = data["channels"][platform]
        channel = ChannelSpec(platform, entry["account_id"], entry["secrets"])
        raw, headers = signed(channel, customer_message(channel, customer_new(platform), text="kak ready?"))
        headers.pop("Content-Type")
        response = client.post(f"/webhooks/{platform}/", data=raw, content_type="application/json", headers=headers)
        assert response.status_code == 200, (platform, response.content)
    assert Message.objects.filter(shop__name=DEMO_SHOP_NAME).count() == 5
