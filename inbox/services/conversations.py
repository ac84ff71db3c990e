"""Changing a conversation's assignee, status and read state."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from inbox.models import Conversation, Member
from inbox.services.events import conversation_updated_publish

logger = logging.getLogger("balas.conversations")


@transaction.atomic
def conversation_assign(*, conversation: Conversation, assignee: Member | None, by: Member) -> Conversation:
    """Give the conversation to a member of the same shop, or to nobody."""
    if assignee is not None and assignee.shop_id != conversation.shop_id:
        raise ValidationError({"assignee": _("Anggota ini bukan bagian dari toko.")})
    locked = _lock(conversation)
    new_id = assignee.pk if assignee is not None else None
    if locked.assignee_id != new_id:
        locked.assignee = assignee
        locked.save(update_fields=["assignee"])
        conversation_updated_publish(conversation=locked)
        logger.info("conversation.assigned conversation=%s assignee=%s by=%s", locked.pk, new_id, by.pk)
    _copy(locked, conversation, ["assignee_id"])
    return locked


@transaction.atomic
def conversation_status_set(*, conversation: Conversation, status: str, by: Member) -> Conversation:
    """Open or close the conversation; a new customer message reopens a closed one."""
    if status not in Conversation.Status.values:
        raise ValidationError(
            {"status": _("Status harus salah satu dari: %s.") % ", ".join(Conversation.Status.values)}
        )
    locked = _lock(conversation)
    if locked.status != status:
        locked.status = status
        locked.save(update_fields=["status"])
        conversation_updated_publish(conversation=locked)
        logger.info("conversation.status_set conversation=%s status=%s by=%s", locked.pk, status, by.pk)
    _copy(locked, conversation, ["status"])
    return locked


@transaction.atomic
def conversation_mark_read(*, conversation: Conversation, member: Member) -> Conversation:
    """The member has seen the customer's messages: the unread count drops to zero."""
    locked = _lock(conversation)
    if locked.unread_count:
        locked.unread_count = 0
        locked.save(update_fields=["unread_count"])
        conversation_updated_publish(conversation=locked)
        logger.info("conversation.read conversation=%s member=%s", locked.pk, member.pk)
    _copy(locked, conversation, ["unread_count"])
    return locked


def _lock(conversation: Conversation) -> Conversation:
    # Ingest updates the same row under this lock; re-reading it keeps both writers' fields.
    return (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("channel", "contact", "last_message")
        .get(pk=conversation.pk)
    )


def _copy(source: Conversation, target: Conversation, fields: list[str]) -> None:
    if source is not target:
        for field in fields:
            setattr(target, field, getattr(source, field))
