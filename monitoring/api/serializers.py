"""Shapes of the monitoring API. Validation of the policy lives in the service (one source for
the API and the settings page); these serializers describe and render."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from monitoring.models import Alert, ShopPolicy


class PolicySerializer(serializers.ModelSerializer):
    business_hours = serializers.DictField(
        child=serializers.ListField(child=serializers.ListField(child=serializers.CharField(), min_length=2)),
        help_text='Weekday keys mon..sun, each a list of ["HH:MM", "HH:MM"] ranges in local time; '
        '"24:00" may end a range; a missing or empty day is closed.',
    )

    class Meta:
        model = ShopPolicy
        fields = ["first_reply_target_s", "reply_target_s", "timezone", "business_hours"]
        extra_kwargs = {
            "first_reply_target_s": {"help_text": "Seconds of business time for the first reply of a conversation."},
            "reply_target_s": {"help_text": "Seconds of business time for later replies."},
            "timezone": {"help_text": "IANA time zone, e.g. Asia/Jakarta."},
        }


class PolicyPatchSerializer(serializers.Serializer):
    """The PATCH body (every field optional); documented for the schema, checked by the service."""

    first_reply_target_s = serializers.IntegerField(required=False, min_value=1)
    reply_target_s = serializers.IntegerField(required=False, min_value=1)
    timezone = serializers.CharField(required=False)
    business_hours = serializers.DictField(
        required=False,
        child=serializers.ListField(child=serializers.ListField(child=serializers.CharField(), min_length=2)),
    )


class AlertSerializer(serializers.ModelSerializer):
    conversation_id = serializers.IntegerField(read_only=True)
    assignee_id = serializers.IntegerField(read_only=True, allow_null=True)
    member_id = serializers.IntegerField(read_only=True, allow_null=True)
    acknowledged_by_id = serializers.IntegerField(read_only=True, allow_null=True)
    contact_name = serializers.SerializerMethodField()
    reasons = serializers.ListField(child=serializers.CharField(), read_only=True)

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
        ]
        read_only_fields = fields

    def get_contact_name(self, obj: Alert) -> str:
        contact = obj.conversation.contact
        return contact.name or contact.external_id


class AlertsAcknowledgeRequestSerializer(serializers.Serializer):
    """`{ids: [...]}` (one alert, a conversation's, any set) or `{all: true, kind}`."""

    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=1000,
        allow_empty=False,
        help_text="Alerts to acknowledge; ids the caller may not see are passed over.",
    )
    all = serializers.BooleanField(required=False, help_text="Acknowledge every open alert the caller sees.")
    kind = serializers.ChoiceField(
        choices=Alert.Kind.choices, required=False, help_text="With `all` (or `ids`): only alerts of this kind."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(self.initial_data) - set(self.fields)) if isinstance(self.initial_data, dict) else []
        if unknown:
            raise serializers.ValidationError({"non_field_errors": [f"Unknown field(s): {', '.join(unknown)}."]})
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
    customer = serializers.JSONField(
        required=False,
        help_text="The customer's message, or a list of their messages (oldest first) the reply answers.",
    )
    reply = serializers.CharField(allow_blank=False, trim_whitespace=False, max_length=4096)

    def validate_customer(self, value: Any) -> list[str]:
        if value is None:
            return []
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
    reasons = serializers.ListField(child=serializers.CharField())
    suggestion = serializers.CharField(allow_blank=True)


__all__ = [
    "AlertSerializer",
    "AlertsAcknowledgeRequestSerializer",
    "AlertsAcknowledgeResponseSerializer",
    "PolicyPatchSerializer",
    "PolicySerializer",
    "ToneCheckRequestSerializer",
    "ToneCheckResponseSerializer",
]
