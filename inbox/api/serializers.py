"""Request and response shapes of the REST API. Validation of shape only; rules live in services."""

from __future__ import annotations

from django.core.validators import RegexValidator
from rest_framework import serializers

from inbox.api.extensions import message_fields
from inbox.api.fields import AtLeastOneFieldSerializer, StrictCharField, StrictIntegerField, StrictQuerySerializer
from inbox.models import Channel, Conversation, Message, Platform
from inbox.serializers import ConversationEventSerializer, MessageSerializer

# Ids are bigint; 18 digits keep any id the query can carry below 2**63.
_ID_MAX = 2**63 - 1


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
    name = StrictCharField(max_length=200)
    account_id = StrictCharField(
        max_length=128,
        required=False,
        allow_blank=True,
        default="",
        help_text="The platform's account id (phone_number_id, IG id, page id, shop_id); optional for `api`.",
    )
    secrets = serializers.DictField(
        child=StrictCharField(allow_blank=True, trim_whitespace=False),
        required=False,
        default=dict,
        write_only=True,
        help_text="Write-only. whatsapp/instagram: app_secret, verify_token, access_token; messenger: the same "
        "plus app_id; shopee: partner_id, partner_key, access_token, callback_url; tiktokshop: app_key, "
        "app_secret, access_token, shop_cipher; api: none.",
    )


class PushContactSerializer(serializers.Serializer):
    id = StrictCharField(max_length=128, help_text="The customer's id in your system.")
    name = StrictCharField(max_length=200, required=False, allow_blank=True, default="")


class ChannelMessagePushSerializer(serializers.Serializer):
    external_id = StrictCharField(max_length=255, help_text="Your id of this message; a repeat is a duplicate.")
    contact = PushContactSerializer()
    direction = serializers.ChoiceField(choices=Message.Direction.choices)
    text = StrictCharField(max_length=65536, trim_whitespace=False)
    sent_at = serializers.DateTimeField()


class MessageDetailSerializer(MessageSerializer):
    """A message as the messages endpoint shows it: who sent it, and the fields other apps add
    (inbox.api.extensions; monitoring adds the reply's measured latency and tone)."""

    sent_by: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta(MessageSerializer.Meta):
        fields = [*MessageSerializer.Meta.fields, "sent_by"]

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields.update(message_fields())
        return fields


class ConversationSerializer(ConversationEventSerializer):
    class Meta(ConversationEventSerializer.Meta):
        fields = [*ConversationEventSerializer.Meta.fields, "last_inbound_at", "last_reply_at", "created_at"]


class ConversationListQuerySerializer(StrictQuerySerializer):
    """The list's query parameters, as validated and as the schema documents them."""

    status = serializers.ChoiceField(choices=["waiting", "open", "closed", "all"], default="all")
    channel = serializers.IntegerField(required=False, min_value=1, max_value=_ID_MAX, help_text="A channel id.")
    assignee = serializers.CharField(
        required=False,
        validators=[RegexValidator(r"^(me|none|[1-9][0-9]{0,17})$", 'must be a member id, "me" or "none"')],
        help_text='A member id, "me" or "none" (unassigned).',
    )


class ConversationPatchSerializer(AtLeastOneFieldSerializer):
    """Assign, close or reopen: at least one of the fields."""

    assignee = StrictIntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=_ID_MAX,
        help_text="A member id of the shop, or null for nobody.",
    )
    status = serializers.ChoiceField(choices=Conversation.Status.choices, required=False)


class ReplyCreateSerializer(serializers.Serializer):
    # Blank or too long text is the reply rules' call (422 with the reason), not a shape error.
    text = StrictCharField(allow_blank=True, trim_whitespace=False)


class ReactionCreateSerializer(serializers.Serializer):
    # The length is counted as sent (the service strips the white space), so maxLength is exact.
    emoji = StrictCharField(
        allow_blank=True,
        trim_whitespace=False,
        max_length=32,
        help_text='One emoji, e.g. "👍"; "" removes the shop\'s reaction.',
    )


class ErrorSerializer(serializers.Serializer):
    error = serializers.CharField()


class ReplyFailedSerializer(serializers.Serializer):
    error = serializers.CharField(help_text="The platform's reason.")
    message = MessageDetailSerializer()
