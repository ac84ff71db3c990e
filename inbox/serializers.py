"""Shapes of shops' data for the API and live events. No business logic here."""

from __future__ import annotations

from rest_framework import serializers

from inbox.models import Channel, Contact, Conversation, Member, Message


class ContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", "external_id", "name"]


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
            "attachments",
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
        fields = ["id", "direction", "source", "kind", "text", "sent_at", "status"]


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
