"""Browser notifications coalesced per member, through the real worker and the real Channels layer:
a burst is one `notification.created` to every device of the member, the next waits for the interval, and
each member's notification counts only what they may see and what is still open."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator

from config.asgi import application
from inbox.models import Member
from monitoring.models import Alert
from monitoring.services.alerts import alert_acknowledge, alert_raise
from tests.factories import ConversationFactory, MemberFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ORIGIN = (b"origin", b"http://testserver")


async def _socket(member: Member) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, f"/ws/inbox/?token={member.api_token}", headers=[ORIGIN])
    connected, _ = await communicator.connect(timeout=10)
    assert connected
    return communicator


async def _notifications(communicator: WebsocketCommunicator, seconds: float) -> list[tuple[float, dict[str, Any]]]:
    """Every `notification.created` within `seconds`, with when it came."""
    seen: list[tuple[float, dict[str, Any]]] = []
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        # receive_nothing polls; a receive that times out would cancel the consumer.
        if await communicator.receive_nothing(timeout=min(left, 0.2)):
            continue
        event = await communicator.receive_json_from(timeout=5)
        if event["type"] == "notification.created":
            seen.append((time.monotonic(), event))
    return seen


def _raise(conversations: list[Any], kind: str = Alert.Kind.SLOW_REPLY) -> list[Alert]:
    return [
        alert_raise(conversation=c, kind=kind, title=f"{c.contact.name} menunggu balasan")[0] for c in conversations
    ]


def test_a_burst_is_one_notification_per_member_on_every_device_and_the_next_waits(
    shop, owner, admin_member, settings, celery_worker
):
    settings.BALAS_ALERT_NOTIFY_INTERVAL_S = 6
    settings.BALAS_ALERT_NOTIFY_GATHER_S = 1.0
    colleague = MemberFactory(shop=shop, role=Member.Role.ADMIN)
    channel = ConversationFactory(contact__channel__shop=shop).channel
    burst = [ConversationFactory(contact__channel=channel, contact__name=f"Pelanggan {i}") for i in range(8)]
    colleagues = [ConversationFactory(contact__channel=channel, assignee=colleague) for _ in range(2)]
    later = ConversationFactory(contact__channel=channel, contact__name="Telat")

    async def scenario() -> dict[str, list[tuple[float, dict[str, Any]]]]:
        sockets = {
            "owner-desktop": await _socket(owner),
            "owner-phone": await _socket(owner),
            "admin": await _socket(admin_member),
        }
        started = time.monotonic()
        await sync_to_async(_raise)([*burst, *colleagues])
        listen = asyncio.gather(*(_notifications(s, 11) for s in sockets.values()))
        await asyncio.sleep(2.5)
        # Inside the interval: waits for its end, then comes alone.
        await sync_to_async(_raise)([later])
        got = await listen
        await asyncio.gather(*(s.disconnect() for s in sockets.values()))
        return {name: [(at - started, e) for at, e in events] for name, events in zip(sockets, got, strict=True)}

    received = async_to_sync(scenario)()

    for device in ("owner-desktop", "owner-phone"):
        (t1, first), (t2, second) = received[device]
        assert first["count"] == 10 and first["conversation_id"] == 0 and first["title"] == ""
        assert "Pelanggan" in first["names"]
        assert 0.9 <= t1 < 4
        assert second["count"] == 1 and second["conversation_id"] == later.pk
        assert second["title"] == "Telat menunggu balasan" and second["names"] == "Telat"
        assert t2 - t1 >= 6 - 0.5
    # Both devices got the same notification (the browser shows it once per its tabs by `key`).
    assert received["owner-desktop"][0][1] == received["owner-phone"][0][1]
    # The admin's counts only what they see: the burst (unassigned) and the late one, not the colleague's.
    admin_counts = [e["count"] for _, e in received["admin"]]
    assert admin_counts == [8, 1]


def test_what_was_acknowledged_before_the_flush_is_left_out(shop, owner, settings, celery_worker):
    settings.BALAS_ALERT_NOTIFY_GATHER_S = 1.5
    channel = ConversationFactory(contact__channel__shop=shop).channel
    conversations = [ConversationFactory(contact__channel=channel) for _ in range(3)]

    async def scenario() -> list[tuple[float, dict[str, Any]]]:
        socket = await _socket(owner)

        def raise_and_ack() -> None:
            alerts = _raise(conversations)
            alert_acknowledge(alert_id=alerts[0].pk, member=owner)

        await sync_to_async(raise_and_ack)()
        got = await _notifications(socket, 4)
        await socket.disconnect()
        return got

    received = async_to_sync(scenario)()
    assert [e["count"] for _, e in received] == [2]


def test_the_browser_route_and_quiet_hours_decide_who_is_notified(shop, owner, admin_member, settings, celery_worker):
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    from monitoring.notifications import member_routing
    from monitoring.services.notifications import notification_preferences_update

    settings.BALAS_ALERT_NOTIFY_GATHER_S = 1.0
    quiet = MemberFactory(shop=shop, role=Member.Role.ADMIN)
    local = timezone.now().astimezone(ZoneInfo(member_routing(quiet).timezone))
    hours = {
        "start": (local - timedelta(hours=1)).strftime("%H:%M"),
        "end": (local + timedelta(hours=1)).strftime("%H:%M"),
    }
    notification_preferences_update(member=quiet, data={"quiet_hours": hours})
    # The owner keeps slow replies in the page and on the phone, not as a browser notification.
    notification_preferences_update(member=owner, data={"kinds": {"slow_reply": ["in_page", "web_push"]}})
    channel = ConversationFactory(contact__channel__shop=shop).channel
    conversations = [ConversationFactory(contact__channel=channel) for _ in range(3)]
    curt = ConversationFactory(contact__channel=channel)

    async def scenario() -> dict[str, list[tuple[float, dict[str, Any]]]]:
        sockets = {"owner": await _socket(owner), "admin": await _socket(admin_member), "quiet": await _socket(quiet)}
        await sync_to_async(_raise)(conversations)
        # A curt reply: the owner's defaults put it in the page and the digest, the admins' in the page.
        await sync_to_async(_raise)([curt], Alert.Kind.TERSE_REPLY)
        got = await asyncio.gather(*(_notifications(s, 4) for s in sockets.values()))
        await asyncio.gather(*(s.disconnect() for s in sockets.values()))
        return dict(zip(sockets, got, strict=True))

    received = async_to_sync(scenario)()
    assert [e["count"] for _, e in received["admin"]] == [3]
    assert received["owner"] == []
    assert received["quiet"] == []
