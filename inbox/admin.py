from django.contrib import admin

from inbox.models import Channel, Contact, Conversation, Member, Message, QuickReply, Shop, WebhookEvent


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "timezone", "created_at"]


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "shop", "role"]
    list_filter = ["role"]
    exclude = ["token_hash"]


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ["id", "shop", "platform", "name", "account_id", "is_active"]
    list_filter = ["platform"]
    # Secrets are write-only everywhere, the admin included.
    exclude = ["secrets", "token_hash"]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["id", "shop", "channel", "external_id", "name"]


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["id", "shop", "channel", "contact", "status", "waiting_since", "assignee"]
    raw_id_fields = ["contact", "last_message", "assignee"]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["id", "shop", "channel", "direction", "source", "kind", "sent_at", "status"]
    list_filter = ["direction", "source", "status"]
    raw_id_fields = ["conversation", "sent_by"]


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["id", "platform", "channel", "outcome", "messages_stored", "received_at"]
    list_filter = ["platform", "outcome"]


@admin.register(QuickReply)
class QuickReplyAdmin(admin.ModelAdmin):
    list_display = ["id", "shop", "shortcut", "position"]
