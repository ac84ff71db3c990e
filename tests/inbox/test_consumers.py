"""`/ws/inbox/` on the real Redis channel layer, through the project's ASGI application."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.test import Client

from config.asgi import application
from inbox.models import Conversation, Member, Message
from inbox.realtime import event_publish
from monitoring.events import alert_audience
from monitoring.models import Alert
from tests.conftest import post_webhook, sample, signed_headers
from tests.factories import ChannelFactory, MemberFactory, ShopFactory

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://testserver")
WAIT_S = 10


def run(coro_fn: Callable[[], Awaitable[None]]) -> None:
    async_to_sync(coro_fn)()


def session_socket(user: Any) -> WebsocketCommunicator:
    client = Client()
    client.force_login(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    return WebsocketCommunicator(application, "/ws/inbox/", headers=[(b"cookie", cookie), ORIGIN])


def token_socket(token: str) -> WebsocketCommunicator:
    return WebsocketCommunicator(application, f"/ws/inbox/?token={token}", headers=[ORIGIN])


async def deliver(channel: Any, raw: bytes) -> None:
    def _post() -> None:
        response = post_webhook(Client(), channel.platform, raw, signed_headers(channel, raw))
        assert response.status_code == 200, response.content

    await sync_to_async(_post)()


async def receive(communicator: WebsocketCommunicator) -> dict[str, Any]:
    return await communicator.receive_json_from(timeout=WAIT_S)


@pytest.fixture
def two_shops(db: Any) -> dict[str, Any]:
    shop_a = ShopFactory(name="Glow Beauty")
    shop_b = ShopFactory(name="Toko Lain")
    return {
        "wa": ChannelFactory(shop=shop_a, platform="whatsapp"),
        "ig": ChannelFactory(shop=shop_b, platform="instagram"),
        "owner_a": MemberFactory(shop=shop_a, role=Member.Role.OWNER),
        "owner_b": MemberFactory(shop=shop_b, role=Member.Role.OWNER),
    }


def _expected_whatsapp_events(channel: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    conversation = Conversation.objects.select_related("contact").get(channel=channel)
    message = Message.objects.get(channel=channel)
    created = {
        "type": "message.created",
        "conversation_id": conversation.pk,
        "message": {
            "id": message.pk,
            "conversation": conversation.pk,
            "platform_message_id": "wamid.TEST-IN-0001-serum-ready",
            "direction": "in",
            "source": "customer",
            "kind": "text",
            "text": "Kak, produk serum ini ready? mau order 2",
            "content": {},
            "attachments": [],
            "reply_to": "",
            "reactions": [],
            "edited_at": None,
            "edits": [],
            "deleted_at": None,
            "sent_at": "2026-03-02T10:15:00+07:00",
            "status": "received",
            "error": "",
            "sender": "",
        },
    }
    updated = {
        "type": "conversation.updated",
        "conversation": {
            "id": conversation.pk,
            "channel": {"id": channel.pk, "platform": "whatsapp", "name": channel.name},
            "contact": {
                "id": conversation.contact.pk,
                "external_id": "6281234567890",
                "name": "Siti Rahma",
                "display_name": "Siti Rahma",
                "avatar_url": "",
            },
            "status": "open",
            "assignee": None,
            "waiting_since": "2026-03-02T10:15:00+07:00",
            "unread_count": 1,
            "last_message": {
                "id": message.pk,
                "direction": "in",
                "source": "customer",
                "kind": "text",
                "text": "Kak, produk serum ini ready? mau order 2",
                "sent_at": "2026-03-02T10:15:00+07:00",
                "status": "received",
                "deleted_at": None,
            },
            "last_message_at": "2026-03-02T10:15:00+07:00",
        },
    }
    return created, updated


def test_session_socket_gets_its_shops_events_and_none_of_another_shops(two_shops: dict[str, Any]) -> None:
    wa, ig = two_shops["wa"], two_shops["ig"]
    ig_first = sample("instagram_text.json")
    body = json.loads(ig_first)
    body["entry"][0]["messaging"][0]["message"]["mid"] = "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAwMDAw-second"
    ig_second = json.dumps(body).encode()

    socket_a = session_socket(two_shops["owner_a"].user)
    socket_b = session_socket(two_shops["owner_b"].user)

    async def scenario() -> None:
        assert (await socket_a.connect(timeout=WAIT_S))[0] is True
        assert (await socket_b.connect(timeout=WAIT_S))[0] is True

        await deliver(ig, ig_first)
        assert (await receive(socket_b))["type"] == "message.created"
        assert (await receive(socket_b))["type"] == "conversation.updated"

        await deliver(wa, sample("whatsapp_text.json"))
        created, updated = await sync_to_async(_expected_whatsapp_events)(wa)
        # Shop A's first event is its own: nothing of shop B's delivery reached its socket.
        assert await receive(socket_a) == created
        assert await receive(socket_a) == updated

        # And shop B's next event is its own second message, not shop A's.
        await deliver(ig, ig_second)
        event = await receive(socket_b)
        assert event["type"] == "message.created"
        assert event["message"]["platform_message_id"].endswith("-second")
        assert await socket_a.receive_nothing(timeout=0.5) is True

        await socket_a.disconnect()
        await socket_b.disconnect()

    run(scenario)


def test_token_socket_gets_status_updates_as_message_updated(two_shops: dict[str, Any]) -> None:
    wa = two_shops["wa"]
    admin = MemberFactory(shop=wa.shop, role=Member.Role.ADMIN)

    async def scenario() -> None:
        socket = token_socket(admin.api_token)
        assert (await socket.connect(timeout=WAIT_S))[0] is True
        await deliver(wa, sample("whatsapp_text.json"))
        created, updated = await sync_to_async(_expected_whatsapp_events)(wa)
        assert await receive(socket) == created
        assert await receive(socket) == updated

        def _our_reply() -> Message:
            conversation = Conversation.objects.get(channel=wa)
            return Message.objects.create(
                shop=wa.shop,
                channel=wa,
                conversation=conversation,
                platform_message_id="wamid.TEST-OUT-0001-admin-reply",
                direction="out",
                source="inbox",
                text="Ready kak",
                sent_at=conversation.last_inbound_at,
                status="sent",
                sent_by=admin,
            )

        reply = await sync_to_async(_our_reply)()
        await deliver(wa, sample("whatsapp_status_read.json"))
        assert await receive(socket) == {
            "type": "message.updated",
            "conversation_id": reply.conversation_id,
            "message": {
                "id": reply.pk,
                "conversation": reply.conversation_id,
                "platform_message_id": "wamid.TEST-OUT-0001-admin-reply",
                "direction": "out",
                "source": "inbox",
                "kind": "text",
                "text": "Ready kak",
                "content": {},
                "attachments": [],
                "reply_to": "",
                "reactions": [],
                "edited_at": None,
                "edits": [],
                "deleted_at": None,
                "sent_at": "2026-03-02T10:15:00+07:00",
                "status": "read",
                "error": "",
                "sender": admin.display_name,
            },
        }
        await socket.disconnect()

    run(scenario)


@pytest.mark.parametrize("kind", ["anonymous", "bad_token", "no_member", "inactive_token"])
def test_sockets_without_a_member_are_refused(kind: str, two_shops: dict[str, Any]) -> None:
    if kind == "anonymous":
        socket = WebsocketCommunicator(application, "/ws/inbox/", headers=[ORIGIN])
    elif kind == "bad_token":
        socket = token_socket("bm_not-a-real-token")
    elif kind == "no_member":
        user = get_user_model().objects.create_user(username="nobody@example.com", password="x")
        socket = session_socket(user)
    else:
        member = two_shops["owner_a"]
        member.user.is_active = False
        member.user.save(update_fields=["is_active"])
        socket = token_socket(member.api_token)

    async def scenario() -> None:
        connected, code = await socket.connect(timeout=WAIT_S)
        assert connected is False
        assert code == 4401

    run(scenario)


def test_admin_sees_alerts_of_own_or_unassigned_chats_owner_sees_all(two_shops: dict[str, Any]) -> None:
    owner = two_shops["owner_a"]
    shop_id = owner.shop_id
    admin = MemberFactory(shop=owner.shop, role=Member.Role.ADMIN)
    other_admin = MemberFactory(shop=owner.shop, role=Member.Role.ADMIN)

    def alert(alert_id: int, assignee_id: int | None) -> dict[str, Any]:
        return {
            "id": alert_id,
            "kind": "slow_reply",
            "state": "open",
            "conversation_id": 7,
            "assignee_id": assignee_id,
            "title": "Siti menunggu balasan",
            "detail": "",
            "created_at": "2026-03-02T10:30:00+07:00",
        }

    async def scenario() -> None:
        owner_socket = token_socket(owner.api_token)
        admin_socket = token_socket(admin.api_token)
        assert (await owner_socket.connect(timeout=WAIT_S))[0] is True
        assert (await admin_socket.connect(timeout=WAIT_S))[0] is True

        def _publish() -> None:
            for alert_id, assignee in ((1, other_admin.pk), (2, None), (3, admin.pk)):
                event_publish(
                    shop_id=shop_id,
                    event={"type": "alert.created", "alert": alert(alert_id, assignee)},
                    audience=alert_audience(Alert(shop_id=shop_id, assignee_id=assignee)),
                )

        await sync_to_async(_publish)()
        assert [await receive(owner_socket) for _ in range(3)] == [
            {"type": "alert.created", "alert": alert(1, other_admin.pk)},
            {"type": "alert.created", "alert": alert(2, None)},
            {"type": "alert.created", "alert": alert(3, admin.pk)},
        ]
        assert await receive(admin_socket) == {"type": "alert.created", "alert": alert(2, None)}
        assert await receive(admin_socket) == {"type": "alert.created", "alert": alert(3, admin.pk)}
        await owner_socket.disconnect()
        await admin_socket.disconnect()

    run(scenario)
