"""Reliability and security fixtures: two shops (victim and attacker), helpers to snapshot the DB."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.utils import timezone

from devtools.simulator import ChannelSpec
from inbox.models import Channel, Member, Shop
from inbox.resilience import broker_breaker, channel_layer_breaker
from tests import support
from tests.factories import (
    ChannelFactory,
    ContactFactory,
    ConversationFactory,
    MemberFactory,
    MessageFactory,
    ShopFactory,
)
from tests.support import redis_flush

# Text only shop A's data contains: any response to another caller that shows it is a leak.
VICTIM_MARKER = "RAHASIA-TOKO-A-7f3c"


def wait_for(predicate: Callable[[], Any], timeout: float = 60.0, interval: float = 0.1) -> Any:
    """Fault scenarios take longer to settle than unit-sized ones."""
    return support.wait_for(predicate, timeout, interval)


@pytest.fixture(autouse=True)
def _breakers_closed() -> Iterator[None]:
    # A test that breaks Redis on purpose must not leave later tests' publishes skipped.
    broker_breaker.reset()
    channel_layer_breaker.reset()
    yield
    broker_breaker.reset()
    channel_layer_breaker.reset()


@pytest.fixture
def clean_cache() -> Iterator[None]:
    """Throttle and lockout counters from earlier runs (same ids: a fresh test DB) must not count."""
    # The test settings' cache is this run's own Redis db (REDIS_URL), whatever CACHES says now.
    redis_flush()
    yield
    redis_flush()


def spec(channel: Channel) -> ChannelSpec:
    return ChannelSpec(channel.platform, channel.account_id, dict(channel.secrets))


def db_snapshot(shop: Shop) -> dict[str, list[tuple[Any, ...]]]:
    """Every row that belongs to `shop`, as plain values, for "nothing changed" assertions."""
    snapshot: dict[str, list[tuple[Any, ...]]] = {}
    for model in apps.get_models():
        names = {f.name for f in model._meta.get_fields()}
        if model is Shop:
            rows = model.objects.filter(pk=shop.pk)
        elif "shop" in names:
            rows = model.objects.filter(shop=shop)
        elif model._meta.label == "monitoring.MessageTrack":
            rows = model.objects.filter(message__shop=shop)
        else:
            continue
        fields = [f.attname for f in model._meta.concrete_fields]
        snapshot[model._meta.label] = sorted(rows.values_list(*fields), key=repr)
    return snapshot


@pytest.fixture
def victim(db: Any) -> dict[str, Any]:
    """Shop A with something behind every endpoint: channels, a conversation, replies, an alert."""
    from monitoring.models import Alert, ReplyMeasurement, WaitingPeriod
    from monitoring.services.policy import policy_for_shop
    from tests.factories import T0

    shop = ShopFactory(name=f"Toko A {VICTIM_MARKER}")
    owner = MemberFactory(shop=shop, role=Member.Role.OWNER)
    admin = MemberFactory(shop=shop, role=Member.Role.ADMIN)
    channel = ChannelFactory(shop=shop, platform="whatsapp", account_id="victim-wa-1")
    api_channel = ChannelFactory(shop=shop, platform="api", account_id="victim-api-1", name="Web A")
    contact = ContactFactory(channel=channel, shop=shop, name=f"Pelanggan {VICTIM_MARKER}")
    conversation = ConversationFactory(contact=contact, channel=channel, shop=shop, unread_count=1, assignee=admin)
    incoming = MessageFactory(conversation=conversation, text=f"Kak ready? {VICTIM_MARKER}", sent_at=T0)
    reply = MessageFactory(
        conversation=conversation,
        direction="out",
        source="inbox",
        status="sent",
        text=f"Ready kak {VICTIM_MARKER}",
        sent_at=T0 + timedelta(minutes=20),
        sent_by=admin,
    )
    failed = MessageFactory(
        conversation=conversation, direction="out", source="inbox", status="failed", text=f"gagal {VICTIM_MARKER}"
    )
    policy_for_shop(shop_id=shop.pk)
    period = WaitingPeriod.objects.create(
        shop=shop,
        conversation=conversation,
        first_message=incoming,
        kind="first",
        started_at=T0,
        target_seconds=300,
        deadline_at=T0 + timedelta(minutes=5),
        ended_at=reply.sent_at,
        reply=reply,
        response_seconds=1200,
        response_business_seconds=1200,
    )
    ReplyMeasurement.objects.create(
        message=reply,
        shop=shop,
        channel=channel,
        conversation=conversation,
        waiting_period=period,
        member=admin,
        source="inbox",
        kind="first",
        started_at=T0,
        replied_at=reply.sent_at,
        response_seconds=1200,
        response_business_seconds=1200,
        target_seconds=300,
        sla_met=False,
        terse=False,
    )
    alert = Alert.objects.create(
        shop=shop,
        conversation=conversation,
        waiting_period=period,
        kind="slow_first_reply",
        title=f"Lambat {VICTIM_MARKER}",
        assignee=admin,
        latency_seconds=1200,
    )
    from inbox.models import QuickReply

    quick = QuickReply.objects.create(shop=shop, shortcut="salam", text=f"Halo kak {VICTIM_MARKER}")
    conversation.last_message = reply
    conversation.last_message_at = reply.sent_at
    conversation.save(update_fields=["last_message", "last_message_at"])
    return {
        "shop": shop,
        "owner": owner,
        "admin": admin,
        "channel": channel,
        "api_channel": api_channel,
        "contact": contact,
        "conversation": conversation,
        "message": incoming,
        "reply": reply,
        "failed": failed,
        "period": period,
        "alert": alert,
        "quick_reply": quick,
        "now": timezone.now(),
    }


@pytest.fixture
def attacker(db: Any) -> dict[str, Any]:
    """Shop B: its owner and admin try to reach shop A."""
    shop = ShopFactory(name="Toko B")
    return {
        "shop": shop,
        "owner": MemberFactory(shop=shop, role=Member.Role.OWNER),
        "admin": MemberFactory(shop=shop, role=Member.Role.ADMIN),
        "channel": ChannelFactory(
            shop=shop,
            platform="whatsapp",
            account_id="attacker-wa-1",
            secrets={"app_secret": "attacker-app-secret", "verify_token": "attacker-verify", "access_token": "atk"},
        ),
    }
