"""Monitoring's state of a conversation moved off inbox's table (monitoring 0003, inbox 0003): data kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("inbox", "0002_conversation_monitoring_state"), ("monitoring", "0002_rollups")]
T0 = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


def migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection)


def latest() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def test_existing_conversations_keep_their_waiting_state():
    executor = migrate(BEFORE)
    try:
        apps = executor.loader.project_state(BEFORE).apps
        model = apps.get_model
        shop = model("inbox", "Shop").objects.create(name="Glow")
        channel = model("inbox", "Channel").objects.create(
            shop=shop, platform="api", name="web", account_id="a", secrets={}
        )

        def conversation(name: str) -> Any:
            contact = model("inbox", "Contact").objects.create(shop=shop, channel=channel, external_id=name)
            return model("inbox", "Conversation").objects.create(shop=shop, channel=channel, contact=contact)

        def message(conv: Any, mid: str, direction: str, minutes: int, **extra: Any) -> Any:
            fields = {"source": "customer" if direction == "in" else "api", **extra}
            return model("inbox", "Message").objects.create(
                shop=shop,
                channel=channel,
                conversation=conv,
                platform_message_id=mid,
                direction=direction,
                sent_at=T0 + timedelta(minutes=minutes),
                **fields,
            )

        waiting, answered, untouched = conversation("w"), conversation("a"), conversation("u")
        message(waiting, "w1", "in", 0)
        message(waiting, "w2", "out", 2, status="sent")
        opener = message(waiting, "w3", "in", 5)
        message(waiting, "w4", "out", 9, status="failed")  # never reached the customer: not counted
        model("monitoring", "WaitingPeriod").objects.create(
            shop=shop,
            conversation=waiting,
            first_message=opener,
            kind="reply",
            started_at=opener.sent_at,
            target_seconds=600,
            deadline_at=opener.sent_at + timedelta(minutes=10),
        )
        message(answered, "a1", "in", 0)
        message(answered, "a2", "out", 1, status="read")
        message(answered, "a3", "out", 3, source="auto", status="sent")  # an auto-reply never counts
    finally:
        executor = migrate(latest())

    wait = executor.loader.project_state(latest()).apps.get_model("monitoring", "ConversationWait")
    state = {w.conversation_id: (w.open_period_since, w.measured_reply_at) for w in wait.objects.all()}
    assert state == {
        waiting.pk: (T0 + timedelta(minutes=5), T0 + timedelta(minutes=2)),
        answered.pk: (None, T0 + timedelta(minutes=1)),
        untouched.pk: (None, None),
    }
    columns = {
        c.name for c in connection.introspection.get_table_description(connection.cursor(), "inbox_conversation")
    }
    assert not {"open_period_since", "measured_reply_at"} & columns
