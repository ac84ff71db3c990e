"""The adapters' new shapes through the real ingest: content and reply-to stay on the one-statement path,
system notices and reactions, edits and deletes take the general one and count for nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inbox.adapters.base import MessageDelete, MessageEdit, NormalizedMessage, ParsedEvent, Reaction
from inbox.models import Channel, Conversation, Message, WebhookEvent
from inbox.services import deliveries_ingest
from monitoring.services.policy import policy_for_shop
from monitoring.services.waiting import policy_copy

pytestmark = pytest.mark.django_db(transaction=True)

T0 = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
LOCATION = {"latitude": -6.2, "longitude": 106.8, "name": "Toko Glow", "address": "Jl. Sudirman 1"}


def customer(pid: str, at: datetime, **fields: Any) -> NormalizedMessage:
    return NormalizedMessage(
        platform_message_id=pid,
        contact_external_id="628111",
        contact_name="Ani",
        direction="in",
        source="customer",
        sent_at=at,
        **fields,
    )


def ingest(channel: Channel, **parsed: Any) -> None:
    assert deliveries_ingest(deliveries=[(channel, ParsedEvent(**parsed))], raw_body="{}") is not None


@pytest.fixture
def known(channels: dict[str, Channel]) -> Channel:
    channel = channels["whatsapp"]
    ingest(channel, messages=(customer("a", T0, text="halo"),))
    policy_for_shop(shop_id=channel.shop_id)
    policy_copy(shop_id=channel.shop_id)
    return channel


def test_a_known_customers_location_with_a_quote_is_still_one_statement(known):
    with CaptureQueriesContext(connection) as queries:
        ingest(
            known,
            messages=(
                customer(
                    "b",
                    T0 + timedelta(minutes=1),
                    kind="location",
                    content=LOCATION,
                    reply_to_platform_message_id="a",
                ),
            ),
        )
    assert len(queries.captured_queries) == 1, [q["sql"] for q in queries.captured_queries]
    stored = Message.objects.get(platform_message_id="b")
    assert (stored.kind, stored.content, stored.reply_to) == ("location", LOCATION, "a")
    assert Conversation.objects.get().unread_count == 2


def test_a_legacy_or_unknown_kind_is_stored_as_the_contracts(known):
    ingest(known, messages=(customer("b", T0 + timedelta(minutes=1), kind="file"),))
    ingest(known, messages=(customer("c", T0 + timedelta(minutes=2), kind="hologram"),))
    assert dict(
        Message.objects.filter(platform_message_id__in=["b", "c"]).values_list("platform_message_id", "kind")
    ) == {
        "b": "document",
        "c": "unsupported",
    }


def test_a_system_notice_takes_the_general_path_and_counts_for_nothing(known):
    before = Conversation.objects.values("unread_count", "waiting_since", "last_message_id", "last_inbound_at").get()
    with CaptureQueriesContext(connection) as queries:
        ingest(known, messages=(customer("n1", T0 + timedelta(minutes=5), kind="system", text="Nomor berganti"),))
    assert len(queries.captured_queries) > 1
    assert Message.objects.get(platform_message_id="n1").kind == "system"
    after = Conversation.objects.values("unread_count", "waiting_since", "last_message_id", "last_inbound_at").get()
    assert after == before


def test_a_message_and_a_reaction_to_it_in_one_delivery(known):
    ingest(
        known,
        messages=(customer("b", T0 + timedelta(minutes=1), text="ini fotonya"),),
        reactions=(Reaction("a", "628111", "🙏", False, T0 + timedelta(minutes=2)),),
    )
    assert [r["emoji"] for r in Message.objects.get(platform_message_id="a").reactions] == ["🙏"]
    assert Message.objects.count() == 2
    assert Conversation.objects.get().unread_count == 2


def test_edits_keep_history_and_a_retry_changes_nothing(known):
    edit = MessageEdit("a", "628111", "halo kak", False, T0 + timedelta(minutes=3))
    ingest(known, edits=(edit,))
    ingest(known, edits=(edit,))
    message = Message.objects.get(platform_message_id="a")
    assert message.text == "halo kak"
    assert message.edits == [{"text": "halo", "at": (T0 + timedelta(minutes=3)).isoformat()}]
    assert message.edited_at == T0 + timedelta(minutes=3)
    assert list(WebhookEvent.objects.order_by("pk").values_list("outcome", flat=True))[-2:] == ["accepted", "ignored"]


def test_a_caption_edit_updates_the_content(known):
    ingest(
        known,
        messages=(customer("img", T0 + timedelta(minutes=1), kind="image", text="lama", content={"caption": "lama"}),),
    )
    ingest(known, edits=(MessageEdit("img", "628111", "baru", False, T0 + timedelta(minutes=2), {"caption": "baru"}),))
    message = Message.objects.get(platform_message_id="img")
    assert (message.text, message.content["caption"]) == ("baru", "baru")
    assert message.edits[0]["content"] == {"caption": "lama"}


def test_deletes_keep_the_first_time_and_unknown_targets_are_ignored_with_the_reason(known):
    first, later = T0 + timedelta(minutes=4), T0 + timedelta(minutes=9)
    ingest(known, deletes=(MessageDelete("a", "628111", False, first),))
    ingest(known, deletes=(MessageDelete("a", "628111", False, later), MessageDelete("zz", "628111", True, later)))
    message = Message.objects.get(platform_message_id="a")
    assert (message.deleted_at, message.text) == (first, "halo")
    event = WebhookEvent.objects.order_by("-pk").first()
    assert event is not None and event.detail == "delete of unknown message 'zz'"
