"""The one-statement path for a known customer's message must store exactly what the general path stores."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inbox.models import Channel, Contact, Conversation, Message, WebhookEvent
from inbox.realtime import layer_events, shop_group
from inbox.services import ingest
from monitoring.services.policy import policy_for_shop
from monitoring.services.waiting import policy_copy
from tests.conftest import post_webhook, signed_headers

pytestmark = pytest.mark.django_db(transaction=True)

T0 = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


def wa_body(channel: Channel, *, message_id: str, wa_id: str, name: str, text: str, at: datetime) -> bytes:
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "WABA",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "628110", "phone_number_id": channel.account_id},
                            "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
                            "messages": [
                                {
                                    "from": wa_id,
                                    "id": message_id,
                                    "timestamp": str(int(at.timestamp())),
                                    "type": "text",
                                    "text": {"body": text},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    return json.dumps(payload).encode()


def send(client: Any, channel: Channel, **kwargs: Any) -> Any:
    raw = wa_body(channel, **kwargs)
    response = post_webhook(client, "whatsapp", raw, signed_headers(channel, raw))
    assert response.status_code == 200, response.content
    return response


def reply(conversation: Conversation, at: datetime) -> None:
    # A reply typed on the phone, stored as the general path stores it (it also ends the wait).
    message = Message.objects.create(
        shop=conversation.shop,
        channel=conversation.channel,
        conversation=conversation,
        platform_message_id=f"wamid.out.{at.timestamp()}",
        direction="out",
        source="echo",
        text="Ready kak",
        sent_at=at,
        status="sent",
    )
    ingest.conversation_note_message(conversation=Conversation.objects.get(pk=conversation.pk), message=message)


def snapshot(channel: Channel) -> dict[str, Any]:
    conversation = Conversation.objects.get(channel=channel)
    contact = Contact.objects.get(channel=channel)
    messages = list(
        Message.objects.filter(channel=channel)
        .order_by("sent_at", "id")
        .values_list("platform_message_id", "direction", "source", "status", "text", "sent_at")
    )
    events = list(
        WebhookEvent.objects.filter(channel=channel).order_by("id").values_list("outcome", "messages_stored", "detail")
    )
    last = conversation.last_message
    return {
        "messages": messages,
        "events": events,
        "contact": (contact.name, contact.extra),
        "conversation": (
            conversation.status,
            conversation.unread_count,
            conversation.waiting_since,
            conversation.last_message_at,
            conversation.last_inbound_at,
            conversation.last_reply_at,
            last.platform_message_id if last else None,
        ),
    }


SCENARIO = [
    # (message id, name, minutes after T0); a reply at +5 min sits between them.
    ("m1", "Siti", 0),
    ("m2", "Siti", 1),
    ("m2", "Siti", 1),  # the platform retries: a duplicate
    ("m0", "Siti", -2),  # a late delivery of an older message
    ("m3", "Siti Rahma", 3),  # the profile name changed
    ("m5", "Siti Rahma", 6),  # after the reply: a new wait
    ("m4", "Siti Rahma", 4),  # older than the reply: answered already, no new wait
]


def run_scenario(client: Any, channel: Channel) -> None:
    for i, (mid, name, minutes) in enumerate(SCENARIO):
        if i == 5:
            reply(Conversation.objects.get(channel=channel), T0 + timedelta(minutes=5))
        send(
            client,
            channel,
            message_id=f"{channel.pk}.{mid}",
            wa_id="6281234567890",
            name=name,
            text=f"pesan {mid}",
            at=T0 + timedelta(minutes=minutes),
        )


def normalized(snap: dict[str, Any], channel: Channel) -> dict[str, Any]:
    prefix = f"{channel.pk}."
    snap["messages"] = [(m[0].removeprefix(prefix), *m[1:]) for m in snap["messages"]]
    conv = list(snap["conversation"])
    conv[-1] = conv[-1].removeprefix(prefix) if conv[-1] else None
    snap["conversation"] = tuple(conv)
    return snap


def test_fast_path_stores_what_the_general_path_stores(client, shop, monkeypatch):
    fast, slow = (
        Channel.objects.create(shop=shop, platform="whatsapp", name=n, account_id=a, secrets={"app_secret": s})
        for n, a, s in (("A", "111", "s1"), ("B", "222", "s2"))
    )
    calls: list[bool] = []
    original = ingest._customer_message_ingest_fast

    def spy(**kwargs: Any) -> Any:
        result = original(**kwargs)
        calls.append(result is not None)
        return result

    monkeypatch.setattr(ingest, "_customer_message_ingest_fast", spy)
    run_scenario(client, fast)
    # The first message creates the customer on the general path; every later one is one statement.
    assert calls == [False] + [True] * (len(SCENARIO) - 1)

    monkeypatch.setattr(ingest, "_fast_path_fits", lambda parsed: False)
    run_scenario(client, slow)

    expected = normalized(snapshot(slow), slow)
    got = normalized(snapshot(fast), fast)
    assert got == expected
    # The sanity of the expected values themselves.
    assert got["conversation"][1] == 2  # unread: the reply reset it, two messages came after
    assert got["contact"][0] == "Siti Rahma"
    assert [e[0] for e in got["events"]].count("duplicate") == 1


def test_known_customer_message_is_one_statement(client, channels):
    channel = channels["whatsapp"]
    send(client, channel, message_id="a", wa_id="628111", name="Ani", text="halo", at=T0)
    # The process reads the shop's policy once (monitoring.services.waiting), not per message.
    policy_for_shop(shop_id=channel.shop_id)
    policy_copy(shop_id=channel.shop_id)
    raw = wa_body(channel, message_id="b", wa_id="628111", name="Ani", text="ready?", at=T0 + timedelta(minutes=1))
    with CaptureQueriesContext(connection) as queries:
        assert post_webhook(client, "whatsapp", raw, signed_headers(channel, raw)).status_code == 200
    statements = [q["sql"] for q in queries.captured_queries]
    # One statement: the channel comes from this process's copy (its version is checked in the
    # statement); no BEGIN/COMMIT, savepoints or row-by-row reads.
    assert len(statements) == 1, statements
    conversation = Conversation.objects.get()
    assert conversation.unread_count == 2
    assert conversation.waiting_since == T0
    assert conversation.last_message.platform_message_id == "b"
    assert WebhookEvent.objects.filter(outcome="accepted", messages_stored=1).count() == 2


def test_closed_conversation_reopens(client, channels):
    channel = channels["whatsapp"]
    send(client, channel, message_id="a", wa_id="628111", name="Ani", text="halo", at=T0)
    Conversation.objects.update(status="closed")
    send(client, channel, message_id="b", wa_id="628111", name="Ani", text="lagi", at=T0 + timedelta(minutes=1))
    assert Conversation.objects.get().status == "open"


def test_live_events_follow_the_commit(client, channels):
    channel = channels["whatsapp"]
    send(client, channel, message_id="a", wa_id="628111", name="Ani", text="halo", at=T0)
    layer = get_channel_layer()
    name = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(shop_group(channel.shop_id), name)
    try:
        send(client, channel, message_id="b", wa_id="628111", name="Ani", text="ready?", at=T0 + timedelta(minutes=1))

        async def two() -> tuple[Any, Any]:
            # One event loop for both: the Redis layer's receive buffer belongs to its loop.
            events = layer_events(await layer.receive(name))
            if len(events) < 2:
                events += layer_events(await layer.receive(name))
            assert len(events) == 2, events
            return events[0], events[1]

        first, second = async_to_sync(two)()
    finally:
        async_to_sync(layer.group_discard)(shop_group(channel.shop_id), name)
    message = Message.objects.get(platform_message_id="b")
    assert first["type"] == "message.created"
    assert first["message"]["id"] == message.pk
    assert first["message"]["text"] == "ready?"
    assert first["conversation_id"] == message.conversation_id
    assert second["type"] == "conversation.updated"
    assert second["conversation"]["unread_count"] == 2
    assert second["conversation"]["contact"]["name"] == "Ani"
    assert second["conversation"]["last_message"]["id"] == message.pk
