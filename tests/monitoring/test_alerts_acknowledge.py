"""`POST /api/v1/alerts/acknowledge/`: many at once, only what the caller may see, who and when kept,
one `alert.updated` per acknowledged alert on the real Channels layer (Redis), to those who see it."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from config.asgi import application
from inbox.models import Member
from monitoring.models import Alert
from monitoring.notifications import alert_may_see
from monitoring.selectors import alerts_open_summary, alerts_visible
from monitoring.services.alerts import alert_raise
from tests.factories import ConversationFactory, MemberFactory, ShopFactory

URL = "/api/v1/alerts/acknowledge/"
ORIGIN = (b"origin", b"http://testserver")


def auth(member: Member) -> dict[str, str]:
    return {"Authorization": f"Token {member.api_token}"}


def ack(client: Any, member: Member, body: Any) -> Any:
    return client.post(URL, data=body, content_type="application/json", headers=auth(member))


def _alert(conversation: Any, kind: str = Alert.Kind.SLOW_REPLY, **kw: Any) -> Alert:
    alert, created = alert_raise(conversation=conversation, kind=kind, title=f"{kind} alert", **kw)
    assert created
    return alert


def _open_ids(**filters: Any) -> set[int]:
    return set(Alert.objects.filter(state="open", **filters).values_list("pk", flat=True))


@pytest.mark.django_db
def test_ids_are_acknowledged_with_who_and_when(client, shop, owner):
    conversation = ConversationFactory(contact__channel__shop=shop)
    slow, terse = _alert(conversation), _alert(conversation, kind=Alert.Kind.TERSE_REPLY)
    untouched = _alert(ConversationFactory(contact__channel=conversation.channel))
    before = timezone.now()

    response = ack(client, owner, {"ids": [slow.pk, terse.pk]})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["acknowledged"] == 2 and sorted(body["ids"]) == sorted([slow.pk, terse.pk])
    for alert in Alert.objects.filter(pk__in=[slow.pk, terse.pk]):
        assert alert.state == "acknowledged"
        assert alert.acknowledged_by_id == owner.pk
        assert before <= alert.acknowledged_at <= timezone.now()
    assert _open_ids() == {untouched.pk}
    # Again: nothing left to acknowledge, and the first who/when stay.
    first_at = Alert.objects.get(pk=slow.pk).acknowledged_at
    again = ack(client, owner, {"ids": [slow.pk]}).json()
    assert again == {"acknowledged": 0, "ids": [], "acknowledged_at": None}
    assert Alert.objects.get(pk=slow.pk).acknowledged_at == first_at


@pytest.mark.django_db
def test_all_of_one_kind(client, shop, owner):
    channel = ConversationFactory(contact__channel__shop=shop).channel
    slow = [_alert(ConversationFactory(contact__channel=channel)) for _ in range(3)]
    terse = [_alert(ConversationFactory(contact__channel=channel), kind=Alert.Kind.TERSE_REPLY) for _ in range(2)]

    body = ack(client, owner, {"all": True, "kind": "slow_reply"}).json()

    assert sorted(body["ids"]) == sorted(a.pk for a in slow)
    assert _open_ids() == {a.pk for a in terse}
    assert ack(client, owner, {"all": True}).json()["acknowledged"] == 2
    assert _open_ids() == set()


@pytest.mark.django_db
def test_other_shops_and_colleagues_alerts_are_passed_over_without_a_trace(client, shop, owner, admin_member):
    colleague = MemberFactory(shop=shop, role=Member.Role.ADMIN)
    channel = ConversationFactory(contact__channel__shop=shop).channel
    mine = _alert(ConversationFactory(contact__channel=channel, assignee=admin_member))
    unassigned = _alert(ConversationFactory(contact__channel=channel))
    theirs = _alert(ConversationFactory(contact__channel=channel, assignee=colleague))
    foreign = _alert(
        ConversationFactory(contact__channel__shop=ShopFactory(), contact__channel__account_id="other-shop")
    )

    response = ack(client, admin_member, {"ids": [mine.pk, theirs.pk, foreign.pk, 999_999]})

    # The same answer whether an id is another shop's, a colleague's or does not exist: nothing leaks.
    assert response.status_code == 200
    assert response.json()["ids"] == [mine.pk]
    assert _open_ids() == {unassigned.pk, theirs.pk, foreign.pk}
    # "All" is all the caller sees: never another shop's.
    assert ack(client, admin_member, {"all": True}).json()["ids"] == [unassigned.pk]
    assert _open_ids() == {theirs.pk, foreign.pk}
    assert ack(client, owner, {"all": True}).json()["ids"] == [theirs.pk]
    assert _open_ids() == {foreign.pk}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({}, "non_field_errors", "either `ids`"),
        ({"ids": [1], "all": True}, "non_field_errors", "not both"),
        ({"all": False}, "non_field_errors", "either `ids`"),
        # DRF's own words (in the request's language): the field is named.
        ({"ids": []}, "ids", ""),
        ({"ids": ["x"]}, "ids", ""),
        ({"all": True, "kind": "rude"}, "kind", "rude"),
        ({"all": True, "everything": 1}, "non_field_errors", "Unknown field"),
    ],
)
def test_bad_bodies_are_a_clear_400(client, shop, owner, body, field, words):
    alert = _alert(ConversationFactory(contact__channel__shop=shop))
    response = ack(client, owner, body)
    assert response.status_code == 400
    assert words in str(response.json()[field])
    assert Alert.objects.get(pk=alert.pk).state == "open"


@pytest.mark.django_db
def test_anonymous_is_refused(client):
    assert client.post(URL, data={"all": True}, content_type="application/json").status_code in (401, 403)


@pytest.mark.django_db
def test_the_one_alert_rule_agrees_with_the_selector(shop, owner, admin_member):
    colleague = MemberFactory(shop=shop, role=Member.Role.ADMIN)
    channel = ConversationFactory(contact__channel__shop=shop).channel
    alerts = [
        _alert(ConversationFactory(contact__channel=channel, assignee=admin_member)),
        _alert(ConversationFactory(contact__channel=channel, assignee=colleague)),
        _alert(ConversationFactory(contact__channel=channel)),
        # A curt reply of the admin's in a colleague's conversation: theirs to see too.
        _alert(
            ConversationFactory(contact__channel=channel, assignee=colleague),
            kind=Alert.Kind.TERSE_REPLY,
            member_id=admin_member.pk,
        ),
        _alert(ConversationFactory(contact__channel__shop=ShopFactory(), contact__channel__account_id="other-shop")),
    ]
    for member in (owner, admin_member, colleague):
        visible = set(alerts_visible(member=member).values_list("pk", flat=True))
        assert {a.pk for a in alerts if alert_may_see(member=member, alert=a)} == visible


@pytest.mark.django_db
def test_open_summary_counts_are_true_counts(shop, owner):
    channel = ConversationFactory(contact__channel__shop=shop).channel
    for _ in range(13):
        _alert(ConversationFactory(contact__channel=channel))
    terse = _alert(ConversationFactory(contact__channel=channel), kind=Alert.Kind.TERSE_REPLY)
    Alert.objects.filter(pk=terse.pk).update(count=3)
    acked = _alert(ConversationFactory(contact__channel=channel))
    Alert.objects.filter(pk=acked.pk).update(state="acknowledged")

    summary = alerts_open_summary(member=owner)

    assert (summary.total, summary.waiting_conversations, summary.terse_replies, summary.other) == (14, 13, 3, 0)


# --- live: the real consumer on the real Redis channel layer ---------------------------------------


async def _socket(member: Member) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, f"/ws/inbox/?token={member.api_token}", headers=[ORIGIN])
    connected, _ = await communicator.connect(timeout=10)
    assert connected
    return communicator


async def _events(communicator: WebsocketCommunicator, quiet: float = 1.5) -> list[dict[str, Any]]:
    """Everything until `quiet` seconds pass with nothing."""
    events = []
    while not await communicator.receive_nothing(timeout=quiet):
        events.append(await communicator.receive_json_from())
    return events


@pytest.mark.django_db(transaction=True)
def test_bulk_acknowledge_sends_one_alert_updated_each_to_those_who_see_it(client, shop, owner, admin_member):
    colleague = MemberFactory(shop=shop, role=Member.Role.ADMIN)
    stranger = MemberFactory(shop=ShopFactory(), role=Member.Role.OWNER)
    channel = ConversationFactory(contact__channel__shop=shop).channel
    mine = [_alert(ConversationFactory(contact__channel=channel, assignee=admin_member)) for _ in range(2)]
    theirs = _alert(ConversationFactory(contact__channel=channel, assignee=colleague))
    unassigned = _alert(ConversationFactory(contact__channel=channel), kind=Alert.Kind.TERSE_REPLY)
    foreign = _alert(
        ConversationFactory(contact__channel__shop=stranger.shop, contact__channel__account_id="other-shop")
    )

    async def scenario() -> dict[str, list[dict[str, Any]]]:
        sockets = {"owner": await _socket(owner), "admin": await _socket(admin_member)}
        sockets["colleague"], sockets["stranger"] = await _socket(colleague), await _socket(stranger)

        def acknowledge() -> Any:
            return ack(client, owner, {"ids": [*(a.pk for a in mine), theirs.pk, unassigned.pk, foreign.pk]})

        response = await sync_to_async(acknowledge)()
        assert response.status_code == 200
        # Read concurrently: a socket left unread while others are drained keeps its consumer's
        # blocking receive waiting past the Redis socket timeout.
        drained = await asyncio.gather(*(_events(socket) for socket in sockets.values()))
        await asyncio.gather(*(socket.disconnect() for socket in sockets.values()))
        return dict(zip(sockets, drained, strict=True))

    received = async_to_sync(scenario)()

    def updated(name: str) -> dict[int, dict[str, Any]]:
        events = received[name]
        assert all(e["type"] == "alert.updated" for e in events), events
        by_id = {e["alert"]["id"]: e["alert"] for e in events}
        assert len(by_id) == len(events), "one event per alert"
        return by_id

    owner_saw = updated("owner")
    assert set(owner_saw) == {*(a.pk for a in mine), theirs.pk, unassigned.pk}
    assert set(updated("admin")) == {*(a.pk for a in mine), unassigned.pk}
    assert set(updated("colleague")) == {theirs.pk, unassigned.pk}
    assert received["stranger"] == []
    for alert in owner_saw.values():
        assert alert["state"] == "acknowledged"
        assert alert["acknowledged_by_id"] == owner.pk
        assert alert["acknowledged_at"]
    assert Alert.objects.get(pk=foreign.pk).state == "open"


# --- the bar and the badge: server-rendered, true counts, only what the member sees ---------------


@pytest.mark.django_db
def test_every_page_renders_the_badge_and_the_inbox_one_bar(client, shop, owner, admin_member):
    colleague = MemberFactory(shop=shop, role=Member.Role.ADMIN)
    channel = ConversationFactory(contact__channel__shop=shop).channel
    for _ in range(3):
        _alert(ConversationFactory(contact__channel=channel))
    for _ in range(4):
        _alert(ConversationFactory(contact__channel=channel, assignee=colleague))
    _alert(ConversationFactory(contact__channel=channel), kind=Alert.Kind.TERSE_REPLY)

    client.force_login(owner.user)
    inbox = client.get("/").content.decode()
    assert inbox.count('class="alert-bar"') == 1
    assert 'data-count="8"' in inbox
    assert "7 pelanggan menunggu terlalu lama · 1 balasan ketus" in inbox
    assert 'data-count="8"' in client.get("/dashboard/").content.decode()
    summary = client.get("/alerts/summary/")
    assert summary["Cache-Control"] == "no-store"
    assert 'id="alert-bar"' in summary.content.decode() and 'data-count="8"' in summary.content.decode()

    client.force_login(admin_member.user)
    mine = client.get("/alerts/summary/").content.decode()
    assert 'data-count="4"' in mine and "3 pelanggan menunggu terlalu lama · 1 balasan ketus" in mine

    ack(client, owner, {"all": True})
    cleared = client.get("/alerts/summary/").content.decode()
    assert 'class="alert-bar"' not in cleared and 'data-count="0"' in cleared


@pytest.mark.django_db
def test_alerts_page_groups_by_conversation_and_filters_by_kind_and_admin(client, shop, owner, admin_member):
    channel = ConversationFactory(contact__channel__shop=shop).channel
    busy = ConversationFactory(contact__channel=channel, contact__name="Budi", assignee=admin_member)
    for kind in (Alert.Kind.SLOW_FIRST_REPLY, Alert.Kind.SLOW_REPLY, Alert.Kind.TERSE_REPLY):
        _alert(busy, kind=kind)
    quiet = ConversationFactory(contact__channel=channel, contact__name="Citra")
    _alert(quiet)
    client.force_login(owner.user)

    def groups(query: str) -> list[str]:
        html = client.get(f"/alerts/{query}", headers={"HX-Request": "true", "HX-Target": "alert-rows"}).content
        return re.findall(r'id="alert-group-(\d+)"', html.decode())

    assert groups("?state=open") == [str(quiet.pk), str(busy.pk)]
    page = client.get("/alerts/?state=open").content.decode()
    assert page.count('class="alert-row ') == 4
    assert groups("?kind=terse_reply") == [str(busy.pk)]
    assert groups(f"?assignee={admin_member.pk}") == [str(busy.pk)]
    assert groups("?assignee=none") == [str(quiet.pk)]
    listed = client.get(f"/api/v1/alerts/?assignee={admin_member.pk}", headers=auth(owner)).json()
    assert listed["count"] == 3
    assert client.get("/api/v1/alerts/?assignee=someone", headers=auth(owner)).status_code == 400
