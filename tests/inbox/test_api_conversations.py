from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from inbox.models import Conversation, Member
from tests.factories import T0, ChannelFactory, ContactFactory, ConversationFactory, MemberFactory, MessageFactory

pytestmark = pytest.mark.django_db


def auth(member: Member) -> dict[str, str]:
    return {"Authorization": f"Token {member.api_token}"}


def get(client: Any, path: str, member: Member, **params: Any) -> Any:
    return client.get(path, params, headers=auth(member))


def conversation(channel: Any, *, waiting: timedelta | None = None, last: timedelta, **fields: Any) -> Conversation:
    """A conversation whose last message was at T0 - last, waiting since T0 - waiting."""
    contact = ContactFactory(channel=channel, shop=channel.shop)
    conv = ConversationFactory(contact=contact, channel=channel, shop=channel.shop, **fields)
    message = MessageFactory(conversation=conv, sent_at=T0 - last)
    conv.last_message = message
    conv.last_message_at = message.sent_at
    conv.waiting_since = T0 - waiting if waiting is not None else None
    conv.save()
    return conv


@pytest.fixture
def inbox(shop, channels, owner, admin_member) -> dict[str, Conversation]:
    wa, ig = channels["whatsapp"], channels["instagram"]
    return {
        "long_wait": conversation(wa, waiting=timedelta(hours=3), last=timedelta(hours=1), assignee=admin_member),
        "short_wait": conversation(ig, waiting=timedelta(minutes=10), last=timedelta(minutes=5)),
        "recent": conversation(wa, last=timedelta(minutes=1), assignee=owner),
        "older": conversation(ig, last=timedelta(days=1)),
        "closed": conversation(wa, last=timedelta(minutes=30), status=Conversation.Status.CLOSED),
    }


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [c["id"] for c in response.json()["results"]]


def test_waiting_first_longest_wait_on_top_then_most_recent(client, inbox, owner):
    expected = ["long_wait", "short_wait", "recent", "closed", "older"]
    assert ids(get(client, "/api/v1/conversations/", owner)) == [inbox[k].pk for k in expected]
    assert ids(get(client, "/api/v1/conversations/", owner, status="all")) == [inbox[k].pk for k in expected]


def test_list_items_carry_the_contract_fields(client, inbox, owner):
    item = get(client, "/api/v1/conversations/", owner).json()["results"][0]
    for key in ("channel", "contact", "status", "assignee", "waiting_since", "unread_count", "last_message"):
        assert key in item
    assert item["channel"]["platform"] == "whatsapp"
    assert item["contact"]["external_id"] == inbox["long_wait"].contact.external_id
    assert item["waiting_since"] is not None
    assert item["last_message"]["text"] == "Kak, ready?"


def test_filters(client, inbox, owner, admin_member, channels):
    path = "/api/v1/conversations/"
    assert ids(get(client, path, owner, status="waiting")) == [inbox["long_wait"].pk, inbox["short_wait"].pk]
    assert inbox["closed"].pk not in ids(get(client, path, owner, status="open"))
    assert len(ids(get(client, path, owner, status="open"))) == 4
    assert ids(get(client, path, owner, channel=channels["instagram"].pk)) == [
        inbox["short_wait"].pk,
        inbox["older"].pk,
    ]
    assert ids(get(client, path, owner, assignee="me")) == [inbox["recent"].pk]
    assert ids(get(client, path, admin_member, assignee="me")) == [inbox["long_wait"].pk]
    assert ids(get(client, path, owner, assignee=admin_member.pk)) == [inbox["long_wait"].pk]
    assert ids(get(client, path, owner, assignee="none")) == [
        inbox["short_wait"].pk,
        inbox["closed"].pk,
        inbox["older"].pk,
    ]
    assert ids(get(client, path, owner, status="waiting", assignee="none")) == [inbox["short_wait"].pk]


def test_a_chat_closed_mid_wait_is_not_waiting(client, inbox, owner):
    inbox["closed"].waiting_since = T0 - timedelta(hours=5)
    inbox["closed"].save()
    assert inbox["closed"].pk not in ids(get(client, "/api/v1/conversations/", owner, status="waiting"))
    expected = ["long_wait", "short_wait", "recent", "closed", "older"]
    assert ids(get(client, "/api/v1/conversations/", owner)) == [inbox[k].pk for k in expected]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"status": "sleeping"}, "status"), ({"channel": "wa"}, "channel"), ({"assignee": "someone"}, "assignee")],
)
def test_bad_filters_are_400_naming_the_parameter(client, inbox, owner, params, field):
    response = get(client, "/api/v1/conversations/", owner, **params)
    assert response.status_code == 400
    assert field in response.json()


def test_pagination_is_limit_offset(client, inbox, owner):
    response = get(client, "/api/v1/conversations/", owner, limit=2, offset=1)
    data = response.json()
    assert data["count"] == 5
    assert [c["id"] for c in data["results"]] == [inbox["short_wait"].pk, inbox["recent"].pk]


def test_detail_patch_and_read(client, inbox, owner, admin_member):
    conv = inbox["short_wait"]
    conv.unread_count = 3
    conv.save()
    path = f"/api/v1/conversations/{conv.pk}/"
    detail = get(client, path, owner)
    assert detail.status_code == 200 and detail.json()["unread_count"] == 3

    def patch(body: Any) -> Any:
        return client.patch(path, data=json.dumps(body), content_type="application/json", headers=auth(owner))

    response = patch({"assignee": admin_member.pk, "status": "closed"})
    assert response.status_code == 200
    assert (response.json()["assignee"], response.json()["status"]) == (admin_member.pk, "closed")
    conv.refresh_from_db()
    assert (conv.assignee_id, conv.status) == (admin_member.pk, "closed")
    assert patch({"assignee": None}).json()["assignee"] is None

    stranger = MemberFactory()  # another shop's member
    response = patch({"assignee": stranger.pk})
    assert response.status_code == 422 and "assignee" in response.json()  # a valid id, not of this shop
    response = patch({"status": "archived"})
    assert response.status_code == 400 and "status" in response.json()
    assert patch({}).status_code == 400
    conv.refresh_from_db()
    assert (conv.assignee_id, conv.status) == (None, "closed")

    response = client.post(f"/api/v1/conversations/{conv.pk}/read/", headers=auth(admin_member))
    assert response.status_code == 200 and response.json()["unread_count"] == 0
    conv.refresh_from_db()
    assert conv.unread_count == 0


def test_messages_oldest_first_with_measurement_fields(client, shop, channels, owner):
    conv = conversation(channels["whatsapp"], waiting=timedelta(minutes=9), last=timedelta(minutes=9))
    MessageFactory(conversation=conv, sent_at=T0 - timedelta(minutes=8), text="Halo?")
    reply = MessageFactory(
        conversation=conv,
        sent_at=T0,
        direction="out",
        source="inbox",
        status="sent",
        text="Ready kak 😊",
        sent_by=owner,
    )
    response = get(client, f"/api/v1/conversations/{conv.pk}/messages/", owner)
    assert response.status_code == 200
    results = response.json()["results"]
    assert [m["text"] for m in results] == ["Kak, ready?", "Halo?", "Ready kak 😊"]
    out = results[-1]
    assert out["id"] == reply.pk and out["sent_by"] == owner.pk and out["sender"] == owner.display_name
    # Not measured yet: the fields are there, and null.
    assert out["response_seconds"] is None
    assert out["response_business_seconds"] is None
    assert out["terse"] is None
    assert results[0]["response_seconds"] is None and results[0]["terse"] is None


def test_messages_carry_the_reply_measurement_without_n_plus_1(
    client, shop, channels, owner, django_assert_max_num_queries
):
    monitoring = pytest.importorskip("monitoring.models")
    measurement_model = getattr(monitoring, "ReplyMeasurement", None)
    if measurement_model is None:
        pytest.skip("monitoring.ReplyMeasurement does not exist yet")
    conv = conversation(channels["whatsapp"], waiting=None, last=timedelta(hours=2))
    for i in range(6):
        MessageFactory(conversation=conv, sent_at=T0 - timedelta(minutes=60 - i * 10), text=f"tanya {i}")
        out = MessageFactory(
            conversation=conv,
            sent_at=T0 - timedelta(minutes=55 - i * 10),
            direction="out",
            source="inbox",
            status="sent",
            text="ok",
            sent_by=owner,
        )
        measurement_model.objects.create(
            message=out,
            shop=shop,
            channel=conv.channel,
            conversation=conv,
            member=owner,
            source="inbox",
            kind="reply",
            started_at=out.sent_at - timedelta(minutes=5),
            replied_at=out.sent_at,
            response_seconds=300 + i,
            response_business_seconds=240 + i,
            target_seconds=900,
            sla_met=True,
            terse=True,
            terse_score=0.8,
            terse_reasons=["jawaban terlalu singkat"],
        )
    with django_assert_max_num_queries(8):
        response = get(client, f"/api/v1/conversations/{conv.pk}/messages/", owner)
    outs = [m for m in response.json()["results"] if m["direction"] == "out"]
    assert len(outs) == 6
    assert outs[0]["response_seconds"] == 300.0
    assert outs[0]["response_business_seconds"] == 240.0
    assert outs[0]["terse"] == {"flag": True, "score": 0.8, "reasons": ["jawaban terlalu singkat"]}
    assert outs[5]["response_seconds"] == 305.0


def test_another_channel_of_the_shop_filters_to_nothing_else(client, inbox, owner):
    empty_channel = ChannelFactory(shop=owner.shop, platform="shopee", account_id="880999999")
    assert ids(get(client, "/api/v1/conversations/", owner, channel=empty_channel.pk)) == []


def test_list_query_count_does_not_grow_with_conversations(client, inbox, owner, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        assert len(ids(get(client, "/api/v1/conversations/", owner))) == 5
