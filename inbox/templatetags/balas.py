"""Template helpers of the browser inbox. Nothing here marks user content safe."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django import template
from django.utils import timezone
from django.utils.html import json_script
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

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
