"""The rule of "waiting" has one home: Conversation.objects.waiting() in SQL and Conversation.waiting_at in Python;
the inbox's markup renders waiting_at, and the REST field waiting_since stays as stored."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from inbox.models import Conversation, Member
from inbox.selectors import conversation_list
from inbox.templatetags.balas import iso
from tests.factories import ChannelFactory, ContactFactory, ConversationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def three(shop: Any) -> dict[str, Conversation]:
    """An open conversation mid-wait, one closed mid-wait, and an open one nobody waits on."""
    now = timezone.now()
    channel = ChannelFactory(shop=shop, platform="whatsapp")

    def make(name: str, **fields: Any) -> Conversation:
        return ConversationFactory(contact=ContactFactory(channel=channel, name=name), **fields)

    return {
        "waiting": make("Menunggu", waiting_since=now - timedelta(minutes=30), last_message_at=now),
        "closed": make(
            "Ditutup",
            waiting_since=now - timedelta(hours=2),
            status=Conversation.Status.CLOSED,
            last_message_at=now - timedelta(minutes=1),
        ),
        "answered": make("Dijawab", waiting_since=None, last_message_at=now - timedelta(minutes=2)),
    }


def test_waiting_is_open_with_a_wait_started(three: dict[str, Conversation]) -> None:
    assert list(Conversation.objects.waiting()) == [three["waiting"]]
    assert Conversation.objects.filter(shop_id=three["closed"].shop_id).waiting().count() == 1


def test_waiting_at_is_the_same_rule_for_one_row(three: dict[str, Conversation]) -> None:
    assert three["waiting"].waiting_at == three["waiting"].waiting_since
    assert three["closed"].waiting_at is None
    assert three["answered"].waiting_at is None
    waiting_ids = set(Conversation.objects.waiting().values_list("pk", flat=True))
    assert {c.pk for c in Conversation.objects.all() if c.waiting_at is not None} == waiting_ids


def test_order_by_wait_puts_only_real_waits_first(three: dict[str, Conversation]) -> None:
    # The closed conversation's wait is older than the open one's, yet it is not waiting: it sorts
    # among the rest by its last message.
    rows = Conversation.objects.order_by_wait("-last_message_at")
    assert [c.pk for c in rows] == [three["waiting"].pk, three["closed"].pk, three["answered"].pk]
    listed = conversation_list(shop_id=three["waiting"].shop_id)
    assert [c.pk for c in listed] == [three["waiting"].pk, three["closed"].pk, three["answered"].pk]
    waiting_only = conversation_list(shop_id=three["waiting"].shop_id, status="waiting")
    assert [c.pk for c in waiting_only] == [three["waiting"].pk]


def _row(html: str, conversation: Conversation) -> str:
    match = re.search(rf'<li id="conv-{conversation.pk}" .*?</li>', html, re.S)
    assert match is not None, html
    return match[0]


def test_list_rows_render_waiting_at(client: Client, owner: Member, three: dict[str, Conversation]) -> None:
    client.force_login(owner.user)
    html = client.get("/?status=all").content.decode()
    waiting = _row(html, three["waiting"])
    since = iso(three["waiting"].waiting_at)
    assert since.endswith("+07:00")  # the shop's clock, as the script parses it
    assert "is-waiting" in waiting
    assert f'data-waiting="{since}"' in waiting
    assert f'class="wait" data-since="{since}"' in waiting
    for name in ("closed", "answered"):
        row = _row(html, three[name])
        assert "is-waiting" not in row
        assert 'data-waiting=""' in row
        assert 'class="wait"' not in row
    assert "<title>(1) Balas</title>" in html


def test_thread_header_renders_waiting_at(client: Client, owner: Member, three: dict[str, Conversation]) -> None:
    client.force_login(owner.user)
    header = client.get(f"/c/{three['waiting'].pk}/header/").content.decode()
    assert f'<span class="wait" data-since="{iso(three["waiting"].waiting_at)}">' in header
    for name in ("closed", "answered"):
        assert 'class="wait"' not in client.get(f"/c/{three[name].pk}/header/").content.decode()


def test_api_keeps_waiting_since_as_stored(client: Client, owner: Member, three: dict[str, Conversation]) -> None:
    # The REST contract: waiting_since is the stored field, also on a chat closed mid-wait.
    headers = {"Authorization": f"Token {owner.api_token}"}
    closed = client.get(f"/api/v1/conversations/{three['closed'].pk}/", headers=headers).json()
    assert closed["status"] == "closed"
    assert datetime.fromisoformat(closed["waiting_since"]) == three["closed"].waiting_since
    listed = client.get("/api/v1/conversations/", {"status": "waiting"}, headers=headers).json()["results"]
    assert [c["id"] for c in listed] == [three["waiting"].pk]
