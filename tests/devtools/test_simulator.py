"""The demo simulator's payloads are real platform webhooks: the real view accepts and classifies them."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from devtools.simulator import (
    WEBHOOK_PLATFORMS,
    ApiChannel,
    ChannelSpec,
    Customer,
    Simulator,
    Webhook,
    customer_message,
    customer_new,
    image_url,
    receipt,
    shop_echo,
    signed,
)
from inbox.models import Channel, Conversation, Message, WebhookEvent
from inbox.services.shops import channel_create

pytestmark = pytest.mark.django_db(transaction=True)

RECEIPT_PLATFORMS = ("whatsapp", "instagram", "messenger")


def spec(channel: Channel) -> ChannelSpec:
    return ChannelSpec(channel.platform, channel.account_id, channel.secrets)


def post(client, channel: ChannelSpec, webhook: Webhook):
    raw, headers = signed(channel, webhook)
    headers.pop("Content-Type")
    return client.post(f"/webhooks/{channel.platform}/", data=raw, content_type="application/json", headers=headers)


def customer_for(platform: str) -> Customer:
    return customer_new(platform, random.Random(f"test-{platform}"))


def contact_key(customer: Customer) -> str:
    # TikTok Shop echoes name the agent, not the buyer: its adapter keys the contact by conversation.
    return customer.conversation_id if customer.platform == "tiktokshop" else customer.external_id


@pytest.mark.parametrize("platform", WEBHOOK_PLATFORMS)
def test_customer_text_is_an_incoming_customer_message_at_the_current_time(client, channels, platform):
    channel = spec(channels[platform])
    customer = customer_for(platform)
    before = datetime.now(UTC).replace(microsecond=0)
    webhook = customer_message(channel, customer, text="kak ready ga? yg hitam L 🙏")
    response = post(client, channel, webhook)
    assert response.status_code == 200, response.content
    message = Message.objects.get()
    assert message.direction == "in"
    assert message.source == "customer"
    assert message.kind == "text"
    assert message.text == "kak ready ga? yg hitam L 🙏"
    assert message.platform_message_id == webhook.message_id
    assert message.conversation.contact.external_id == contact_key(customer)
    # Each platform's own time unit (seconds, strings, milliseconds) read back as now, not 1970 or 50000 AD.
    assert before - timedelta(seconds=1) <= message.sent_at <= datetime.now(UTC) + timedelta(seconds=1)
    assert Conversation.objects.get().waiting_since == message.sent_at
    assert WebhookEvent.objects.get().outcome == "accepted"


@pytest.mark.parametrize("platform", WEBHOOK_PLATFORMS)
def test_app_echo_is_the_shops_reply_to_the_same_customer(client, channels, platform):
    channel = spec(channels[platform])
    customer = customer_for(platform)
    assert post(client, channel, customer_message(channel, customer, text="min brp harganya?")).status_code == 200
    echo = shop_echo(channel, customer, text="iya")
    response = post(client, channel, echo)
    assert response.status_code == 200, response.content
    reply = Message.objects.get(direction="out")
    assert reply.source == "echo"
    assert reply.text == "iya"
    assert reply.platform_message_id == echo.message_id
    assert reply.conversation.contact.external_id == contact_key(customer)
    assert Conversation.objects.count() == 1
    assert Conversation.objects.get().waiting_since is None


@pytest.mark.parametrize("platform", WEBHOOK_PLATFORMS)
def test_image_keeps_its_media(client, channels, platform):
    channel = spec(channels[platform])
    url = image_url("t1")
    webhook = customer_message(channel, customer_for(platform), text="yg kayak gini ada kak?", image=url)
    response = post(client, channel, webhook)
    assert response.status_code == 200, response.content
    message = Message.objects.get()
    assert (message.direction, message.source, message.kind) == ("in", "customer", "image")
    [attachment] = message.attachments
    assert attachment["type"] == "image"
    if platform == "whatsapp":
        assert attachment["media_id"]  # WhatsApp gives a media id, no URL
        assert message.text == "yg kayak gini ada kak?"
    else:
        assert attachment["url"] == url


@pytest.mark.parametrize("platform", RECEIPT_PLATFORMS)
def test_read_receipt_moves_the_shops_message_to_read(client, channels, platform):
    channel = spec(channels[platform])
    customer = customer_for(platform)
    assert post(client, channel, customer_message(channel, customer, text="kak bisa COD?")).status_code == 200
    echo = shop_echo(channel, customer, text="Bisa kak 😊 pilih COD pas checkout ya 🙏")
    assert post(client, channel, echo).status_code == 200
    assert Message.objects.get(direction="out").status == "sent"
    if platform != "instagram":
        delivered = receipt(channel, customer, message_id=echo.message_id, status="delivered")
        assert delivered is not None
        assert post(client, channel, delivered).status_code == 200
        assert Message.objects.get(direction="out").status == "delivered"
    read = receipt(channel, customer, message_id=echo.message_id, status="read")
    assert read is not None
    assert post(client, channel, read).status_code == 200
    assert Message.objects.get(direction="out").status == "read"
    assert Message.objects.count() == 2


@pytest.mark.parametrize("platform", ["shopee", "tiktokshop"])
def test_platforms_without_receipt_webhooks_get_none(channels, platform):
    channel = spec(channels[platform])
    assert receipt(channel, customer_for(platform), message_id="x") is None


def test_a_wrong_secret_is_refused(client, channels):
    # The builders sign with the secrets they are given: a channel with other secrets must refuse.
    channel = spec(channels["shopee"])
    forged = ChannelSpec("shopee", channel.account_id, {**channel.secrets, "partner_key": "not-the-key"})
    response = post(client, forged, customer_message(forged, customer_for("shopee"), text="halo"))
    assert response.status_code == 401
    assert Message.objects.count() == 0


def test_simulator_run_reaches_every_platform_through_http(live_server, channels):
    api_channel, token = channel_create(
        shop=channels["whatsapp"].shop, platform="api", name="Web chat", account_id="", secrets={}
    )
    simulator = Simulator(
        base_url=live_server.url,
        channels={p: spec(c) for p, c in channels.items()},
        api_channel=ApiChannel(id=api_channel.pk, token=str(token)),
        interval=0,
        time_scale=0,
        seed=20260302,
    )
    stats = simulator.run(scenes=24)
    refused = {key: n for key, n in stats.items() if not key[2].startswith("2")}
    assert not refused, refused
    incoming = set(Message.objects.filter(direction="in").values_list("channel__platform", flat=True))
    assert incoming == {*WEBHOOK_PLATFORMS, "api"}
    assert Message.objects.filter(direction="out", source="echo").exists()
    echo_platforms = set(Message.objects.filter(source="echo").values_list("channel__platform", flat=True))
    assert len(echo_platforms) >= 3
    # Some customers are left for the admin: they are still waiting after the run.
    assert Conversation.objects.filter(waiting_since__isnull=False).exists()
    assert not WebhookEvent.objects.filter(outcome="failed").exists()
