"""The webhook's per-process copy of channels is never trusted past a change of the stored row."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inbox.models import Channel, Contact, Message, WebhookEvent
from inbox.selectors import _WEBHOOK_CHANNELS
from monitoring.services.policy import policy_for_shop
from tests.conftest import post_webhook, signed_headers
from tests.inbox.test_ingest_fast_path import T0, wa_body

pytestmark = pytest.mark.django_db(transaction=True)


def deliver(client, channel: Channel, mid: str, *, secret_of: Channel | None = None, minutes: int = 0) -> int:
    raw = wa_body(channel, message_id=mid, wa_id="628111", name="Ani", text="halo", at=T0 + timedelta(minutes=minutes))
    return post_webhook(client, "whatsapp", raw, signed_headers(secret_of or channel, raw)).status_code


@pytest.fixture
def channel(shop) -> Channel:
    return Channel.objects.create(
        shop=shop, platform="whatsapp", name="WA", account_id="5550001", secrets={"app_secret": "old-secret"}
    )


def rotate(channel: Channel, secret: str) -> Channel:
    channel.secrets = {"app_secret": secret}
    channel.save(update_fields=["secrets"])
    return channel


def test_known_channel_is_read_once_per_process(client, channel):
    policy_for_shop(shop_id=channel.shop_id)  # else each message looks for the shop's policy
    assert deliver(client, channel, "a") == 200
    assert deliver(client, channel, "a2", minutes=1) == 200  # the process reads the policy once
    assert ("whatsapp", "5550001") in _WEBHOOK_CHANNELS
    with CaptureQueriesContext(connection) as queries:
        assert deliver(client, channel, "b", minutes=2) == 200
    assert len(queries.captured_queries) == 1


def test_a_rotated_secret_is_used_at_once_and_the_old_one_refused(client, channel):
    old = Channel.objects.get(pk=channel.pk)  # holds the old secret, to sign with
    assert deliver(client, channel, "a") == 200  # the process now holds the old secret
    rotate(channel, "new-secret")
    assert deliver(client, channel, "b", secret_of=old, minutes=1) == 401
    assert deliver(client, channel, "c", minutes=2) == 200
    assert deliver(client, channel, "d", secret_of=old, minutes=3) == 401
    assert sorted(Message.objects.values_list("platform_message_id", flat=True)) == ["a", "c"]


def test_a_secret_rotated_by_another_process_is_never_accepted_from_the_copy(client, channel):
    assert deliver(client, channel, "a") == 200
    old = Channel.objects.get(pk=channel.pk)
    # Another process rotates the secret: this process's copy still has the old one, and a
    # delivery signed with it passes verification here; the statement's version check refuses it.
    Channel.objects.filter(pk=channel.pk).update(secrets={"app_secret": "rotated"})
    assert deliver(client, channel, "b", secret_of=old, minutes=1) == 401
    assert not Message.objects.filter(platform_message_id="b").exists()
    assert WebhookEvent.objects.count() == 1


def test_a_deactivated_channel_is_unknown_even_in_the_copy(client, channel):
    assert deliver(client, channel, "a") == 200
    Channel.objects.filter(pk=channel.pk).update(is_active=False)
    assert deliver(client, channel, "b", minutes=1) == 404
    # A first message from a new customer takes the general path: checked there too.
    Channel.objects.filter(pk=channel.pk).update(is_active=True)
    assert deliver(client, channel, "c", minutes=2) == 200
    Channel.objects.filter(pk=channel.pk).update(is_active=False)
    raw = wa_body(channel, message_id="d", wa_id="628999", name="Budi", text="halo", at=T0)
    assert post_webhook(client, "whatsapp", raw, signed_headers(channel, raw)).status_code == 404
    assert not Contact.objects.filter(external_id="628999").exists()


def test_a_deleted_and_recreated_channel_is_not_confused_with_the_copy(client, shop, channel):
    assert deliver(client, channel, "a") == 200
    channel.delete()
    again = Channel.objects.create(
        shop=shop, platform="whatsapp", name="WA", account_id="5550001", secrets={"app_secret": "fresh"}
    )
    assert deliver(client, again, "b") == 200
    assert Message.objects.get(platform_message_id="b").channel_id == again.pk


def test_the_copy_is_renewed_by_the_read_that_caught_the_change(client, channel):
    policy_for_shop(shop_id=channel.shop_id)
    assert deliver(client, channel, "a") == 200
    assert deliver(client, channel, "a2", minutes=1) == 200
    rotate(channel, "new-secret")
    assert deliver(client, channel, "b", minutes=2) == 200  # caught: read again, and kept
    with CaptureQueriesContext(connection) as queries:
        assert deliver(client, channel, "c", minutes=3) == 200
    assert len(queries.captured_queries) == 1
