"""Migration inbox 0004 keeps every stored message: the first round's kinds take the contract's names."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("inbox", "0003_conversation_monitoring_state_moved")]
AFTER = [("inbox", "0004_i13_kinds_reactions_profiles")]
T0 = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


def migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection)


def kinds(executor: MigrationExecutor, state: list[tuple[str, str]]) -> dict[str, str]:
    message = executor.loader.project_state(state).apps.get_model("inbox", "Message")
    return dict(message.objects.values_list("platform_message_id", "kind"))


def test_kinds_are_renamed_and_back():
    executor = migrate(BEFORE)
    latest = executor.loader.graph.leaf_nodes()
    try:
        model = executor.loader.project_state(BEFORE).apps.get_model
        shop = model("inbox", "Shop").objects.create(name="Glow")
        channel = model("inbox", "Channel").objects.create(
            shop=shop, platform="api", name="web", account_id="a", secrets={}
        )
        contact = model("inbox", "Contact").objects.create(shop=shop, channel=channel, external_id="c")
        conversation = model("inbox", "Conversation").objects.create(shop=shop, channel=channel, contact=contact)
        for mid, kind in (("t", "text"), ("f", "file"), ("o", "other"), ("i", "image")):
            model("inbox", "Message").objects.create(
                shop=shop,
                channel=channel,
                conversation=conversation,
                platform_message_id=mid,
                direction="in",
                source="customer",
                kind=kind,
                text=f"pesan {mid}",
                sent_at=T0,
            )
        executor = migrate(AFTER)
        assert kinds(executor, AFTER) == {"t": "text", "f": "document", "o": "unsupported", "i": "image"}
        message = executor.loader.project_state(AFTER).apps.get_model("inbox", "Message")
        kept = message.objects.get(platform_message_id="f")
        assert (kept.text, kept.content, kept.reactions, kept.edits, kept.deleted_at) == ("pesan f", {}, [], [], None)
        executor = migrate(BEFORE)
        assert kinds(executor, BEFORE) == {"t": "text", "f": "file", "o": "other", "i": "image"}
    finally:
        migrate(latest)
