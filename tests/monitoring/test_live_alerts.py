"""`alert.created` reaches the right browsers live, through the real Channels layer on Redis."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator

from config.asgi import application
from inbox.models import Conversation, Member
from monitoring.models import Alert
from tests.factories import MemberFactory, ShopFactory
from tests.monitoring.conftest import push, set_policy

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.usefixtures("no_warnings")]

ALERT_KEYS = {
    "id",
    "kind",
    "state",
    "conversation_id",
    "assignee_id",
    "title",
    "detail",
    "reasons",
    "created_at",
    "latency_seconds",
}


async def _connect(member: Any) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, f"/ws/inbox/?token={member.api_token}")
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def _next_alert(communicator: WebsocketCommunicator, timeout: float = 20) -> dict[str, Any]:
    while True:
        event = await communicator.receive_json_from(timeout=timeout)
        if event["type"] == "alert.created":
            return event


async def _drain(communicator: WebsocketCommunicator) -> list[dict[str, Any]]:
    events = []
    while not await communicator.receive_nothing(timeout=1.0):
        events.append(await communicator.receive_json_from())
    return events


def test_alert_created_reaches_the_owner_and_not_another_shop(shop, owner, api_channel, celery_worker):
    set_policy(shop, first=2, reply=2)
    stranger = MemberFactory(shop=ShopFactory(), role=Member.Role.OWNER)

    async def scenario() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        mine, theirs = await _connect(owner), await _connect(stranger)
        await sync_to_async(push)(api_channel, text="Kak ready? ongkir ke Bandung berapa?")
        event = await _next_alert(mine)
        leaked = await _drain(theirs)
        await mine.disconnect()
        await theirs.disconnect()
        return event, leaked

    event, leaked = async_to_sync(scenario)()
    alert = Alert.objects.get()
    assert event["type"] == "alert.created"
    assert ALERT_KEYS <= set(event["alert"])
    assert event["alert"]["id"] == alert.pk
    assert event["alert"]["kind"] == "slow_first_reply"
    assert event["alert"]["state"] == "open"
    assert event["alert"]["conversation_id"] == alert.conversation_id
    assert event["alert"]["latency_seconds"] >= 2
    assert leaked == []


def test_admin_sees_alerts_of_own_and_unassigned_conversations_only(
    shop, owner, admin_member, api_channel, celery_worker, client
):
    set_policy(shop, first=2, reply=2)
    colleague = MemberFactory(shop=shop, role=Member.Role.ADMIN)

    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        owner_ws, admin_ws = await _connect(owner), await _connect(admin_member)

        def customers() -> None:
            theirs = push(api_channel, contact="628111", contact_name="Ani")
            Conversation.objects.filter(pk=theirs.conversation_id).update(assignee=colleague)
            mine = push(api_channel, contact="628222", contact_name="Budi")
            Conversation.objects.filter(pk=mine.conversation_id).update(assignee=admin_member)
            push(api_channel, contact="628333", contact_name="Citra")  # unassigned

        await sync_to_async(customers)()
        owner_events = [await _next_alert(owner_ws) for _ in range(3)]
        admin_events = [e for e in await _drain(admin_ws) if e["type"].startswith("alert.")]
        await owner_ws.disconnect()
        await admin_ws.disconnect()
        return owner_events, admin_events

    owner_events, admin_events = async_to_sync(scenario)()
    assert len({e["alert"]["id"] for e in owner_events}) == 3
    seen_by_admin = {e["alert"]["assignee_id"] for e in admin_events}
    assert seen_by_admin == {admin_member.pk, None}

    listed = client.get("/api/v1/alerts/", headers={"Authorization": f"Token {admin_member.api_token}"}).json()
    names = sorted(a["contact_name"] for a in listed["results"])
    assert names == ["Budi", "Citra"]
    everything = client.get("/api/v1/alerts/", headers={"Authorization": f"Token {owner.api_token}"}).json()
    assert everything["count"] == 3
