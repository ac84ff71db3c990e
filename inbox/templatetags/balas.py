"""Template helpers of the browser inbox. Nothing here marks user content safe."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django import template
from django.utils import timezone
from django.utils.html import json_script
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from inbox.adapters import get_adapter
from inbox.models import NOT_TURN_KINDS

register = template.Library()


@register.filter
def http_url(value: Any) -> str:
    """The URL if it is plain http(s), else "": attachment URLs come from customers' platforms."""
    url = str(value or "").strip()
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return ""
    return url if scheme in ("http", "https") else ""


@register.filter
def iso(value: Any) -> str:
    """An aware datetime as ISO 8601 with its offset (JavaScript's Date parses it)."""
    if not value:
        return ""
    return timezone.localtime(value).isoformat(timespec="seconds") if timezone.is_aware(value) else value.isoformat()


@register.filter
def attachment_label(attachment: Any) -> str:
    kind = str((attachment or {}).get("type", "")) if isinstance(attachment, dict) else ""
    labels = {
        "image": _("Gambar"),
        "video": _("Video"),
        "audio": _("Audio"),
        "file": _("Berkas"),
        "document": _("Dokumen"),
        "sticker": _("Stiker"),
        "location": _("Lokasi"),
        "product": _("Produk"),
        "order": _("Pesanan"),
    }
    return labels.get(kind, _("Lampiran"))


@register.filter
def map_url(content: Any) -> str:
    """An OpenStreetMap link to a location message's coordinates, or "" when they are not numbers in range."""
    if not isinstance(content, dict):
        return ""
    try:
        lat = float(content.get("latitude"))  # type: ignore[arg-type]
        lon = float(content.get("longitude"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return ""
    return f"https://www.openstreetmap.org/?mlat={lat:.6f}&mlon={lon:.6f}#map=17/{lat:.6f}/{lon:.6f}"


@register.filter
def as_list(value: Any) -> list[Any]:
    """`value` when it is a JSON list, else [] (content comes from platforms: its shape is not promised)."""
    return value if isinstance(value, list) else []


@register.filter
def reactable(message: Any) -> bool:
    """Whether the shop can react to this message from the inbox (its platform has a reaction API)."""
    if message.direction != "in" or not message.platform_message_id or message.kind in NOT_TURN_KINDS:
        return False
    try:
        return bool(get_adapter(message.channel.platform).supports_reactions)
    except LookupError:
        return False


REACTION_CHOICES = ("👍", "❤️", "😂", "😮", "🙏")


@register.simple_tag
def reaction_choices() -> tuple[str, ...]:
    return REACTION_CHOICES


@register.filter
def shop_reaction(message: Any) -> str:
    """The shop's current reaction to the message ("" when none)."""
    for reaction in message.reactions or ():
        if isinstance(reaction, dict) and reaction.get("from") == "shop":
            return str(reaction.get("emoji", ""))
    return ""


@register.simple_tag
def balas_js_strings() -> SafeString:
    """UI words the inbox script needs, in the active language, as a JSON <script> block."""
    strings = {
        "title": "Balas",
        "toneTitle": _("Balasan ini bisa terdengar ketus."),
        "alertOpen": _("Buka percakapan"),
        "dismiss": _("Tutup"),
        "offline": _("Koneksi terputus, menyambung ulang…"),
        "noMatch": _("Tidak ada balasan cepat yang cocok."),
        "dueLeft": _("sisa %s"),
    }
    return json_script(strings, "balas-i18n")


@register.simple_tag(takes_context=True)
def balas_member(context: template.Context) -> Any:
    """The request's Member (or None) for the page's navigation: `request.member`, see MemberMiddleware."""
    request = context.get("request")
    return getattr(request, "member", None) if request is not None else None
