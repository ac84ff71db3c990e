"""Reads, always scoped to one shop: another shop's ids simply are not found."""

from __future__ import annotations

import copy
import threading
from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import F, QuerySet
from django.db.models.expressions import RawSQL

from inbox.models import Channel, Conversation, Member, Message
from inbox.tokens import token_hash


def member_for_user(*, user: Any) -> Member | None:
    """The member of a logged-in, active user; None for anyone else (anonymous, disabled, no member)."""
    if user is None or not user.is_authenticated or not user.is_active or user.pk is None:
        return None
    return Member.objects.select_related("user", "shop").filter(user_id=user.pk).first()


def member_for_token(*, token: str) -> Member | None:
    """The member holding this API token, while their login is active; None for anyone else.

    A channel token is never a member's: it gets None here.
    """
    return (
        Member.objects.select_related("user", "shop").filter(token_hash=token_hash(token), user__is_active=True).first()
    )


# The webhook's channels, per process: (platform, account id) -> the active channel, secrets decrypted.
# Each entry carries its row version (PostgreSQL's xmin, new on every UPDATE of the row), and
# message_ingest checks that version in the statement that writes (inbox/services/ingest.py): a
# rotated secret, a deactivated or deleted channel is never used from here, it raises
# ChannelChangedError and the delivery is verified again from a fresh read.
_WEBHOOK_CHANNELS: dict[tuple[str, str], Channel] = {}
_WEBHOOK_CHANNELS_MAX = 10_000
_webhook_channels_lock = threading.Lock()


def webhook_channels(*, platform: str, account_ids: Sequence[str], cached: bool = True) -> list[Channel]:
    """The active channels a delivery names; from this process's copy when it has them all.

    A channel from the copy has `row_version` set (to check on write); a fresh one has it None.
    """
    use_cache = cached and connection.vendor == "postgresql"
    if use_cache:
        with _webhook_channels_lock:
            hits = [_WEBHOOK_CHANNELS.get((platform, a)) for a in account_ids]
        if hits and all(h is not None for h in hits):
            return [h for h in hits if h is not None]
    rows = Channel.objects.filter(platform=platform, account_id__in=account_ids, is_active=True)
    if connection.vendor != "postgresql":
        channels = list(rows)
        for channel in channels:
            channel.row_version = None  # type: ignore[attr-defined]
        return channels
    channels = list(rows.annotate(xmin_text=RawSQL("inbox_channel.xmin::text", ())))
    with _webhook_channels_lock:
        for channel in channels:
            kept = copy.copy(channel)
            kept.row_version = channel.xmin_text  # type: ignore[attr-defined]
            if len(_WEBHOOK_CHANNELS) >= _WEBHOOK_CHANNELS_MAX:
                _WEBHOOK_CHANNELS.pop(next(iter(_WEBHOOK_CHANNELS)))
            _WEBHOOK_CHANNELS[(platform, channel.account_id)] = kept
            # Just read: nothing to check on write for this delivery (the next one checks the copy).
            channel.row_version = None  # type: ignore[attr-defined]
    return channels


def webhook_verify_tokens(*, platform: str) -> list[tuple[int, str]]:
    """(channel id, `verify_token` secret) of every active channel a subscription handshake may be for."""
    rows = Channel.objects.filter(platform=platform, is_active=True).only("id", "secrets")
    return [(channel.pk, str(channel.secrets.get("verify_token", ""))) for channel in rows]


def webhook_account_ids(*, platform: str) -> list[str]:
    """Every active channel's account id on the platform: the candidates for an account-level event."""
    return list(
        Channel.objects.filter(platform=platform, is_active=True).order_by("id").values_list("account_id", flat=True)
    )


def webhook_channels_forget(*, platform: str, account_ids: Sequence[str]) -> None:
    with _webhook_channels_lock:
        for account_id in account_ids:
            _WEBHOOK_CHANNELS.pop((platform, account_id), None)


def channel_list(*, shop_id: int) -> QuerySet[Channel]:
    return Channel.objects.filter(shop_id=shop_id).order_by("id")


def member_get(*, shop_id: int, pk: int) -> Member | None:
    return Member.objects.select_related("user").filter(shop_id=shop_id, pk=pk).first()


def conversation_list(
    *,
    shop_id: int,
    status: str = "all",
    channel_id: int | None = None,
    assignee_id: int | None = None,
    unassigned: bool = False,
) -> QuerySet[Conversation]:
    """Waiting conversations first (the longest wait on top), then the most recent."""
    rows = Conversation.objects.filter(shop_id=shop_id).select_related(
        "channel", "contact__channel", "last_message", "assignee__user"
    )
    if status == "waiting":
        rows = rows.waiting()
    elif status in (Conversation.Status.OPEN, Conversation.Status.CLOSED):
        rows = rows.filter(status=status)
    if channel_id is not None:
        rows = rows.filter(channel_id=channel_id)
    if unassigned:
        rows = rows.filter(assignee__isnull=True)
    elif assignee_id is not None:
        rows = rows.filter(assignee_id=assignee_id)
    return rows.order_by_wait(F("last_message_at").desc(nulls_last=True), "-id")


def conversation_get(*, shop_id: int, pk: int) -> Conversation | None:
    return (
        Conversation.objects.filter(shop_id=shop_id, pk=pk)
        .select_related("channel", "contact__channel", "last_message", "assignee__user")
        .first()
    )


def message_list(*, conversation: Conversation, select_related: tuple[str, ...] = ()) -> QuerySet[Message]:
    """The conversation's messages, oldest first (with the relations a caller's fields read)."""
    rows = Message.objects.filter(conversation_id=conversation.pk, shop_id=conversation.shop_id).select_related(
        "sent_by__user", *select_related
    )
    return rows.order_by("sent_at", "id")


def message_get(*, shop_id: int, pk: int) -> Message | None:
    return Message.objects.filter(shop_id=shop_id, pk=pk).select_related("conversation", "sent_by__user").first()


def messages_quote_texts(messages: list[Message]) -> dict[int, str]:
    """For each message that quotes another (`reply_to`), the quoted message's text when Balas has it:
    one query for a whole thread. Keyed by the quoting message's id."""
    wanted = {m.reply_to for m in messages if m.reply_to}
    if not wanted:
        return {}
    by_conversation = {m.conversation_id for m in messages}
    texts = dict(
        Message.objects.filter(conversation_id__in=by_conversation, platform_message_id__in=wanted).values_list(
            "platform_message_id", "text"
        )
    )
    return {m.pk: texts[m.reply_to] for m in messages if m.reply_to and m.reply_to in texts}
