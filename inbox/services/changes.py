"""What platforms report about messages already stored: reactions, edits, deletes.

None of these is a message. A reaction is a `Reaction` row per (message, reactor), replaced by the
reactor's next one and removed by an empty one; an edit changes the message's text (or caption)
and keeps the earlier one in `edits`; a delete sets `deleted_at` and keeps the text, which the shop
still sees (labelled). None changes the conversation's summary (unread, waiting_since) or opens,
joins or ends a waiting period: only an edit is announced to the apps built on inbox
(`MessageChange.EDITED`, so monitoring can judge an edited reply's tone again), and monitoring
moves no period for it. Every change publishes `message.updated`, which redraws the bubble live.

A change whose target Balas never stored (it predates the channel, or the platform reported it
first) is recorded as ignored with that reason, on the delivery's raw event.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inbox.adapters import get_adapter
from inbox.adapters.base import MessageDelete, MessageEdit, OutboundContext, Reaction, SendError
from inbox.hooks import MessageChange, StoredMessage
from inbox.models import NOT_TURN_KINDS, Channel, Conversation, Member, Message
from inbox.models import Reaction as ReactionRow
from inbox.services.events import conversation_updated_publish, message_updated_publish

logger = logging.getLogger("balas.changes")


def _target(*, channel: Channel, platform_message_id: str) -> Message | None:
    """The stored message a change names, locked: two changes of one message apply one after the other."""
    if not platform_message_id:
        return None
    return (
        Message.objects.select_for_update(of=("self",))
        .filter(channel=channel, platform_message_id=platform_message_id)
        .select_related("sent_by__user")
        .first()
    )


def _preview_refresh(message: Message) -> None:
    """The conversation list previews its last message: redraw it when that message changed."""
    conversation = (
        Conversation.objects.filter(pk=message.conversation_id, last_message_id=message.pk)
        .select_related("channel", "contact__channel", "last_message", "assignee__user")
        .first()
    )
    if conversation is not None:
        conversation_updated_publish(conversation=conversation)


def _reactions_refresh(message: Message) -> None:
    """Copy the message's reaction rows into its `reactions` (what the API and the thread show)."""
    rows = ReactionRow.objects.filter(message=message).order_by("reacted_at", "id")
    message.reactions = [row.as_dict() for row in rows]
    message.save(update_fields=["reactions", "updated_at"])


@transaction.atomic
def message_reaction_set(
    *, message: Message, reactor: str, emoji: str, at: datetime, member: Member | None = None
) -> bool:
    """Set (or with `emoji == ""` remove) `reactor`'s reaction to `message`; returns whether anything changed.

    A reaction older than the reactor's stored one is stale (deliveries can arrive out of order)
    and changes nothing.
    """
    current = ReactionRow.objects.select_for_update().filter(message=message, reactor=reactor).first()
    if current is not None and at < current.reacted_at:
        return False
    if not emoji:
        if current is None:
            return False
        current.delete()
    elif current is None:
        ReactionRow.objects.create(message=message, reactor=reactor, emoji=emoji[:32], reacted_at=at, member=member)
    elif current.emoji == emoji[:32]:
        return False
    else:
        current.emoji = emoji[:32]
        current.reacted_at = at
        current.member = member
        current.save(update_fields=["emoji", "reacted_at", "member", "updated_at"])
    _reactions_refresh(message)
    message_updated_publish(message=message)
    return True


def reactions_apply(*, channel: Channel, reactions: Sequence[Reaction], ignored: list[str]) -> int:
    """Apply a delivery's reactions (inside its transaction); returns how many changed a message."""
    changed = 0
    for reaction in reactions:
        message = _target(channel=channel, platform_message_id=reaction.target_platform_message_id)
        if message is None:
            ignored.append(f"reaction to unknown message {reaction.target_platform_message_id!r}")
            continue
        reactor = ReactionRow.From.SHOP if reaction.from_shop else ReactionRow.From.CUSTOMER
        if message_reaction_set(message=message, reactor=reactor, emoji=reaction.emoji, at=reaction.at):
            changed += 1
    return changed


def edits_apply(
    *, channel: Channel, edits: Sequence[MessageEdit], ignored: list[str], announced: list[StoredMessage]
) -> int:
    """Apply a delivery's edits; returns how many changed a message (each announced as EDITED)."""
    changed = 0
    for edit in edits:
        message = _target(channel=channel, platform_message_id=edit.target_platform_message_id)
        if message is None:
            ignored.append(f"edit of unknown message {edit.target_platform_message_id!r}")
            continue
        if message_edit(message=message, text=edit.text, content=dict(edit.content), at=edit.at):
            announced.append(StoredMessage.of(message, MessageChange.EDITED))
            changed += 1
    return changed


def message_edit(*, message: Message, text: str, content: dict[str, object], at: datetime) -> bool:
    """The platform's new text (or caption) for `message` (the caller holds its row lock).

    The text it replaces goes to `edits` with the time it was replaced; the same text again (a
    retried delivery) or an edit older than the last one applied changes nothing.
    """
    new_content = {**message.content, **content} if content else message.content
    if text == message.text and new_content == message.content:
        return False
    if message.edited_at is not None and at < message.edited_at:
        return False
    earlier: dict[str, object] = {"text": message.text, "at": at.isoformat()}
    if content and message.content:
        earlier["content"] = message.content
    message.edits = [*message.edits, earlier]
    message.text = text
    message.content = new_content
    message.edited_at = at
    message.save(update_fields=["text", "content", "edits", "edited_at", "updated_at"])
    message_updated_publish(message=message)
    _preview_refresh(message)
    return True


def deletes_apply(*, channel: Channel, deletes: Sequence[MessageDelete], ignored: list[str]) -> int:
    """Apply a delivery's deletes and unsends; returns how many marked a message deleted."""
    changed = 0
    for delete in deletes:
        message = _target(channel=channel, platform_message_id=delete.target_platform_message_id)
        if message is None:
            ignored.append(f"delete of unknown message {delete.target_platform_message_id!r}")
            continue
        if message.deleted_at is not None:
            continue  # a retried delivery: the first delete's time stands
        message.deleted_at = delete.at
        message.save(update_fields=["deleted_at", "updated_at"])
        message_updated_publish(message=message)
        _preview_refresh(message)
        changed += 1
    return changed


# --- the shop's own reactions, from the inbox ---------------------------------------------------


class ReactionRefused(Exception):  # noqa: N818 - a refusal with its reason, like ReplyRefused
    """The reaction cannot be sent; `reason` says why, `status` is the HTTP status the API answers
    (422 by default: a valid request a rule refuses, see inbox.api.errors.RuleRefused)."""

    def __init__(self, reason: str, *, status: int = 422) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def message_reaction_send(*, message: Message, member: Member, emoji: str) -> Message:
    """React to a customer's message through the platform (`emoji == ""` removes the shop's reaction).

    The platform is called outside any transaction (a slow platform must hold no lock); once it has
    accepted, the shop's reaction is stored and `message.updated` goes out. Raises ReactionRefused
    (422) when the platform has no reaction API or the message cannot take one, (502) when the
    platform refused or could not be reached: nothing is stored then.
    """
    if message.shop_id != member.shop_id:
        raise ReactionRefused(_("Pesan ini bukan milik toko Anda."), status=404)
    channel = Channel.objects.get(pk=message.channel_id)
    emoji = emoji.strip()
    if len(emoji) > 32:
        raise ReactionRefused(_("emoji: terlalu panjang (paling banyak 32 karakter)."))
    try:
        adapter = get_adapter(channel.platform)
    except LookupError:
        adapter = None
    if adapter is None or not adapter.supports_reactions:
        raise ReactionRefused(
            _("%(platform)s tidak mendukung reaksi lewat API-nya.") % {"platform": channel.get_platform_display()}
        )
    if not message.platform_message_id or message.kind in NOT_TURN_KINDS:
        raise ReactionRefused(_("Pesan ini tidak bisa diberi reaksi."))
    conversation = Conversation.objects.select_related("contact").get(pk=message.conversation_id)
    context = OutboundContext(
        account_id=channel.account_id,
        secrets=channel.secrets,
        contact_external_id=conversation.contact.external_id,
        platform_conversation_id=conversation.platform_conversation_id,
        text="",
    )
    try:
        adapter.send_reaction(context, target_platform_message_id=message.platform_message_id, emoji=emoji)
    except SendError as exc:
        logger.warning("reaction.send_failed message=%s platform=%s", message.pk, channel.platform)
        raise ReactionRefused(exc.reason or _("Platform menolak reaksi."), status=502) from exc
    with transaction.atomic():
        locked = Message.objects.select_for_update().get(pk=message.pk)
        message_reaction_set(
            message=locked, reactor=ReactionRow.From.SHOP, emoji=emoji, at=timezone.now(), member=member
        )
    logger.info("reaction.sent message=%s member=%s removed=%s", message.pk, member.pk, not emoji)
    return Message.objects.select_related("sent_by__user").get(pk=message.pk)
