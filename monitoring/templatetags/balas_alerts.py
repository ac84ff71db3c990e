"""The attention surface on every page: the nav badge and the one compact alert bar.

Both are rendered by the server with true counts (monitoring.selectors.alerts_open_summary) of the
kinds the member keeps in the page (monitoring.notifications.in_page_kinds), so open alerts are there
on load; static/js/alerts.js re-reads the same partial (`/alerts/summary/`) when
an alert event arrives.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import json_script
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext

from inbox.models import Member
from monitoring.models import Alert
from monitoring.notifications import in_page_kinds
from monitoring.selectors import OpenAlertSummary, alerts_open_summary

register = template.Library()

_CACHE_ATTR = "_balas_alert_summary"


def summary_for(request: Any) -> OpenAlertSummary | None:
    """The request member's open-alert summary, read once per request."""
    member = getattr(request, "member", None) if request is not None else None
    if not isinstance(member, Member):
        return None
    cached = getattr(request, _CACHE_ATTR, None)
    if cached is None:
        cached = alerts_open_summary(member=member, kinds=in_page_kinds(member))
        setattr(request, _CACHE_ATTR, cached)
    return cached


def summary_text(summary: OpenAlertSummary) -> str:
    """ "3 pelanggan menunggu terlalu lama · 2 balasan ketus", in the active language."""
    parts = []
    if summary.waiting_conversations:
        n = summary.waiting_conversations
        parts.append(
            ngettext("%(n)d pelanggan menunggu terlalu lama", "%(n)d pelanggan menunggu terlalu lama", n) % {"n": n}
        )
    if summary.terse_replies:
        n = summary.terse_replies
        parts.append(ngettext("%(n)d balasan ketus", "%(n)d balasan ketus", n) % {"n": n})
    # An admin's warnings before the breach are named as such (an owner never has them).
    due_soon = summary.by_kind.get(Alert.Kind.REPLY_DUE_SOON, 0)
    if due_soon:
        parts.append(ngettext("%(n)d perlu segera dibalas", "%(n)d perlu segera dibalas", due_soon) % {"n": due_soon})
    if summary.other - due_soon:
        n = summary.other - due_soon
        parts.append(ngettext("%(n)d peringatan lain", "%(n)d peringatan lain", n) % {"n": n})
    return " · ".join(parts)


@register.inclusion_tag("monitoring/partials/alert_bar.html", takes_context=True)
def alert_bar(context: template.Context) -> dict[str, Any]:
    summary = summary_for(context.get("request"))
    return {"summary": summary, "text": summary_text(summary) if summary else ""}


@register.inclusion_tag("monitoring/partials/alert_badge.html", takes_context=True)
def alert_badge(context: template.Context) -> dict[str, Any]:
    summary = summary_for(context.get("request"))
    return {"count": summary.total if summary else 0}


@register.simple_tag
def alert_js_strings() -> SafeString:
    """Words static/js/alerts.js needs, in the active language, as a JSON <script> block."""
    return json_script({"many": gettext("{n} peringatan baru")}, "balas-alert-i18n")
