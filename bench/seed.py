"""Seed the benchmark database through the services: one shop, its owner and an admin, a WhatsApp channel.

    DJANGO_SETTINGS_MODULE=... DATABASE_URL=... python -m bench.seed OUT.json [--first-reply-target S]
        [--contacts N] [--waiting N --deadlines-from T --deadlines-spread S]

Writes {"shop", "account_id", "app_secret", "owner_token", "admin_token"} to OUT.json.
--contacts: that many customers (wa_id 62812xxxxxxxx) who have written before, with their conversations, so
load traffic measures the common case (a known customer) rather than a flood of first contacts.
--waiting: that many more customers (wa_id 62813xxxxxxxx), each with one unanswered message and its open
waiting period whose deadline falls evenly in [T, T + S] (Unix time); each deadline is armed through
`monitoring.services.deadlines.deadline_arm`, exactly as the measuring task arms it (a Celery ETA task).
"""

from __future__ import annotations

import argparse
import json
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--first-reply-target", type=int, default=300)
    parser.add_argument("--contacts", type=int, default=0)
    parser.add_argument("--waiting", type=int, default=0)
    parser.add_argument("--deadlines-from", type=float, default=0.0)
    parser.add_argument("--deadlines-spread", type=float, default=60.0)
    args = parser.parse_args()
    django.setup()

    from inbox.models import Member
    from inbox.services import channel_create, member_create, shop_create
    from monitoring.business_hours import ALWAYS_OPEN
    from monitoring.services.policy import policy_update

    shop, _owner, owner_token = shop_create(
        name="Toko Bench", owner_email="owner@bench.local", owner_password=secrets.token_urlsafe(12)
    )
    _admin, admin_token = member_create(
        shop=shop, email="admin@bench.local", password=secrets.token_urlsafe(12), role=Member.Role.ADMIN
    )
    app_secret = secrets.token_hex(16)
    account_id = "1098765432101"
    channel_create(
        shop=shop,
        platform="whatsapp",
        name="WA Bench",
        account_id=account_id,
        secrets={"app_secret": app_secret, "verify_token": "bench-verify", "access_token": "bench-token"},
    )
    # Open all week, so a deadline is the message time plus the target whatever the clock says.
    policy_update(
        shop_id=shop.pk,
        data={"business_hours": ALWAYS_OPEN, "first_reply_target_s": args.first_reply_target},
    )
    channel = shop.channels.get()
    if args.contacts:
        customers_create(channel=channel, prefix="62812", count=args.contacts)
    if args.waiting:
        waiting_create(
            channel=channel,
            count=args.waiting,
            first=args.deadlines_from,
            spread=args.deadlines_spread,
            target=args.first_reply_target,
        )
    args.out.write_text(
        json.dumps(
            {
                "shop": shop.pk,
                "account_id": account_id,
                "app_secret": app_secret,
                "owner_token": owner_token,
                "admin_token": admin_token,
            }
        )
    )


def customers_create(*, channel: Any, prefix: str, count: int) -> list[Any]:
    """Customers who have written before: each conversation already measured by monitoring (its
    ConversationWait row exists, nothing waiting, no reply counted yet), as after their first message."""
    from inbox.models import Contact, Conversation
    from monitoring.models import ConversationWait

    contacts = Contact.objects.bulk_create(
        Contact(shop_id=channel.shop_id, channel=channel, external_id=f"{prefix}{i:08d}", name=f"Pelanggan {i}")
        for i in range(count)
    )
    conversations = Conversation.objects.bulk_create(
        Conversation(shop_id=channel.shop_id, channel=channel, contact=c) for c in contacts
    )
    ConversationWait.objects.bulk_create(ConversationWait(conversation=c) for c in conversations)
    return conversations


def waiting_create(*, channel: Any, count: int, first: float, spread: float, target: int) -> None:
    from inbox.models import Conversation, Message
    from monitoring.models import ConversationWait, MessageTrack, WaitingPeriod
    from monitoring.services.deadlines import deadline_arm

    conversations = customers_create(channel=channel, prefix="62813", count=count)
    deadlines = [datetime.fromtimestamp(first + spread * i / count, UTC) for i in range(count)]
    messages = Message.objects.bulk_create(
        Message(
            shop_id=channel.shop_id,
            channel=channel,
            conversation=conv,
            platform_message_id=f"wamid.bench.waiting.{i}",
            direction="in",
            source="customer",
            text="Kak, pesanan saya kapan dikirim?",
            sent_at=deadline - timedelta(seconds=target),
            status="received",
        )
        for i, (conv, deadline) in enumerate(zip(conversations, deadlines, strict=True))
    )
    for conv, message in zip(conversations, messages, strict=True):
        conv.last_message, conv.last_message_at = message, message.sent_at
        conv.last_inbound_at = conv.waiting_since = message.sent_at
        conv.unread_count = 1
    Conversation.objects.bulk_update(
        conversations,
        ["last_message", "last_message_at", "last_inbound_at", "waiting_since", "unread_count"],
        batch_size=1000,
    )
    periods = WaitingPeriod.objects.bulk_create(
        WaitingPeriod(
            shop_id=channel.shop_id,
            conversation=conv,
            first_message=message,
            kind=WaitingPeriod.Kind.FIRST,
            started_at=message.sent_at,
            target_seconds=target,
            deadline_at=deadline,
        )
        for conv, message, deadline in zip(conversations, messages, deadlines, strict=True)
    )
    MessageTrack.objects.bulk_create(MessageTrack(message=m) for m in messages)
    ConversationWait.objects.bulk_update(
        [ConversationWait(conversation_id=p.conversation_id, open_period_since=p.started_at) for p in periods],
        ["open_period_since"],
        batch_size=1000,
    )
    for period in periods:
        deadline_arm(period_id=period.pk, deadline_at=period.deadline_at)


if __name__ == "__main__":
    main()
