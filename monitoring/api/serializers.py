"""Shapes of the monitoring API. Validation of the policy lives in the service (one source for
the API and the settings page); these serializers describe and render."""

from __future__ import annotations

from typing import Any, ClassVar
from zoneinfo import available_timezones

from django.core.validators import RegexValidator
from django.utils.translation import get_language
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from inbox.api.fields import (
    ClosedSerializer,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    StrictQuerySerializer,
)
from inbox.models import contact_placeholder_name
from monitoring.models import Alert, ShopPolicy
from monitoring.services.notifications import (
    DIGEST_MINUTES_RANGE,
    HH_MM,
    PUSH_ENDPOINT_HTTPS,
    PUSH_ENDPOINT_MAX,
    PUSH_KEY_BYTES,
    b64url_pattern,
)
from monitoring.services.policy import MAX_TARGET_S
from monitoring.tone.localize import reasons_in

# Ids are bigint: a larger number is no id (and would overflow the query).
_ID_MAX = 2**63 - 1


class LocalizedReasonsField(serializers.ListField):
    """The judge's reasons in the reader's language (they are stored as the worker worded them)."""

    def to_representation(self, data: Any) -> list[Any]:
        return reasons_in(data, get_language() or "id")


class PolicySerializer(serializers.ModelSerializer):
    business_hours = serializers.DictField(
        child=serializers.ListField(child=serializers.ListField(child=serializers.CharField(), min_length=2)),
        help_text='Weekday keys mon..sun, each a list of ["HH:MM", "HH:MM"] ranges in local time; '
        '"24:00" may end a range; a missing or empty day is closed.',
    )

    class Meta:
        model = ShopPolicy
        fields = ["first_reply_target_s", "reply_target_s", "warn_at_pct", "timezone", "business_hours"]
        extra_kwargs = {
            "first_reply_target_s": {"help_text": "Seconds of business time for the first reply of a conversation."},
            "reply_target_s": {"help_text": "Seconds of business time for later replies."},
            "timezone": {"help_text": "IANA time zone, e.g. Asia/Jakarta."},
            "warn_at_pct": {
                "help_text": "Percent of the target (1-99) at which the admins get a reply_due_soon warning."
            },
        }


def _day_field() -> serializers.Field:
    time = StrictCharField(validators=[RegexValidator(r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$", "HH:MM")])
    return serializers.ListField(
        child=serializers.ListField(child=time, min_length=2, max_length=2),
        required=False,
        allow_null=True,
        help_text='Opening ranges ["HH:MM", "HH:MM"]; left out or null: closed that day.',
    )


class BusinessHoursSerializer(ClosedSerializer):
    """Opening hours per weekday. The service's rules then: each range ends after it starts
    (24:00 only as an end), ranges of a day do not overlap, some day is open (else 422)."""

    mon = _day_field()
    tue = _day_field()
    wed = _day_field()
    thu = _day_field()
    fri = _day_field()
    sat = _day_field()
    sun = _day_field()


class PolicyPatchSerializer(ClosedSerializer):
    """The PATCH body (every field optional): its shape is checked here (400), the rules by the service (422)."""

    first_reply_target_s = StrictIntegerField(required=False, min_value=1, max_value=MAX_TARGET_S)
    reply_target_s = StrictIntegerField(required=False, min_value=1, max_value=MAX_TARGET_S)
    warn_at_pct = StrictIntegerField(required=False, min_value=1, max_value=99)
    timezone = serializers.ChoiceField(choices=sorted(available_timezones()), required=False)
    business_hours = BusinessHoursSerializer(required=False)


class AlertListQuerySerializer(StrictQuerySerializer):
    """The alert list's filters, as validated and as the schema documents them (none: every kind, state)."""

    kind = serializers.ChoiceField(choices=Alert.Kind.choices, required=False)
    state = serializers.ChoiceField(choices=Alert.State.choices, required=False)
    assignee = StrictCharField(
        required=False,
        validators=[RegexValidator(r"^([1-9][0-9]{0,18}|none)$", "a member id or 'none'")],
        help_text="A member id: alerts of conversations assigned to them; `none`: unassigned ones.",
    )


class AlertSerializer(serializers.ModelSerializer):
    conversation_id = serializers.IntegerField(read_only=True)
    assignee_id = serializers.IntegerField(read_only=True, allow_null=True)
    member_id = serializers.IntegerField(read_only=True, allow_null=True)
    acknowledged_by_id = serializers.IntegerField(read_only=True, allow_null=True)
    contact_name = serializers.SerializerMethodField()
    due_at = serializers.SerializerMethodField(
        help_text="Slow-reply alerts and warnings: the waiting period's reply deadline (for a countdown)."
    )
    reasons = LocalizedReasonsField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "kind",
            "state",
            "conversation_id",
            "contact_name",
            "assignee_id",
            "member_id",
            "title",
            "detail",
            "reasons",
            "suggestion",
            "count",
            "latency_seconds",
            "created_at",
            "acknowledged_at",
            "acknowledged_by_id",
            "resolved_at",
            "due_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_due_at(self, obj: Alert) -> str | None:
        period = obj.waiting_period if obj.waiting_period_id else None
        return serializers.DateTimeField().to_representation(period.deadline_at) if period is not None else None

    def get_contact_name(self, obj: Alert) -> str:
        contact = obj.conversation.contact
        # Never a bare 16-digit id: inbox's one rule for a customer whose name is not known yet.
        return contact.name or contact_placeholder_name(
            platform=obj.conversation.channel.platform, external_id=contact.external_id
        )


@extend_schema_field({"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "maxItems": 50}]})
class CustomerMessagesField(serializers.JSONField):
    """A string or a list of strings: what validate_customer below takes, as the schema says it."""


class AlertsAcknowledgeRequestSerializer(ClosedSerializer):
    """`{ids: [...]}` (one alert, a conversation's, any set) or `{all: true, kind}`."""

    ids = serializers.ListField(
        child=StrictIntegerField(min_value=1, max_value=_ID_MAX),
        required=False,
        min_length=1,
        max_length=1000,
        allow_empty=False,
        help_text="Alerts to acknowledge; ids the caller may not see are passed over.",
    )
    all = StrictBooleanField(required=False, help_text="Acknowledge every open alert the caller sees.")
    kind = serializers.ChoiceField(
        choices=Alert.Kind.choices, required=False, help_text="With `all` (or `ids`): only alerts of this kind."
    )
    # Either ids (and `all` left out or false) or `all: true` without ids: validate() below, and the
    # schema says the same, so a body that breaks it is a 400 by the document too.
    schema_constraints: ClassVar[dict[str, Any]] = {
        "oneOf": [
            # allOf: drf-spectacular's enum hook would hoist a bare enum into a component of its own.
            {"required": ["ids"], "properties": {"all": {"allOf": [{"enum": [False]}]}}},
            {"required": ["all"], "properties": {"all": {"allOf": [{"enum": [True]}]}}, "not": {"required": ["ids"]}},
        ]
    }

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        has_ids, every = "ids" in attrs, attrs.get("all") is True
        if has_ids == every:
            raise serializers.ValidationError(
                {"non_field_errors": ["Send either `ids` (a non-empty list) or `all: true`, not both."]}
            )
        return attrs


class AlertsAcknowledgeResponseSerializer(serializers.Serializer):
    acknowledged = serializers.IntegerField(help_text="How many alerts this request acknowledged.")
    ids = serializers.ListField(child=serializers.IntegerField(), help_text="Their ids.")
    acknowledged_at = serializers.DateTimeField(allow_null=True)


class ToneCheckRequestSerializer(serializers.Serializer):
    customer = CustomerMessagesField(
        required=False,
        help_text="The customer's message, or a list of their messages (oldest first) the reply answers.",
    )
    reply = StrictCharField(allow_blank=False, trim_whitespace=False, max_length=4096)
    conversation = StrictIntegerField(
        required=False,
        min_value=1,
        help_text="The conversation the reply is for (of the caller's shop): its customer's name fills the suggestion.",
    )

    def validate_customer(self, value: Any) -> list[str]:
        if isinstance(value, str):
            return [value]
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            if len(value) > 50:
                raise serializers.ValidationError("At most 50 customer messages.")
            return list(value)
        raise serializers.ValidationError("customer must be a string or a list of strings.")


class ToneCheckResponseSerializer(serializers.Serializer):
    terse = serializers.BooleanField()
    score = serializers.FloatField()
    reasons = serializers.ListField(child=serializers.CharField(), help_text="In the request's language.")
    codes = serializers.ListField(child=serializers.CharField(), help_text="Stable reason codes, one per reason.")
    suggestion = serializers.CharField(
        allow_blank=True,
        help_text="A warmer reply in the customer's language; `[[...]]` marks what the admin must fill in.",
    )
    unfilled_fields = serializers.ListField(
        child=serializers.CharField(),
        help_text="The suggestion's unfilled fields, in order: a reply that still holds one is refused.",
    )


_ROUTES = ["in_page", "browser", "web_push", "email_digest"]


class QuietHoursSerializer(serializers.Serializer):
    start = serializers.CharField(help_text="HH:MM in the shop's time zone.")
    end = serializers.CharField(help_text="HH:MM; before start means the quiet hours span midnight.")


class NotificationPreferencesSerializer(serializers.Serializer):
    """`GET /api/v1/me/notifications/`: the caller's own preferences (their role's defaults until changed)."""

    kinds = serializers.DictField(
        child=serializers.ListField(child=serializers.ChoiceField(choices=_ROUTES)),
        help_text="Alert kind -> routes it takes: in_page, browser, web_push, email_digest.",
    )
    quiet_hours = QuietHoursSerializer(allow_null=True, help_text="No browser notification or Web Push inside.")
    digest_interval_minutes = serializers.IntegerField(help_text="Minutes between e-mail digests (15-1440).")
    timezone = serializers.CharField(read_only=True, help_text="The shop's time zone, in which quiet hours count.")
    quiet_now = serializers.BooleanField(read_only=True)
    defaults = serializers.BooleanField(read_only=True, help_text="True while the role's defaults apply.")


# The bodies below document what monitoring.services.notifications checks (the one validator, shared
# with the settings page's form): the same patterns, bounds and closed objects.


def _hh_mm(help_text: str) -> StrictCharField:
    return StrictCharField(validators=[RegexValidator(HH_MM, "HH:MM")], help_text=help_text)


class QuietHoursPatchSerializer(ClosedSerializer):
    """Both times; equal times are refused (422): null means no quiet hours."""

    start = _hh_mm("HH:MM in the shop's time zone.")
    end = _hh_mm("HH:MM; before start means the quiet hours span midnight.")


@extend_schema_field(
    {
        "type": "object",
        "properties": {
            kind: {"type": "array", "items": {"type": "string", "enum": _ROUTES}} for kind in Alert.Kind.values
        },
        "additionalProperties": False,
    }
)
class KindRoutesField(serializers.JSONField):
    """Alert kind -> the routes it takes; kinds left out keep theirs."""


class NotificationPreferencesPatchSerializer(ClosedSerializer):
    """The PATCH body (every field optional; kinds left out keep their routes); checked by the service."""

    kinds = KindRoutesField(required=False, help_text="Alert kind -> routes: in_page, browser, web_push, email_digest.")
    quiet_hours = QuietHoursPatchSerializer(required=False, allow_null=True)
    digest_interval_minutes = StrictIntegerField(
        required=False, min_value=DIGEST_MINUTES_RANGE[0], max_value=DIGEST_MINUTES_RANGE[1]
    )


def _push_key(name: str, help_text: str) -> StrictCharField:
    pattern = b64url_pattern(PUSH_KEY_BYTES[name])
    return StrictCharField(validators=[RegexValidator(pattern, "base64url")], help_text=help_text)


class PushKeysSerializer(serializers.Serializer):
    p256dh = _push_key("p256dh", "The browser's P-256 public key, base64url (65 bytes).")
    auth = _push_key("auth", "The browser's auth secret, base64url (16 bytes).")


class PushSubscriptionSerializer(serializers.Serializer):
    """A browser's PushSubscription.toJSON()."""

    endpoint = StrictCharField(
        max_length=PUSH_ENDPOINT_MAX,
        validators=[RegexValidator(PUSH_ENDPOINT_HTTPS, "https URL")],
        help_text="The push service's https URL.",
    )
    keys = PushKeysSerializer()


class PushSubscriptionDeleteSerializer(ClosedSerializer):
    endpoint = StrictCharField(max_length=PUSH_ENDPOINT_MAX, help_text="The endpoint given when subscribing.")


class PushSubscriptionCreatedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    endpoint = serializers.CharField()
    vapid_public_key = serializers.CharField()


class AlertFeedbackRequestSerializer(serializers.Serializer):
    verdict = serializers.ChoiceField(choices=["terse", "not_terse"])

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise serializers.ValidationError({"verdict": ['Send {"verdict": "terse" | "not_terse"}.']})
        return super().to_internal_value(data)


class AlertFeedbackSerializer(serializers.Serializer):
    alert_id = serializers.IntegerField()
    verdict = serializers.CharField()
    member_id = serializers.IntegerField()
    created_at = serializers.DateTimeField()


__all__ = [
    "AlertFeedbackRequestSerializer",
    "AlertFeedbackSerializer",
    "AlertSerializer",
    "AlertsAcknowledgeRequestSerializer",
    "AlertsAcknowledgeResponseSerializer",
    "NotificationPreferencesPatchSerializer",
    "NotificationPreferencesSerializer",
    "PolicyPatchSerializer",
    "PolicySerializer",
    "PushSubscriptionCreatedSerializer",
    "PushSubscriptionDeleteSerializer",
    "PushSubscriptionSerializer",
    "ToneCheckRequestSerializer",
    "ToneCheckResponseSerializer",
]
