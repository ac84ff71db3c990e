"""The owner's settings form: the same validation as the API, through the policy service."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from monitoring.business_hours import WEEKDAYS, ScheduleError, ranges_format, ranges_parse
from monitoring.models import ShopPolicy
from monitoring.services.notifications import PreferenceError, preferences_clean
from monitoring.services.policy import PolicyError, policy_clean

DAY_LABELS = {
    "mon": _("Senin"),
    "tue": _("Selasa"),
    "wed": _("Rabu"),
    "thu": _("Kamis"),
    "fri": _("Jumat"),
    "sat": _("Sabtu"),
    "sun": _("Minggu"),
}
COMMON_ZONES = ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura", "Asia/Singapore", "Asia/Kuala_Lumpur", "UTC")


class PolicyForm(forms.Form):
    first_reply_target_min = forms.DecimalField(
        label=_("Target balasan pertama (menit jam kerja)"), min_value=Decimal("0.05"), decimal_places=2
    )
    reply_target_min = forms.DecimalField(
        label=_("Target balasan berikutnya (menit jam kerja)"), min_value=Decimal("0.05"), decimal_places=2
    )
    warn_at_pct = forms.IntegerField(
        label=_("Peringatkan admin pada (% dari target)"),
        min_value=1,
        max_value=99,
        required=False,
        help_text=_("Admin diingatkan sebelum target terlewati, agar pemilik tidak perlu diberi tahu."),
    )
    timezone = forms.CharField(label=_("Zona waktu"), max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for day in WEEKDAYS:
            self.fields[f"hours_{day}"] = forms.CharField(
                label=DAY_LABELS[day],
                required=False,
                help_text=_("Contoh: 08:00-12:00, 13:00-21:00. Kosong berarti tutup."),
            )
        self.policy_data: dict[str, Any] = {}

    @classmethod
    def initial_for(cls, policy: ShopPolicy) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "first_reply_target_min": Decimal(policy.first_reply_target_s) / 60,
            "reply_target_min": Decimal(policy.reply_target_s) / 60,
            "warn_at_pct": policy.warn_at_pct,
            "timezone": policy.timezone,
        }
        for day in WEEKDAYS:
            initial[f"hours_{day}"] = ranges_format(policy.business_hours.get(day, []))
        return initial

    def day_fields(self) -> list[forms.BoundField]:
        return [self[f"hours_{day}"] for day in WEEKDAYS]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        hours: dict[str, list[list[str]]] = {}
        for day in WEEKDAYS:
            try:
                hours[day] = ranges_parse(cleaned.get(f"hours_{day}", ""), day=day)
            except ScheduleError as exc:
                self.add_error(f"hours_{day}", str(exc))
        if self.errors:
            return cleaned
        data: dict[str, Any] = {
            "first_reply_target_s": round(cleaned["first_reply_target_min"] * 60),
            "reply_target_s": round(cleaned["reply_target_min"] * 60),
            "timezone": cleaned["timezone"],
            "business_hours": hours,
        }
        if cleaned.get("warn_at_pct") is not None:
            data["warn_at_pct"] = cleaned["warn_at_pct"]
        try:
            self.policy_data = policy_clean(data)
        except PolicyError as exc:
            for name, messages in exc.errors.items():
                for message in messages:
                    self.add_error(_form_field(name, message), message)
        return cleaned


def _form_field(name: str, message: str) -> str | None:
    if name == "business_hours":
        day = message.split(":", 1)[0]
        return f"hours_{day}" if day in WEEKDAYS else None
    return {
        "first_reply_target_s": "first_reply_target_min",
        "reply_target_s": "reply_target_min",
        "warn_at_pct": "warn_at_pct",
        "timezone": "timezone",
    }.get(name)


ROUTE_LABELS = {
    "in_page": _("Di halaman"),
    "browser": _("Notifikasi browser"),
    "web_push": _("Web Push (ponsel)"),
    "email_digest": _("Ringkasan e-mail"),
}


class NotificationForm(forms.Form):
    """A member's own notification preferences: the same validation as the API, through the service."""

    quiet_start = forms.TimeField(label=_("Jam tenang mulai"), required=False, input_formats=["%H:%M"])
    quiet_end = forms.TimeField(label=_("Jam tenang selesai"), required=False, input_formats=["%H:%M"])
    digest_interval_minutes = forms.IntegerField(
        label=_("Ringkasan e-mail setiap (menit)"), min_value=15, max_value=1440
    )

    def __init__(self, *args: Any, kinds: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kinds = kinds
        for kind, _label in kinds:
            for route in ROUTE_LABELS:
                self.fields[f"route_{kind}_{route}"] = forms.BooleanField(label=ROUTE_LABELS[route], required=False)
        self.preference_data: dict[str, Any] = {}

    @classmethod
    def initial_for(cls, routing: Any) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "quiet_start": routing.quiet_start,
            "quiet_end": routing.quiet_end,
            "digest_interval_minutes": routing.digest_interval_minutes,
        }
        for kind, routes in routing.routes.items():
            for route in routes:
                initial[f"route_{kind}_{route}"] = True
        return initial

    def rows(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [(label, [self[f"route_{kind}_{route}"] for route in ROUTE_LABELS]) for kind, label in self.kinds]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        start, end = cleaned.get("quiet_start"), cleaned.get("quiet_end")
        if (start is None) != (end is None):
            self.add_error(
                "quiet_end" if start else "quiet_start", _("Isi jam mulai dan selesai, atau kosongkan keduanya.")
            )
            return cleaned
        data: dict[str, Any] = {
            "kinds": {
                kind: [route for route in ROUTE_LABELS if cleaned.get(f"route_{kind}_{route}")]
                for kind, _l in self.kinds
            },
            "quiet_hours": {"start": start.strftime("%H:%M"), "end": end.strftime("%H:%M")} if start and end else None,
            "digest_interval_minutes": cleaned["digest_interval_minutes"],
        }
        try:
            preferences_clean(data)
        except PreferenceError as exc:
            for name, messages in exc.errors.items():
                for message in messages:
                    field = {"quiet_hours": "quiet_start", "digest_interval_minutes": "digest_interval_minutes"}.get(
                        name
                    )
                    self.add_error(field, message)
        self.preference_data = data
        return cleaned
