"""Members' notification preferences and Web Push subscriptions: validated, stored, removed.

The rules that apply them are in monitoring.notifications; the e-mail digest is `digests_send`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from inbox.models import Member
from monitoring.models import Alert, NotificationPreference, PushSubscription
from monitoring.notifications import EMAIL_DIGEST, ROUTES, MemberRouting, eligible, member_routing, routing_of
from monitoring.selectors import policy_get

logger = logging.getLogger("balas.monitoring")

PREFERENCE_FIELDS = ("kinds", "quiet_hours", "digest_interval_minutes")
# From a quarter of an hour to a day: shorter is not a digest, longer is forgotten.
DIGEST_MINUTES_RANGE = (15, 24 * 60)
# The exact texts these accept are also what the API document says (monitoring/api/serializers.py):
# strptime alone would take "7:5", and a lenient base64 decoder skips characters outside its alphabet.
HH_MM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
PUSH_ENDPOINT_MAX = 1000
# A push service's URL: no white space, NUL or IPv6 brackets (urlsplit raises on unbalanced ones).
_URL_REST = r"[^\s\x00/?#\[\]]+([/?#][^\s\x00]*)?$"
PUSH_ENDPOINT_HTTPS = "^https://" + _URL_REST
PUSH_ENDPOINT_LOCAL = "^https?://" + _URL_REST
PUSH_KEY_BYTES = {"p256dh": 65, "auth": 16}


def b64url_pattern(size: int) -> str:
    """Base64url of exactly `size` bytes, its `=` padding optional (browsers leave it out)."""
    chars = -(-size * 4 // 3)
    return f"^[A-Za-z0-9_-]{{{chars}}}(={{{-chars % 4}}})?$" if chars % 4 else f"^[A-Za-z0-9_-]{{{chars}}}$"


class PreferenceError(ValueError):
    """Field errors, shaped like DRF's: {field: [message, ...]}."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


class PreferenceRuleError(PreferenceError):
    """Well-formed preferences a rule refuses (quiet hours that start when they end): the API's 422."""


def _time_parse(value: Any, name: str) -> time:
    if not isinstance(value, str) or not re.fullmatch(HH_MM, value):
        raise PreferenceError({"quiet_hours": [f"quiet_hours.{name} must be a time 'HH:MM', got {value!r}."]})
    return datetime.strptime(value, "%H:%M").time()


def preferences_clean(data: object) -> dict[str, Any]:
    """Validate a PATCH body (any subset of the fields); raise PreferenceError naming every bad field."""
    if not isinstance(data, Mapping):
        raise PreferenceError({"non_field_errors": ["Send a JSON object with the preference fields."]})
    errors: dict[str, list[str]] = {}
    rules: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    unknown = sorted(str(k) for k in data if k not in PREFERENCE_FIELDS)
    if unknown:
        errors["non_field_errors"] = [
            f"Unknown field(s): {', '.join(unknown)}; allowed: {', '.join(PREFERENCE_FIELDS)}."
        ]
    if "kinds" in data:
        kinds = data["kinds"]
        problems: list[str] = []
        if not isinstance(kinds, Mapping):
            problems.append("kinds must be an object {alert kind: [route, ...]}.")
        else:
            for kind, routes in kinds.items():
                if kind not in Alert.Kind.values:
                    problems.append(f"Unknown alert kind '{kind}'; use one of {', '.join(Alert.Kind.values)}.")
                elif not isinstance(routes, list) or not all(isinstance(r, str) for r in routes):
                    problems.append(f"kinds.{kind} must be a list of routes.")
                elif bad := [r for r in routes if r not in ROUTES]:
                    problems.append(f"Unknown route(s) {', '.join(bad)} for {kind}; use {', '.join(ROUTES)}.")
        if problems:
            errors["kinds"] = problems
        else:
            cleaned["kinds"] = {str(k): sorted(set(v), key=ROUTES.index) for k, v in kinds.items()}
    if "quiet_hours" in data:
        quiet = data["quiet_hours"]
        if quiet is None:
            cleaned["quiet_hours"] = None
        elif not isinstance(quiet, Mapping) or set(quiet) != {"start", "end"}:
            errors["quiet_hours"] = ['quiet_hours must be null or {"start": "HH:MM", "end": "HH:MM"}.']
        else:
            try:
                start, end = _time_parse(quiet["start"], "start"), _time_parse(quiet["end"], "end")
            except PreferenceError as exc:
                errors.update(exc.errors)
            else:
                if start == end:
                    rules["quiet_hours"] = ["quiet_hours start and end must differ (null for no quiet hours)."]
                else:
                    cleaned["quiet_hours"] = (start, end)
    if "digest_interval_minutes" in data:
        minutes = data["digest_interval_minutes"]
        low, high = DIGEST_MINUTES_RANGE
        if isinstance(minutes, bool) or not isinstance(minutes, int) or not low <= minutes <= high:
            errors["digest_interval_minutes"] = [
                f"digest_interval_minutes must be a whole number from {low} to {high}, got {minutes!r}."
            ]
        else:
            cleaned["digest_interval_minutes"] = minutes
    if errors:
        raise PreferenceError({**rules, **errors})
    if rules:
        raise PreferenceRuleError(rules)
    return cleaned


@transaction.atomic
def notification_preferences_update(*, member: Member, data: object) -> MemberRouting:
    """Change the member's own preferences; kinds left out of `kinds` keep what they had."""
    cleaned = preferences_clean(data)
    preference, _created = NotificationPreference.objects.select_for_update().get_or_create(member=member)
    if "kinds" in cleaned:
        current = dict(member_routing(member).routes) if preference.routes is None else dict(preference.routes)
        current = {kind: list(routes) for kind, routes in current.items()}
        current.update(cleaned["kinds"])
        preference.routes = current
    if "quiet_hours" in cleaned:
        preference.quiet_start, preference.quiet_end = cleaned["quiet_hours"] or (None, None)
    if "digest_interval_minutes" in cleaned:
        preference.digest_interval_minutes = cleaned["digest_interval_minutes"]
    preference.save()
    logger.info("notifications.preferences_updated member=%s fields=%s", member.pk, ",".join(sorted(cleaned)))
    return routing_of(member, preference, policy_get(shop_id=member.shop_id).timezone)


def _b64url_key(value: Any, name: str, size: int) -> str:
    if not isinstance(value, str) or not value:
        raise PreferenceError({f"keys.{name}": [f"keys.{name} is required (base64url)."]})
    if not re.fullmatch(b64url_pattern(size), value):
        raise PreferenceError({f"keys.{name}": [f"keys.{name} must be {size} bytes in base64url."]})
    return value


def push_subscription_clean(data: object) -> dict[str, str]:
    """`{endpoint, keys: {p256dh, auth}}` as the browser's PushSubscription.toJSON() gives it."""
    if not isinstance(data, Mapping):
        raise PreferenceError({"non_field_errors": ["Send the browser's PushSubscription JSON."]})
    errors: dict[str, list[str]] = {}
    endpoint = data.get("endpoint")
    pattern = PUSH_ENDPOINT_LOCAL if settings.DEBUG or settings.BALAS_PUSH_ALLOW_HTTP else PUSH_ENDPOINT_HTTPS
    if not isinstance(endpoint, str) or not re.fullmatch(pattern, endpoint):
        errors["endpoint"] = ["endpoint must be the push service's https URL."]
    elif len(endpoint) > PUSH_ENDPOINT_MAX:
        errors["endpoint"] = [f"endpoint is longer than {PUSH_ENDPOINT_MAX} characters."]
    keys = data.get("keys")
    cleaned: dict[str, str] = {"endpoint": str(endpoint)}
    if not isinstance(keys, Mapping):
        errors["keys"] = ["keys must be {p256dh, auth}."]
    else:
        for name, size in PUSH_KEY_BYTES.items():
            try:
                cleaned[name] = _b64url_key(keys.get(name), name, size)
            except PreferenceError as exc:
                errors.update(exc.errors)
    if errors:
        raise PreferenceError(errors)
    return cleaned


@transaction.atomic
def push_subscription_save(*, member: Member, data: object, user_agent: str = "") -> tuple[PushSubscription, bool]:
    """Store (or refresh) the browser's subscription for this member; (subscription, created)."""
    cleaned = push_subscription_clean(data)
    subscription, created = PushSubscription.objects.update_or_create(
        endpoint=cleaned["endpoint"],
        defaults={
            "member": member,
            "p256dh": cleaned["p256dh"],
            "auth": cleaned["auth"],
            "user_agent": user_agent[:300],
        },
    )
    logger.info("notifications.push_subscribed member=%s subscription=%s", member.pk, subscription.pk)
    return subscription, created


@transaction.atomic
def push_subscription_delete(*, member: Member, endpoint: str) -> int:
    deleted, _ = PushSubscription.objects.filter(member=member, endpoint=endpoint).delete()
    return deleted


# --- the e-mail digest -------------------------------------------------------------------------


def digests_send(*, now: datetime | None = None) -> int:
    """E-mail each member whose digest is due the alerts of their digest kinds since the last one.

    Due: `digest_interval_minutes` after the last digest, and not in the member's quiet hours (then
    it waits for their end). Each member in their own transaction, under their preference row's
    lock, the cursor moved only after the mail went: running twice sends nothing twice. Returns
    the digests sent.
    """
    now = now or timezone.now()
    sent = 0
    members = Member.objects.filter(user__is_active=True).exclude(user__email="").select_related("user")
    for member in members.order_by("pk"):
        try:
            if _member_digest_send(member=member, now=now):
                sent += 1
        except Exception:
            # One mailbox's failure must not stop the other members' digests.
            logger.exception("notifications.digest_failed member=%s", member.pk)
    return sent


def _member_digest_send(*, member: Member, now: datetime) -> bool:
    routing = member_routing(member)
    kinds = [kind for kind in Alert.Kind.values if routing.wants(kind, EMAIL_DIGEST)]
    if not kinds:
        return False
    with transaction.atomic():
        preference, _created = NotificationPreference.objects.select_for_update().get_or_create(member=member)
        interval = timedelta(minutes=preference.digest_interval_minutes)
        if preference.digest_sent_until is None:
            # The first digest covers one interval back: alerts before the member had one are old news.
            preference.digest_sent_until = now - interval
            preference.save(update_fields=["digest_sent_until", "updated_at"])
        elif now < preference.digest_sent_until + interval:
            return False
        if routing.quiet_at(now):
            return False
        since = preference.digest_sent_until
        alerts = [
            alert
            for alert in Alert.objects.filter(
                shop_id=member.shop_id, kind__in=kinds, created_at__gt=since, created_at__lte=now
            )
            .select_related("conversation__contact", "conversation__channel")
            .order_by("created_at", "id")
            if eligible(alert, routing)
        ]
        if alerts:
            subject, body = _digest_compose(alerts)
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [member.user.email], fail_silently=False)
        preference.digest_sent_until = now
        preference.save(update_fields=["digest_sent_until", "updated_at"])
    if alerts:
        logger.info("notifications.digest_sent member=%s alerts=%d", member.pk, len(alerts))
    return bool(alerts)


def _digest_compose(alerts: list[Alert]) -> tuple[str, str]:
    base = settings.BALAS_PUBLIC_URL.rstrip("/")
    subject = ngettext(
        "[Balas] Ringkasan: %(count)d peringatan", "[Balas] Ringkasan: %(count)d peringatan", len(alerts)
    ) % {"count": len(alerts)}
    body = render_to_string(
        "monitoring/email/digest.txt",
        {
            "alerts": alerts,
            "alerts_url": f"{base}/alerts/",
            "settings_url": f"{base}/settings/notifications/",
            "intro": _("Peringatan sejak ringkasan terakhir:"),
        },
    )
    return subject, body
