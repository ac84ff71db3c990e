"""Creating shops, their members and their channels (the setup commands and the API use these)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from inbox.adapters import adapter_platforms, get_adapter
from inbox.models import Channel, Member, Platform, QuickReply, Shop
from inbox.tokens import token_generate

logger = logging.getLogger("balas.shops")

# The `secrets` keys each platform needs, as its adapter declares them; an `api` channel has no
# adapter and needs none (it authenticates with its push token). A platform missing here is unknown.
CHANNEL_REQUIRED_SECRETS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {**{platform: get_adapter(platform).required_secrets for platform in adapter_platforms()}, Platform.API: ()}
)

# Seeded for every new shop: warm, polite Indonesian shop talk that admins can adapt.
DEFAULT_QUICK_REPLIES: tuple[tuple[str, str], ...] = (
    ("salam", "Halo kak {nama}, terima kasih sudah menghubungi kami 😊 Ada yang bisa kami bantu?"),
    ("stok-ready", "Stok ready kak {nama} 😊 Silakan langsung di-checkout ya, kami proses secepatnya 🙏"),
    (
        "ongkir",
        "Untuk ongkir dan estimasi pengiriman bisa dicek langsung saat checkout ya kak {nama}. "
        "Kalau mau, kakak kirim alamatnya, kami bantu hitungkan 😊",
    ),
    ("terima-kasih-order", "Terima kasih banyak sudah order ya kak {nama} 🙏 Pesanan kakak segera kami proses 😊"),
    ("mohon-ditunggu", "Baik kak {nama}, mohon ditunggu sebentar ya, kami cek dulu 🙏"),
    (
        "maaf",
        "Mohon maaf atas ketidaknyamanannya ya kak {nama} 🙏 Kami bantu selesaikan secepatnya, "
        "boleh dibantu info nomor pesanannya?",
    ),
    (
        "resi",
        "Pesanan kakak sudah kami kirim ya kak {nama} 😊 Nomor resinya: ... Terima kasih sudah belanja di kami 🙏",
    ),
)


class EmailTakenError(ValueError):
    """The login email already belongs to someone (one login belongs to one shop)."""


@transaction.atomic
def shop_create(
    *, name: str, owner_email: str, owner_password: str, timezone: str = "Asia/Jakarta"
) -> tuple[Shop, Member, str]:
    """Create a shop, its owner and the default quick replies; returns (shop, owner, owner's API token)."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Nama toko wajib diisi.")})
    _timezone_validate(timezone)
    shop = Shop.objects.create(name=name, timezone=timezone)
    owner, token = member_create(shop=shop, email=owner_email, password=owner_password, role=Member.Role.OWNER)
    QuickReply.objects.bulk_create(
        QuickReply(shop=shop, shortcut=shortcut, text=text, position=i)
        for i, (shortcut, text) in enumerate(DEFAULT_QUICK_REPLIES)
    )
    logger.info("shop.created shop=%s owner=%s", shop.pk, owner.pk)
    return shop, owner, token


@transaction.atomic
def member_create(*, shop: Shop, email: str, password: str, role: str) -> tuple[Member, str]:
    """Create a login (username = email) and its membership; returns (member, API token shown once)."""
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ValidationError({"email": _("Alamat email tidak valid.")}) from exc
    if role not in Member.Role.values:
        raise ValidationError({"role": _("Peran harus salah satu dari: %s.") % ", ".join(Member.Role.values)})
    if not password:
        raise ValidationError({"password": _("Kata sandi wajib diisi.")})
    user_model = get_user_model()
    if user_model.objects.filter(username__iexact=email).exists():
        raise EmailTakenError(_("Email %s sudah terdaftar.") % email)
    try:
        with transaction.atomic():
            user = user_model.objects.create_user(username=email, email=email, password=password)
    except IntegrityError as exc:
        raise EmailTakenError(_("Email %s sudah terdaftar.") % email) from exc
    token, digest = token_generate("bm")
    member = Member.objects.create(shop=shop, user=user, role=role, token_hash=digest)
    logger.info("member.created shop=%s member=%s role=%s", shop.pk, member.pk, role)
    return member, token


@transaction.atomic
def channel_token_rotate(*, channel: Channel) -> str:
    """Replace an API channel's push token; the old one stops working at once."""
    token, digest = token_generate("bc")
    channel.token_hash = digest
    channel.save(update_fields=["token_hash"])
    logger.info("channel.token_rotated channel=%s", channel.pk)
    return token


@transaction.atomic
def member_token_rotate(*, member: Member) -> str:
    """Replace the member's API token; the old one stops working at once."""
    token, digest = token_generate("bm")
    member.token_hash = digest
    member.save(update_fields=["token_hash"])
    logger.info("member.token_rotated member=%s", member.pk)
    return token


@transaction.atomic
def channel_create(
    *, shop: Shop, platform: str, name: str, account_id: str, secrets: Mapping[str, Any]
) -> tuple[Channel, str | None]:
    """Connect a channel; returns (channel, push token) where only `api` channels get a token.

    Raises ValidationError naming the field: an unknown platform, missing secrets, or an
    account id another channel already has.
    """
    if platform not in CHANNEL_REQUIRED_SECRETS:
        raise ValidationError({"platform": _("Platform tidak dikenal: %s.") % platform})
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Nama channel wajib diisi.")})
    account_id = account_id.strip()
    required = CHANNEL_REQUIRED_SECRETS[platform]
    missing = [key for key in required if not _secret_present(secrets.get(key))]
    if missing:
        raise ValidationError(
            {
                "secrets": _("Secret berikut wajib diisi untuk %(platform)s: %(keys)s.")
                % {"platform": platform, "keys": ", ".join(missing)}
            }
        )
    token: str | None = None
    token_digest: str | None = None
    if platform == Platform.API:
        # An API client has no platform account; the id only has to be unique.
        account_id = account_id or f"api-{uuid.uuid4().hex}"
        token, token_digest = token_generate("bc")
    elif not account_id:
        raise ValidationError({"account_id": _("ID akun platform wajib diisi.")})
    if Channel.objects.filter(platform=platform, account_id=account_id).exists():
        raise ValidationError({"account_id": _("Akun %s sudah terhubung ke channel lain.") % account_id})
    clean_secrets = {str(key): str(value).strip() for key, value in secrets.items() if _secret_present(value)}
    try:
        with transaction.atomic():
            channel = Channel.objects.create(
                shop=shop,
                platform=platform,
                name=name[:200],
                account_id=account_id,
                secrets=clean_secrets,  # type: ignore[misc]  # EncryptedJSONField stores a dict
                token_hash=token_digest,
            )
    except IntegrityError as exc:
        raise ValidationError({"account_id": _("Akun %s sudah terhubung ke channel lain.") % account_id}) from exc
    logger.info("channel.created shop=%s channel=%s platform=%s", shop.pk, channel.pk, platform)
    return channel, token


def _secret_present(value: Any) -> bool:
    return isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip() != ""


def _timezone_validate(timezone: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError({"timezone": _("Zona waktu tidak dikenal: %s.") % timezone}) from exc
