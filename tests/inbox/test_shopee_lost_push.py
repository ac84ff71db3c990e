"""Shopee's lost pushes: fetched (signed), stored through the webhook's path (once), then confirmed.

The fake platform server (devtools/fake_platforms.py) holds the lost-push list as Shopee does: the
earliest entries a page at a time, dropped up to the confirmed `last_message_id`.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from inbox.adapters.base import SendError
from inbox.adapters.shopee import LOST_PUSH_CONFIRM_PATH, LOST_PUSH_GET_PATH, shopee_partner_sign
from inbox.models import Channel, Message, WebhookEvent
from inbox.services.lost_push import shopee_lost_pushes_ingest
from tests.conftest import post_webhook, sample, signed_headers
from tests.factories import ChannelFactory
from tests.support import redis_flush, wait_for


def _push(message_id: str, text: str = "Kak, masih ada stok?") -> dict[str, Any]:
    body = json.loads(sample("shopee_text.json"))
    body = copy.deepcopy(body)
    body["data"]["content"]["message_id"] = message_id
    body["data"]["content"]["content"]["text"] = text
    return body


@pytest.fixture
def shopee(shop: Any) -> Channel:
    return ChannelFactory(shop=shop, platform="shopee")


def _signed_ok(request: Any, path: str, channel: Channel) -> bool:
    secrets = channel.secrets
    return (
        request.query.get("sign")
        == shopee_partner_sign(
            partner_id=secrets["partner_id"],
            partner_key=secrets["partner_key"],
            path=path,
            timestamp=int(request.query["timestamp"]),
        )
        and request.query.get("partner_id") == secrets["partner_id"]
    )


@pytest.mark.django_db
def test_lost_pushes_are_stored_once_and_confirmed(client, shopee, fake_platforms):
    # The first push did arrive by webhook; Shopee lists it as lost anyway (it saw no 2xx in time).
    delivered = sample("shopee_text.json")
    assert post_webhook(client, "shopee", delivered, signed_headers(shopee, delivered)).status_code == 200
    fake_platforms.lost_push_add(body=json.loads(delivered))
    fake_platforms.lost_push_add(body=_push("2400000000000000777", "Kak, kirim hari ini bisa?"))
    fake_platforms.lost_push_add(body={"code": 3, "shop_id": 880123456, "data": {"ordersn": "X1", "status": "READY"}})
    last = fake_platforms.lost_push_add(body={**_push("2400000000000000888"), "shop_id": 990000001})  # not ours

    result = shopee_lost_pushes_ingest()

    assert (result.entries, result.stored, result.skipped, result.confirmed_pages) == (4, 3, 1, 1)
    texts = sorted(Message.objects.filter(channel=shopee).values_list("platform_message_id", flat=True))
    assert texts == ["2400000000000000001", "2400000000000000777"]
    assert WebhookEvent.objects.filter(channel=shopee).count() == 4  # webhook + 3 stored pushes, raw kept
    calls = fake_platforms.requests_for("shopee")
    get, confirm = calls
    assert get.method == "GET" and get.path == LOST_PUSH_GET_PATH and _signed_ok(get, LOST_PUSH_GET_PATH, shopee)
    assert confirm.method == "POST" and confirm.path == LOST_PUSH_CONFIRM_PATH
    assert _signed_ok(confirm, LOST_PUSH_CONFIRM_PATH, shopee)
    assert confirm.json == {"last_message_id": last}
    assert fake_platforms.lost_pushes == []

    # Nothing left: one GET, and an empty page is never confirmed.
    fake_platforms.reset()
    assert shopee_lost_pushes_ingest().entries == 0
    assert [r.path for r in fake_platforms.requests_for("shopee")] == [LOST_PUSH_GET_PATH]


@pytest.mark.django_db
def test_pages_are_read_and_confirmed_until_the_list_is_empty(shopee, fake_platforms):
    fake_platforms.lost_push_page_size = 2
    ids = [fake_platforms.lost_push_add(body=_push(f"24000000000000010{n}")) for n in range(5)]
    result = shopee_lost_pushes_ingest()
    assert (result.stored, result.confirmed_pages) == (5, 3)
    assert Message.objects.filter(channel=shopee).count() == 5
    confirms = [r.json for r in fake_platforms.requests_for("shopee") if r.path == LOST_PUSH_CONFIRM_PATH]
    assert confirms == [{"last_message_id": ids[1]}, {"last_message_id": ids[3]}, {"last_message_id": ids[4]}]


@pytest.mark.django_db
def test_a_refusal_confirms_nothing(shopee, fake_platforms):
    fake_platforms.lost_push_add(body=_push("2400000000000000999"))
    fake_platforms.queue_response(200, {"request_id": "r", "error": "error_auth", "message": "Invalid partner_id."})
    with pytest.raises(SendError, match="error_auth"):
        shopee_lost_pushes_ingest()
    assert not Message.objects.exists()
    assert len(fake_platforms.lost_pushes) == 1
    assert shopee_lost_pushes_ingest().stored == 1  # the next poll gets it


@pytest.mark.django_db(transaction=True)
def test_a_starting_worker_asks_for_lost_pushes(shopee, fake_platforms):
    """`celery worker` as deployed (its worker_ready signal; the in-process test worker sends none)."""
    fake_platforms.lost_push_add(body=_push("2400000000000000555", "Kak, halo?"))
    redis_flush()
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "SHOPEE_API_BASE": fake_platforms.base_url("shopee"),
        "PYTHONUNBUFFERED": "1",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--loglevel", "WARNING"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: Message.objects.filter(platform_message_id="2400000000000000555").exists(), timeout=60)
        wait_for(lambda: fake_platforms.lost_pushes == [], timeout=10)
    finally:
        worker.terminate()
        worker.wait(30)
    redis_flush()
