"""`{{ alert.reasons|reasons_localized }}`: the judge's stored reasons in the page's language."""

from __future__ import annotations

from django import template
from django.utils.translation import get_language

from monitoring.tone.localize import reasons_in

register = template.Library()


@register.filter
def reasons_localized(reasons: object) -> list[str]:
    return reasons_in(reasons, get_language() or "id")
