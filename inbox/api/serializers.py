"""Request and response shapes of the REST API. Validation of shape only; rules live in services."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from inbox.models import Channel, Conversation, Message, Platform
from inbox.serializers import ConversationEventSerializer, MessageSerializer


class ChannelSerializer(serializers.ModelSerializer):
    """A channel as members see it: never its secrets."""

    webhook_url = serializers.CharField(read_only=True)

    class Meta:
        model = Channel
        fields = ["id", "platform", "name", "account_id", "webhook_url", "is_active", "created_at"]
        read_only_fields = fields


class ChannelCreatedSerializer(ChannelSerializer):
    token = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="Only for `api` channels, shown once: `Authorization: Token <token>` for pushing messages.",
    )

    class Meta(ChannelSerializer.Meta):
        fields = [*ChannelSerializer.Meta.fields, "token"]
        read_only_fields = fields


class ChannelCreateSerializer(serializers.Serializer):
    platform = serializers.ChoiceField(choices=Platform.choices)
    name = serializers.CharField(max_length=200)
    account_id = serializers.CharField(
        max_length=128,
        required=False,
        allow_blank=True,
        default="",
        help_text="The platform's account id (phone_number_id, IG id, page id, shop_id); optional for `api`.",
    )
    secrets = serializers.DictField(
        required=False,
        default=dict,
        write_only=True,
        help_text="Write-only. whatsapp/instagram: app_secret, verify_token, access_token; messenger: the same "
        "plus app_id; shopee: partner_id, partner_key, access_token, callback_url; tiktokshop: app_key, "
        "app_secret, access_token, shop_cipher; api: none.",
    )


class PushContactSerializer(serializers.Serializer):
    id = serializers.CharField(max_length=128, help_text="The customer's id in your system.")
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class ChannelMessagePushSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=255, help_text="Your id of this message; a repeat is a duplicate.")
    contact = PushContactSerializer()
    direction = serializers.ChoiceField(choices=Message.Direction.choices)
    text = serializers.CharField(max_length=65536, trim_whitespace=False)
    sent_at = serializers.DateTimeField()


class TerseSerializer(serializers.Serializer):
    flag = serializers.BooleanField()
    score = serializers.FloatField(allow_null=True)
    reasons = serializers.ListField(child=serializers.CharField())


class MessageDetailSerializer(MessageSerializer):
    """A message with its reply measurement (null until the monitoring workers measured it)."""

    sent_by: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    response_seconds = serializers.SerializerMethodField()
    response_business_seconds = serializers.SerializerMethodField()
    terse = serializers.SerializerMethodField()

    class Meta(MessageSerializer.Meta):
        fields = [
            *MessageSerializer.Meta.fields,
            "sent_by",
            "response_seconds",
            "response_business_seconds",
            "terse",
        ]

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_response_seconds(self, obj: Message) -> float | None:
        return _number(getattr(_measurement(obj), "response_seconds", None))

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_response_business_seconds(self, obj: Message) -> float | None:
        return _number(getattr(_measurement(obj), "response_business_seconds", None))

    @extend_schema_field(TerseSerializer(allow_null=True))
    def get_terse(self, obj: Message) -> dict[str, Any] | None:
        measurement = _measurement(obj)
        if measurement is None:
            return None
        flag = getattr(measurement, "terse", None)
        if flag is None:
            return None  # measured latency, tone not judged yet
        reasons = getattr(measurement, "terse_reasons", None) or []
        return {
            "flag": bool(flag),
            "score": _number(getattr(measurement, "terse_score", None)),
            "reasons": [str(r) for r in reasons] if isinstance(reasons, list | tuple) else [str(reasons)],
        }


def _measurement(obj: Message) -> Any:
    # The monitoring app's ReplyMeasurement may not exist yet (or not for this message).
    if obj.direction != Message.Direction.OUT:
        return None
    try:
        return obj.measurement  # type: ignore[attr-defined]
    except (ObjectDoesNotExist, AttributeError):
        return None


def _number(value: Any) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class ConversationSerializer(ConversationEventSerializer):
    class Meta(ConversationEventSerializer.Meta):
        fields = [*ConversationEventSerializer.Meta.fields, "last_inbound_at", "last_reply_at", "created_at"]


class ConversationPatchSerializer(serializers.Serializer):
    assignee = serializers.IntegerField(
        required=False, allow_null=True, help_text="A member id of the shop, or null for nobody."
    )
    status = serializers.ChoiceField(choices=Conversation.Status.choices, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError("Send at least one of: assignee, status.")
        return attrs


class ReplyCreateSerializer(serializers.Serializer):
    # Blank or too long text is the reply rules' call (422 with the reason), not a shape error.
    text = serializers.CharField(allow_blank=True, trim_whitespace=False)


class ErrorSerializer(serializers.Serializer):
    error = serializers.CharField()


class ReplyFailedSerializer(serializers.Serializer):
    error = serializers.CharField(help_text="The platform's reason.")
    message = MessageDetailSerializer()
