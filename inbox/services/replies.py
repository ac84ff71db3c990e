"""Sending a reply typed in Balas through the conversation's platform.

Two short transactions around the platform call, never one across it: a slow platform must
not hold a row lock (the webhook of the same conversation waits on it) or a pooled connection.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inbox.adapters import get_adapter
from inbox.adapters.base import OutboundContext, PlatformAdapter, SendError
from inbox.hooks import MessageChange, StoredMessage, messages_stored_announce
from inbox.models import Channel, Conversation, Member, Message, Platform
from inbox.reply_fields import fields_unfilled
from inbox.services.events import conversation_updated_publish, message_events_publish, message_updated_publish
from inbox.services.ingest import conversation_note_message

logger = logging.getLogger("balas.replies")


class ReplyRefused(Exception):  # noqa: N818 - the name the contract and callers use
    """The reply cannot be sent at all (nothing reached the platform); `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def reply_send(*, conversation: Conversation, member: Member, text: str) -> Message:
    """Send `text` to the conversation's customer; returns the stored message.

    The message is stored as `pending` first (the inbox shows it at once), then sent. On
    success it is `sent` with the platform's id; when the platform refuses or cannot be
    reached it is kept as `failed` with the platform's reason (retry with `reply_retry`).
    Raises ReplyRefused, with nothing stored, when the reply can never go out as is.
    """
    _outside_transaction_check()
    conversation = Conversation.objects.select_related("channel", "contact").get(pk=conversation.pk)
    text = (text or "").strip()
    adapter = _reply_check(conversation=conversation, member=member, text=text)

    with transaction.atomic():
        message = Message.objects.create(
            shop_id=conversation.shop_id,
            channel_id=conversation.channel_id,
            conversation=conversation,
            platform_message_id=None,
            direction=Message.Direction.OUT,
            source=Message.Source.INBOX,
            text=text,
            sent_at=timezone.now(),
            status=Message.Status.PENDING,
            sent_by=member,
        )
        messages_stored_announce(messages=[StoredMessage.of(message, MessageChange.CREATED)])
        message_events_publish(message=message, conversation=conversation)
    return _deliver(message=message, conversation=conversation, adapter=adapter)


def reply_retry(*, message: Message, member: Member) -> Message:
    """Send a failed reply again; refused for anything but a failed reply typed in Balas."""
    _outside_transaction_check()
    if message.direction != Message.Direction.OUT or message.source != Message.Source.INBOX:
        raise _refuse(message.conversation_id, _("Hanya balasan yang dikirim dari Balas yang bisa dikirim ulang."))
    conversation = Conversation.objects.select_related("channel", "contact").get(pk=message.conversation_id)
    if message.shop_id != member.shop_id:
        raise _refuse(conversation.pk, _("Pesan ini bukan milik toko Anda."))
    adapter = _reply_check(conversation=conversation, member=member, text=message.text)

    with transaction.atomic():
        # A conditional update, so two retries at once cannot both send.
        claimed = Message.objects.filter(pk=message.pk, status=Message.Status.FAILED).update(
            status=Message.Status.PENDING,
            error="",
            sent_by=member,
            # The customer receives the text now: latency is measured to this moment.
            sent_at=timezone.now(),
            updated_at=timezone.now(),
        )
        if not claimed:
            raise _refuse(conversation.pk, _("Hanya balasan yang gagal terkirim yang bisa dikirim ulang."))
        message = Message.objects.select_related("sent_by__user").get(pk=message.pk)
        messages_stored_announce(messages=[StoredMessage.of(message, MessageChange.STATUS)])
        message_updated_publish(message=message)
    logger.info("reply.retry message=%s member=%s", message.pk, member.pk)
    return _deliver(message=message, conversation=conversation, adapter=adapter)


def _reply_check(*, conversation: Conversation, member: Member, text: str) -> PlatformAdapter:
    """Everything that makes a reply impossible before it is stored; returns the adapter to send with."""
    channel: Channel = conversation.channel
    if member.shop_id != conversation.shop_id:
        raise _refuse(conversation.pk, _("Percakapan ini bukan milik toko Anda."))
    if channel.platform == Platform.API:
        raise _refuse(
            conversation.pk,
            _(
                "Channel API tidak punya platform untuk mengirim balasan: kirim balasan lewat aplikasi Anda, "
                'lalu laporkan ke Balas dengan POST /api/v1/channels/{id}/messages/ (direction "out").'
            ),
        )
    if not channel.is_active:
        raise _refuse(conversation.pk, _("Channel ini sedang tidak aktif."))
    if not text:
        raise _refuse(conversation.pk, _("Balasan tidak boleh kosong."))
    if unfilled := fields_unfilled(text):
        raise _refuse(
            conversation.pk,
            _("Balasan masih berisi isian yang belum diisi: %(fields)s. Ganti isian itu dengan jawabannya dulu.")
            % {"fields": ", ".join(unfilled)},
        )
    try:
        adapter = get_adapter(channel.platform)
    except LookupError as exc:
        raise _refuse(conversation.pk, _("Platform %s belum didukung untuk mengirim.") % channel.platform) from exc
    limit = adapter.max_text_length
    if len(text) > limit:
        raise _refuse(
            conversation.pk,
            _("Balasan terlalu panjang: %(length)d karakter, batas %(platform)s %(limit)d karakter.")
            % {"length": len(text), "platform": channel.get_platform_display(), "limit": limit},
        )
    window = adapter.reply_window_hours
    if window is not None:
        last_inbound = conversation.last_inbound_at
        if last_inbound is None or timezone.now() - last_inbound > timedelta(hours=window):
            raise _refuse(
                conversation.pk,
                _(
                    "%(platform)s hanya mengizinkan balasan bebas dalam %(hours)d jam sejak pesan terakhir "
                    "pelanggan. Jendela itu sudah tertutup: tunggu pelanggan menulis lagi, atau hubungi "
                    "lewat template pesan yang disetujui."
                )
                % {"platform": channel.get_platform_display(), "hours": window},
            )
    return adapter


def _deliver(*, message: Message, conversation: Conversation, adapter: PlatformAdapter) -> Message:
    channel = conversation.channel
    context = OutboundContext(
        account_id=channel.account_id,
        secrets=channel.secrets,
        contact_external_id=conversation.contact.external_id,
        platform_conversation_id=conversation.platform_conversation_id,
        text=message.text,
    )
    try:
        result = adapter.send_text(context)
    except SendError as exc:
        return _failed(message=message, reason=exc.reason or _("Platform menolak balasan."))
    except Exception:  # an adapter bug must not leave the reply pending forever
        logger.exception("reply.adapter_error message=%s platform=%s", message.pk, channel.platform)
        return _failed(message=message, reason=_("Terjadi kesalahan saat mengirim ke %s.") % channel.platform)
    return _sent(message=message, conversation=conversation, platform_message_id=result.platform_message_id)


@transaction.atomic
def _sent(*, message: Message, conversation: Conversation, platform_message_id: str) -> Message:
    locked_conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    ours = Message.objects.select_for_update().get(pk=message.pk)
    echo = (
        Message.objects.select_for_update()
        .filter(channel_id=ours.channel_id, platform_message_id=platform_message_id)
        .exclude(pk=ours.pk)
        .first()
    )
    announced: list[StoredMessage] = []
    if echo is not None:
        # The platform's echo of this very send was stored before its answer reached us:
        # one message, so ours (with its author) stays and the echo goes. The echo may already
        # have been measured: the announcement lets monitoring take that out of its figures.
        logger.info("reply.echo_merged message=%s echo=%s", ours.pk, echo.pk)
        announced.append(StoredMessage.of(echo, MessageChange.REMOVED))
        echo.delete()
        locked_conversation.refresh_from_db()
        if locked_conversation.last_message_id is None:
            latest = locked_conversation.messages.exclude(pk=ours.pk).order_by("-sent_at", "-pk").first()
            locked_conversation.last_message = latest
            locked_conversation.last_message_at = latest.sent_at if latest is not None else None
    ours.platform_message_id = platform_message_id
    fields = ["platform_message_id", "updated_at"]
    if ours.status in (Message.Status.PENDING, Message.Status.FAILED):
        ours.status = Message.Status.SENT
        ours.error = ""
        fields += ["status", "error"]
    ours.save(update_fields=fields)
    conversation_note_message(conversation=locked_conversation, message=ours)
    announced.append(StoredMessage.of(ours, MessageChange.SENT))
    messages_stored_announce(messages=announced)
    message_updated_publish(message=ours)
    conversation_updated_publish(conversation=locked_conversation)
    logger.info(
        "reply.sent message=%s conversation=%s platform=%s", ours.pk, conversation.pk, conversation.channel.platform
    )
    return _reload(ours.pk)


@transaction.atomic
def _failed(*, message: Message, reason: str) -> Message:
    ours = Message.objects.select_for_update().get(pk=message.pk)
    if ours.status == Message.Status.PENDING:
        ours.status = Message.Status.FAILED
        ours.error = reason[:500]
        ours.save(update_fields=["status", "error", "updated_at"])
        messages_stored_announce(messages=[StoredMessage.of(ours, MessageChange.STATUS)])
        message_updated_publish(message=ours)
        logger.warning("reply.failed message=%s conversation=%s reason=%s", ours.pk, ours.conversation_id, reason[:200])
    else:
        # The platform's echo confirmed the send while its answer was lost (a timeout).
        logger.info("reply.failed_but_confirmed message=%s status=%s", ours.pk, ours.status)
    return _reload(ours.pk)


def _reload(pk: int) -> Message:
    return Message.objects.select_related("sent_by__user").get(pk=pk)


def _refuse(conversation_id: int | None, reason: str) -> ReplyRefused:
    logger.info("reply.refused conversation=%s reason=%s", conversation_id, reason[:200])
    return ReplyRefused(reason)


def _outside_transaction_check() -> None:
    if connection.in_atomic_block:
        # A caller's transaction would stay open across the platform's HTTP call.
        logger.warning("reply.inside_transaction: the platform call will hold the caller's transaction open")
