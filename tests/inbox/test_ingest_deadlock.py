"""A delivery that PostgreSQL picks as a deadlock's victim is stored on a second try, never a 500.

The deadlock is real: another transaction holds the customer's contact row, the webhook's statement
locks the conversation and waits for that contact, and the other transaction then asks for the
conversation. This is the shape two deliveries of one customer made in a duplicate storm (the general
path updates the contact and then locks the conversation).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from django.db import connection, connections
from django.test import Client

from inbox.models import Contact, Message
from tests.conftest import post_webhook, signed_headers
from tests.inbox.test_ingest_fast_path import send, wa_body

pytestmark = pytest.mark.django_db(transaction=True)

T0 = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


def _other_connection() -> psycopg.Connection[Any]:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    return psycopg.connect(**params, autocommit=False)


def _deadlocks(conn: psycopg.Connection[Any]) -> int:
    with conn.cursor() as cur:
        cur.execute("SELECT pg_stat_force_next_flush()")
        cur.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        row = cur.fetchone()
    conn.commit()
    assert row is not None
    return int(row[0])


def _wait_until_blocked(conn: psycopg.Connection[Any], pid_holder: dict[str, int], timeout: float = 10.0) -> None:
    """Until the webhook's backend waits for a row lock (it holds the conversation by then)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = pid_holder.get("pid")
        if pid:
            with conn.cursor() as cur:
                cur.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,))
                row = cur.fetchone()
            conn.commit()
            if row and row[0] == "Lock":
                return
        time.sleep(0.02)
    raise AssertionError("the webhook never waited for the contact row")


def test_a_deadlocked_delivery_is_retried_and_stored(channels):
    channel = channels["whatsapp"]
    client = Client()
    send(client, channel, message_id="wamid.first", wa_id="628111", name="Dewi", text="halo kak", at=T0)
    contact = Contact.objects.get(external_id="628111")
    conversation_id = Message.objects.get(platform_message_id="wamid.first").conversation_id
    connection.close()  # the webhook thread takes its own connection

    other = _other_connection()
    monitor = _other_connection()
    deadlocks_before = _deadlocks(monitor)
    with other.cursor() as cur:
        cur.execute("UPDATE inbox_contact SET extra = extra WHERE id = %s", (contact.pk,))

    # A changed name makes the statement update the contact after it has locked the conversation.
    raw = wa_body(
        channel, message_id="wamid.second", wa_id="628111", name="Dewi Setiawan", text="ready?", at=T0 + timedelta(1)
    )
    pid_holder: dict[str, int] = {}
    answer: dict[str, Any] = {}

    def deliver() -> None:
        try:
            db = connections["default"]
            db.ensure_connection()
            pid_holder["pid"] = db.connection.info.backend_pid
            answer["response"] = post_webhook(
                Client(raise_request_exception=False), "whatsapp", raw, signed_headers(channel, raw)
            )
        finally:
            connections["default"].close()

    worker = threading.Thread(target=deliver)
    worker.start()
    _wait_until_blocked(monitor, pid_holder)
    # Now the cycle closes: this waits for the conversation the webhook holds. PostgreSQL aborts the
    # webhook's statement (it has waited longest), which lets this through.
    with other.cursor() as cur:
        cur.execute("SELECT id FROM inbox_conversation WHERE id = %s FOR UPDATE", (conversation_id,))
    other.commit()
    worker.join(30)
    assert not worker.is_alive()

    assert _deadlocks(monitor) > deadlocks_before, "no deadlock happened: the test did not test the retry"
    response = answer["response"]
    assert response.status_code == 200, response.content
    assert Message.objects.filter(platform_message_id="wamid.second").count() == 1
    assert Contact.objects.get(pk=contact.pk).name == "Dewi Setiawan"
    other.close()
    monitor.close()
