"""Canned replies a shop's owner manages; admins only use them."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from inbox.models import Member, QuickReply

logger = logging.getLogger("balas.quick_replies")


def _owner_check(member: Member) -> None:
    if not member.is_owner:
        raise PermissionDenied(_("Hanya pemilik toko yang bisa mengubah balasan cepat."))


def _shortcut_free_check(*, member: Member, shortcut: str, exclude_pk: int | None = None) -> None:
    taken = QuickReply.objects.filter(shop_id=member.shop_id, shortcut=shortcut)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise ValidationError({"shortcut": _("Pintasan /%s sudah dipakai.") % shortcut})


def _text_check(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("Teks balasan cepat tidak boleh kosong.")})
    return text


@transaction.atomic
def quick_reply_create(*, member: Member, shortcut: str, text: str, position: int = 0) -> QuickReply:
    """Add a quick reply to the member's shop (owner only)."""
    _owner_check(member)
    text = _text_check(text)
    _shortcut_free_check(member=member, shortcut=shortcut)
    quick_reply = QuickReply.objects.create(shop_id=member.shop_id, shortcut=shortcut, text=text, position=position)
    logger.info("quick_reply.created quick_reply=%s shop=%s", quick_reply.pk, member.shop_id)
    return quick_reply


@transaction.atomic
def quick_reply_update(
    *, quick_reply: QuickReply, member: Member, shortcut: str, text: str, position: int
) -> QuickReply:
    """Change a quick reply of the member's own shop (owner only)."""
    _owner_check(member)
    if quick_reply.shop_id != member.shop_id:
        raise PermissionDenied(_("Balasan cepat ini bukan milik toko Anda."))
    text = _text_check(text)
    _shortcut_free_check(member=member, shortcut=shortcut, exclude_pk=quick_reply.pk)
    quick_reply.shortcut = shortcut
    quick_reply.text = text
    quick_reply.position = position
    quick_reply.save(update_fields=["shortcut", "text", "position"])
    logger.info("quick_reply.updated quick_reply=%s shop=%s", quick_reply.pk, member.shop_id)
    return quick_reply


@transaction.atomic
def quick_reply_delete(*, quick_reply: QuickReply, member: Member) -> None:
    """Remove a quick reply of the member's own shop (owner only)."""
    _owner_check(member)
    if quick_reply.shop_id != member.shop_id:
        raise PermissionDenied(_("Balasan cepat ini bukan milik toko Anda."))
    pk = quick_reply.pk
    quick_reply.delete()
    logger.info("quick_reply.deleted quick_reply=%s shop=%s", pk, member.shop_id)
