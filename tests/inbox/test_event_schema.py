"""Every live event type round-trips: really published, received as JSON on a member's socket, valid.

Each declared type (inbox.event_schema, and monitoring's alert.* types) has a scenario below that
makes the server publish it the way the product does (a webhook, a reply, an alert); the event is
read from the real WebSocket consumer, over the real Redis channel layer, and validated against the
JSON Schema derived from the type's payload serializers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.utils import timezone

from config.asgi import application
from inbox.event_schema import (
    EventType,
    event_build,
    event_json_schema,
    event_type_register,
    event_types,
    representation,
)
from inbox.models import Conversation, Member, Message
from inbox.serializers import MessageSerializer
from inbox.services import reply_send
from monitoring.api.serializers import AlertSerializer
from monitoring.models import Alert
from monitoring.services.alerts import alert_acknowledge, alert_raise
from tests.conftest import post_webhook, sample, signed_headers
from tests.factories import ChannelFactory, MemberFactory, ShopFactory
from tests.support import redis_flush

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://testserver")


def _webhook(world: dict[str, Any]) -> None:
    raw = sample("whatsapp_text.json")
    channel = world["whatsapp"]
    assert post_webhook(Client(), "whatsapp", raw, signed_headers(channel, raw)).status_code == 200


def _reply(world: dict[str, Any]) -> None:
    _webhook(world)
    # The sample is dated in the past: put the customer's message inside Meta's 24-hour window.
    Conversation.objects.filter(channel=world["whatsapp"]).update(last_inbound_at=timezone.now())
    conversation = Conversation.objects.get(channel=world["whatsapp"])
    reply_send(conversation=conversation, member=world["owner"], text="Ready kak 😊 silakan diorder 🙏")


def _alert(world: dict[str, Any]) -> Alert:
    _webhook(world)
    conversation = Conversation.objects.select_related("contact").get(channel=world["whatsapp"])
    alert, created = alert_raise(
        conversation=conversation,
        kind=Alert.Kind.TERSE_REPLY,
        title="Admin membalas ketus",
        detail="Balasan “iya” terdengar ketus.",
        reasons=["hanya 'iya'"],
        suggestion="Iya kak, ready ya 😊",
    )
    assert created
    return alert


def _acknowledge(world: dict[str, Any]) -> None:
    alert = _alert(world)
    alert_acknowledge(alert_id=alert.pk, member=world["owner"])


def _notify(world: dict[str, Any]) -> None:
    from monitoring.services.browser_notify import browser_notify_flush

    # A slow reply: the owner's defaults take it by browser notification (a terse one goes to the
    # page and the digest only). It arms the owner's flush; here it runs at once, as the worker would.
    _webhook(world)
    conversation = Conversation.objects.select_related("contact").get(channel=world["whatsapp"])
    _alert, created = alert_raise(conversation=conversation, kind=Alert.Kind.SLOW_FIRST_REPLY, title="Siti menunggu")
    assert created
    assert browser_notify_flush(member_id=world["owner"].pk)


# Event type -> what makes the product publish it.
SCENARIOS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "message.created": _webhook,
    "conversation.updated": _webhook,
    "message.updated": _reply,
    "alert.created": _alert,
    "alert.updated": _acknowledge,
    "notification.created": _notify,
}


@pytest.fixture
def world(db: Any, fake_platforms: Any) -> dict[str, Any]:
    redis_flush()
    shop = ShopFactory(name="Glow Beauty")
    channel = ChannelFactory(shop=shop, platform="whatsapp")
    return {"shop": shop, "whatsapp": channel, "owner": MemberFactory(shop=shop, role=Member.Role.OWNER)}


def test_every_declared_event_type_has_a_scenario():
    assert sorted(t.name for t in event_types()) == sorted(SCENARIOS)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_a_published_event_round_trips_and_matches_its_schema(world, name):
    schema = event_json_schema(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    socket = WebsocketCommunicator(application, f"/ws/inbox/?token={world['owner'].api_token}", headers=[ORIGIN])

    async def scenario() -> list[dict[str, Any]]:
        assert (await socket.connect(timeout=10))[0] is True
        await sync_to_async(SCENARIOS[name])(world)
        frames = []
        # Until the socket stays quiet for a while: every frame the scenario made has arrived.
        while not await socket.receive_nothing(timeout=2):
            frames.append(json.loads(await socket.receive_from()))
        await socket.disconnect()
        return frames

    frames = async_to_sync(scenario)()
    matching = [frame for frame in frames if frame["type"] == name]
    assert matching, [frame["type"] for frame in frames]
    for frame in frames:
        # Every frame the scenario produced is a declared type and valid, not only the one asked for.
        jsonschema.validate(frame, event_json_schema(frame["type"]))
    if name in ("alert.created", "alert.updated"):
        alert = Alert.objects.select_related("conversation__contact").get()
        assert matching[-1]["alert"] == json.loads(json.dumps(AlertSerializer(alert).data))


def test_a_payload_that_breaks_its_schema_is_caught(world):
    _webhook(world)
    message = Message.objects.get()
    event = event_build("message.created", conversation_id=message.conversation_id, message=message)
    jsonschema.validate(event, event_json_schema("message.created"))
    for broken in (
        {**event, "message": {**event["message"], "direction": "sideways"}},
        {**event, "message": {**event["message"], "id": "7"}},
        {**event, "extra": 1},
        {key: value for key, value in event.items() if key != "conversation_id"},
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, event_json_schema("message.created"))


def test_events_are_built_only_as_declared(world):
    _webhook(world)
    message = Message.objects.get()
    with pytest.raises(TypeError):
        event_build("message.created", message=message)  # conversation_id left out
    with pytest.raises(TypeError):
        event_build("message.created", conversation_id=1, message=message, text="x")
    with pytest.raises(LookupError):
        event_build("message.deleted_by_nobody", message=message)
    with pytest.raises(ValueError, match="namespaced"):
        event_type_register(EventType(name="created", doc="", payload={}))
    with pytest.raises(ValueError, match="twice"):
        event_type_register(EventType(name="message.created", doc="else", payload={"message": MessageSerializer}))


def test_the_alert_payload_is_the_api_serializers(world):
    alert = _alert(world)
    alert = Alert.objects.select_related("conversation__contact").get(pk=alert.pk)
    assert representation(AlertSerializer, alert) == dict(AlertSerializer(alert).data)


def test_the_architecture_doc_lists_every_event_type():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = [t.name for t in event_types() if f"| `{t.name}` |" not in doc]
    assert missing == []
