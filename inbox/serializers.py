"""Shapes of shops' data for the API and live events. No business logic here."""

from __future__ import annotations

from rest_framework import serializers

from inbox.models import Channel, Contact, Conversation, Member, Message


class ContactSerializer(serializers.ModelSerializer):
    # `name` is what the platform or an admin gave ("" until the profile fetch brings it);
    # `display_name` is always readable ("Pelanggan Instagram ·4429"): inbox.models.contact_placeholder_name.
    display_name = serializers.SerializerMethodField()

    class Meta:
        model = Contact
        fields = ["id", "external_id", "name", "display_name", "avatar_url"]

    def get_display_name(self, obj: Contact) -> str:
        return obj.display_name


class ChannelSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Channel
        fields = ["id", "platform", "name"]


class MessageSerializer(serializers.ModelSerializer):
    sender = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = [
            "id",
            "conversation",
            "platform_message_id",
            "direction",
            "source",
            "kind",
            "text",
            "content",
            "attachments",
            "reply_to",
            "reactions",
            "edited_at",
            "edits",
            "deleted_at",
            "sent_at",
            "status",
            "error",
            "sender",
        ]

    def get_sender(self, obj: Message) -> str:
        if obj.sent_by_id is not None and obj.sent_by is not None:
            return obj.sent_by.display_name
        return obj.sender_label


class LastMessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Message
        fields = ["id", "direction", "source", "kind", "text", "sent_at", "status", "deleted_at"]


class ConversationEventSerializer(serializers.ModelSerializer):
    """The conversation as live events and the list show it."""

    channel = ChannelSummarySerializer(read_only=True)
    contact = ContactSerializer(read_only=True)
    last_message = LastMessageSerializer(read_only=True, allow_null=True)
    assignee: serializers.PrimaryKeyRelatedField[Member] = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True
    )

    class Meta:
        model = Conversation
        fields = [
            "id",
            "channel",
            "contact",
            "status",
            "assignee",
            "waiting_since",
            "unread_count",
            "last_message",
            "last_message_at",
        ]
