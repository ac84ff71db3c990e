"""Shops, their members and channels, and the customers, conversations and messages they carry.

Models hold data and constraints only; every write goes through `inbox.services`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Case, DateTimeField, F, OrderBy, Q, When
from django.utils.translation import gettext_lazy as _

from inbox.crypto import EncryptedJSONField


class Platform(models.TextChoices):
    WHATSAPP = "whatsapp", "WhatsApp"
    INSTAGRAM = "instagram", "Instagram"
    MESSENGER = "messenger", "Messenger"
    SHOPEE = "shopee", "Shopee"
    TIKTOKSHOP = "tiktokshop", "TikTok Shop"
    API = "api", "API"


class Shop(models.Model):
    name = models.CharField(max_length=200)
    timezone = models.CharField(max_length=64, default="Asia/Jakarta")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Member(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", _("Pemilik")
        ADMIN = "admin", _("Admin")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="members")
    # One login belongs to one shop: it keeps every query's tenant unambiguous.
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="member")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.ADMIN)
    # sha256 of the API token; the token itself is shown once and never stored.
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["shop", "role"])]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.role})"

    @property
    def display_name(self) -> str:
        user = self.user
        full = user.get_full_name() if hasattr(user, "get_full_name") else ""
        return full or user.get_username()

    @property
    def is_owner(self) -> bool:
        return self.role == self.Role.OWNER


class Channel(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="channels")
    platform = models.CharField(max_length=16, choices=Platform.choices)
    name = models.CharField(max_length=200)
    # The platform's id of the connected account (phone_number_id, IG id, page id, shop_id).
    account_id = models.CharField(max_length=128)
    # Write-only, encrypted at rest; never serialized or logged.
    secrets: Any = EncryptedJSONField(default=dict, blank=True)
    # For `api` channels: sha256 of the push token.
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["platform", "account_id"], name="channel_platform_account_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_platform_display()}: {self.name}"

    @property
    def webhook_url(self) -> str:
        base = settings.BALAS_PUBLIC_URL.rstrip("/")
        if self.platform == Platform.API:
            return f"{base}/api/v1/channels/{self.pk}/messages/"
        return f"{base}/webhooks/{self.platform}/"


class Contact(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="contacts")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="contacts")
    # The customer's id on the platform (wa_id, IGSID, PSID, Shopee user id, TikTok im_user_id).
    external_id = models.CharField(max_length=128)
    name = models.CharField(max_length=200, blank=True)
    # The profile picture's URL from the platform's user-profile API (Instagram, Messenger).
    avatar_url = models.URLField(max_length=2000, blank=True)
    # Platform extras worth keeping (username, WhatsApp BSUID, ...).
    extra = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"], name="contact_channel_external_unique"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """The name to show: the customer's own, or a readable placeholder (`contact_placeholder_name`).

        Reads the contact's channel: callers showing many contacts load it with them (select_related).
        """
        return self.name or contact_placeholder_name(platform=self.channel.platform, external_id=self.external_id)


def contact_placeholder_name(*, platform: str, external_id: str) -> str:
    """What the inbox, the API and alerts call a customer whose name Balas does not know (yet).

    Instagram and Messenger send only 16-digit page-scoped ids, which mean nothing to an admin, until
    the profile fetch brings the name: "Pelanggan Instagram ·4429" (the platform and the id's last
    four digits, enough to tell two such customers apart). A WhatsApp id is the customer's phone
    number, which is readable as it is. The one home of this rule.
    """
    if platform == Platform.WHATSAPP and external_id:
        return f"+{external_id.lstrip('+')}"
    label = Platform(platform).label if platform in Platform.values else platform
    return _("Pelanggan %(platform)s ·%(last4)s") % {"platform": label, "last4": external_id[-4:]}


class ConversationQuerySet(models.QuerySet["Conversation"]):
    """`Conversation.objects`. The one statement of "waiting": a wait has started (`waiting_since`)
    and the conversation is open. A chat closed mid-wait keeps its waiting_since (the customer's
    next message reopens it and the same wait goes on) but waits for nobody meanwhile.
    `Conversation.waiting_at` is the same rule for one row in Python.
    """

    @staticmethod
    def _waiting() -> Q:
        return Q(waiting_since__isnull=False, status=Conversation.Status.OPEN)

    def waiting(self) -> ConversationQuerySet:
        """The conversations whose customer waits for the shop right now."""
        return self.filter(self._waiting())

    def order_by_wait(self, *then: str | OrderBy) -> ConversationQuerySet:
        """Waiting ones first, the longest wait on top; the others after them, ordered by `then`."""
        waiting_at = Case(When(self._waiting(), then=F("waiting_since")), default=None, output_field=DateTimeField())
        return self.order_by(waiting_at.asc(nulls_last=True), *then)


class Conversation(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Terbuka")
        CLOSED = "closed", _("Selesai")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="conversations")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="conversations")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="conversations")
    # Shopee and TikTok Shop address replies to their conversation id.
    platform_conversation_id = models.CharField(max_length=128, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    assignee = models.ForeignKey(
        Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="assigned_conversations"
    )
    # Set by the first customer message after the shop's last human reply; cleared by that reply.
    waiting_since = models.DateTimeField(null=True, blank=True)
    last_message = models.ForeignKey("Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    last_message_at = models.DateTimeField(null=True, blank=True)
    # The customer's last message time: Meta's 24-hour reply window counts from it.
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    # The shop's last human reply (any source); a customer message before it starts no wait.
    last_reply_at = models.DateTimeField(null=True, blank=True)
    unread_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ConversationQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "contact"], name="conversation_channel_contact_unique"),
        ]
        indexes = [
            models.Index(fields=["shop", "waiting_since"]),
            models.Index(fields=["shop", "-last_message_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.contact} @ {self.channel}"

    @property
    def waiting_at(self) -> datetime | None:
        """Since when the customer waits for the shop, None when nobody waits (see ConversationQuerySet).

        The inbox's markup renders this, and its script reads only that: neither re-derives the rule.
        """
        return self.waiting_since if self.status == self.Status.OPEN else None


class WebhookEvent(models.Model):
    """The raw log of every verified webhook delivery, for audit and replay."""

    class Outcome(models.TextChoices):
        ACCEPTED = "accepted"
        DUPLICATE = "duplicate"
        IGNORED = "ignored"
        FAILED = "failed"

    platform = models.CharField(max_length=16, choices=Platform.choices)
    channel = models.ForeignKey(Channel, on_delete=models.SET_NULL, null=True, blank=True, related_name="events")
    body = models.TextField()
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    detail = models.CharField(max_length=500, blank=True)
    messages_stored = models.PositiveIntegerField(default=0)
    statuses_applied = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["channel", "-received_at"])]

    def __str__(self) -> str:
        return f"{self.platform} event {self.pk} ({self.outcome})"


class Message(models.Model):
    class Direction(models.TextChoices):
        IN = "in", _("Pelanggan")
        OUT = "out", _("Toko")

    class Source(models.TextChoices):
        CUSTOMER = "customer", _("Pelanggan")
        INBOX = "inbox", _("Balas")
        ECHO = "echo", _("Aplikasi platform")
        API = "api", _("API")
        AUTO = "auto", _("Balasan otomatis")

    class Kind(models.TextChoices):
        # The contract's list (second round). A `system` notice (number changed, identity changed)
        # is a thread event: it is never a customer's turn nor a reply.
        TEXT = "text", _("Teks")
        IMAGE = "image", _("Gambar")
        VIDEO = "video", _("Video")
        AUDIO = "audio", _("Audio")
        VOICE = "voice", _("Pesan suara")
        DOCUMENT = "document", _("Dokumen")
        STICKER = "sticker", _("Stiker")
        LOCATION = "location", _("Lokasi")
        CONTACTS = "contacts", _("Kontak")
        ORDER = "order", _("Pesanan")
        PRODUCT = "product", _("Produk")
        INTERACTIVE = "interactive", _("Balasan pilihan")
        POSTBACK = "postback", _("Tombol")
        TEMPLATE = "template", _("Template")
        SYSTEM = "system", _("Pemberitahuan")
        UNSUPPORTED = "unsupported", _("Jenis pesan belum didukung")

    class Status(models.TextChoices):
        RECEIVED = "received", _("Diterima")
        PENDING = "pending", _("Mengirim")
        SENT = "sent", _("Terkirim")
        DELIVERED = "delivered", _("Sampai")
        READ = "read", _("Dibaca")
        FAILED = "failed", _("Gagal")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="messages")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="messages")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    # Null only while a reply typed in Balas waits for the platform to assign its id.
    platform_message_id = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001 - NULL = not yet known
    direction = models.CharField(max_length=3, choices=Direction.choices)
    source = models.CharField(max_length=10, choices=Source.choices)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.TEXT)
    text = models.TextField(blank=True)
    # [{type, url?, media_id?, mime_type?, caption?, ...}]: metadata only, media stays on the platform.
    attachments = models.JSONField(default=list, blank=True)
    # The structured part of `kind` (location, contacts, order items, interactive reply, media, ...).
    content = models.JSONField(default=dict, blank=True)
    # The platform id of the message this one quotes or answers (it may be one Balas never stored).
    reply_to = models.CharField(max_length=255, blank=True)
    # Set by an edit on the platform; `edits` keeps the earlier texts: [{text, at, content?}], oldest first.
    edited_at = models.DateTimeField(null=True, blank=True)
    edits = models.JSONField(default=list, blank=True)
    # Deleted or unsent on the platform: the customer no longer sees it, the shop still does (labelled).
    deleted_at = models.DateTimeField(null=True, blank=True)
    # The current reactions, [{emoji, from: "customer"|"shop", at}], kept from the `Reaction` rows
    # (inbox.services.reactions) so that showing a message never costs a query.
    reactions = models.JSONField(default=list, blank=True)
    # The platform's timestamp of the message (UTC); latency is measured on it.
    sent_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    error = models.CharField(max_length=500, blank=True)
    # Who sent it: the Balas member for inbox replies, a label (sub-account, nickname) otherwise.
    sent_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    sender_label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "platform_message_id"],
                condition=models.Q(platform_message_id__isnull=False),
                name="message_channel_platform_id_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["conversation", "sent_at"]),
            models.Index(fields=["shop", "sent_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.direction}:{self.text[:40]}"

    # Which messages take part in a conversation's turns: the one definition that inbox's summary
    # (waiting_since, unread) and monitoring's waiting periods both build on.

    @property
    def is_customer_turn(self) -> bool:
        return is_customer_turn(direction=self.direction, kind=self.kind)

    @property
    def is_human_reply(self) -> bool:
        return is_human_reply(direction=self.direction, source=self.source, status=self.status, kind=self.kind)

    @staticmethod
    def customer_turn_q() -> models.Q:
        """`is_customer_turn` as a query condition."""
        return models.Q(direction=Message.Direction.IN) & ~models.Q(kind__in=NOT_TURN_KINDS)

    @staticmethod
    def human_reply_q() -> models.Q:
        """`is_human_reply` as a query condition."""
        return (
            models.Q(direction=Message.Direction.OUT)
            & ~models.Q(source=Message.Source.AUTO)
            & ~models.Q(status__in=UNSENT_STATUSES)
            & ~models.Q(kind__in=NOT_TURN_KINDS)
        )


# Not yet (or never) delivered to the customer: such a reply answers nobody.
UNSENT_STATUSES = (Message.Status.PENDING, Message.Status.FAILED)
# Thread events that neither side wrote (a changed number, a changed identity): never a turn.
NOT_TURN_KINDS = (Message.Kind.SYSTEM,)


def is_customer_turn(*, direction: str, kind: str) -> bool:
    """A customer's message the shop owes an answer to (a system notice is nobody's message)."""
    return direction == Message.Direction.IN and kind not in NOT_TURN_KINDS


def is_human_reply(*, direction: str, source: str, status: str, kind: str) -> bool:
    """An answer from a person (typed in Balas, the platform's app, or an API client), delivered or on
    its way: platform auto-replies never count, nor a reply still pending or failed, nor a system notice."""
    return (
        direction == Message.Direction.OUT
        and source != Message.Source.AUTO
        and status not in UNSENT_STATUSES
        and kind not in NOT_TURN_KINDS
    )


class Reaction(models.Model):
    """One reactor's current reaction to a message (a later one replaces it, an empty one removes it).

    Never a message: it changes no unread count, no conversation summary and no waiting period.
    """

    class From(models.TextChoices):
        CUSTOMER = "customer", _("Pelanggan")
        SHOP = "shop", _("Toko")

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reaction_rows")
    reactor = models.CharField(max_length=10, choices=From.choices)
    emoji = models.CharField(max_length=32)
    # The platform's time of the reaction (or, for the shop's own from Balas, when it was sent).
    reacted_at = models.DateTimeField()
    # The Balas member who reacted from the inbox (null for the customer and the platform's app).
    member = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message", "reactor"], name="reaction_message_reactor_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.reactor}:{self.emoji}"

    def as_dict(self) -> dict[str, Any]:
        return {"emoji": self.emoji, "from": self.reactor, "at": self.reacted_at.isoformat()}


class QuickReply(models.Model):
    """A canned reply; `{nama}` is replaced with the customer's name when inserted."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="quick_replies")
    shortcut = models.SlugField(max_length=40)
    text = models.TextField()
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "shortcut"], name="quickreply_shop_shortcut_unique"),
        ]

    def __str__(self) -> str:
        return f"/{self.shortcut}"
