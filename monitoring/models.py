"""Waiting periods, reply measurements, SLA policy and alerts.

Models hold data and constraints only; every write goes through `monitoring.services`.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inbox.models import Channel, Conversation, Member, Message, Shop
from monitoring.business_hours import default_business_hours


class ShopPolicy(models.Model):
    """A shop's reply targets and opening hours; created with defaults the first time it is needed."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="policy")
    first_reply_target_s = models.PositiveIntegerField(default=300)
    reply_target_s = models.PositiveIntegerField(default=600)
    timezone = models.CharField(max_length=64, default="Asia/Jakarta")
    # {"mon": [["08:00", "21:00"]], ..., "sun": []} in the shop's local time.
    business_hours = models.JSONField(default=default_business_hours)
    # Alert e-mail throttle: when the last e-mail went out, and the window end a summary is queued for.
    last_alert_email_at = models.DateTimeField(null=True, blank=True)
    alert_email_scheduled_for = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("kebijakan balasan")
        verbose_name_plural = _("kebijakan balasan")

    def __str__(self) -> str:
        return f"policy of shop {self.shop_id}"


class WaitingPeriod(models.Model):
    """From a burst's first customer message to the human reply that answers it."""

    class Kind(models.TextChoices):
        FIRST = "first", _("Balasan pertama")
        REPLY = "reply", _("Balasan")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="waiting_periods")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="waiting_periods")
    first_message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    # The platform's timestamp of the burst's first customer message.
    started_at = models.DateTimeField()
    target_seconds = models.PositiveIntegerField()
    deadline_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    reply = models.ForeignKey(Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    response_seconds = models.FloatField(null=True, blank=True)
    response_business_seconds = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversation"],
                condition=Q(ended_at__isnull=True),
                name="waitingperiod_one_open_per_conversation",
            ),
        ]
        indexes = [
            models.Index(fields=["conversation", "started_at"]),
            # The sweep's "open and past its deadline" scan touches only open rows.
            models.Index(
                fields=["deadline_at"], condition=Q(ended_at__isnull=True), name="waitingperiod_open_deadline"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} wait in conversation {self.conversation_id} from {self.started_at:%Y-%m-%d %H:%M:%S}"


class ConversationWait(models.Model):
    """Monitoring's state of one conversation: the open waiting period's start, the latest human reply
    it has counted.

    Written under the conversation row's lock (monitoring.services.periods.waiting_periods_update),
    and read under it by the in-order statement (monitoring.services.waiting), which opens a period
    or joins the open one without a measuring task; what it cannot decide goes to the task.
    """

    conversation = models.OneToOneField(Conversation, on_delete=models.CASCADE, primary_key=True, related_name="wait")
    open_period_since = models.DateTimeField(null=True, blank=True)
    measured_reply_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"wait of conversation {self.conversation_id}"


class ReplyMeasurement(models.Model):
    """The latency (and tone) of one human reply that ended a waiting period."""

    # No database constraint and no cascade: when inbox deletes a message (a duplicate merged into
    # another row), the measurement stays until monitoring, told after the commit, takes it out of
    # the rollups too (monitoring.receivers); a cascade would bypass them.
    message = models.OneToOneField(
        Message, on_delete=models.DO_NOTHING, db_constraint=False, related_name="measurement"
    )
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="reply_measurements")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="reply_measurements")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="reply_measurements")
    waiting_period = models.ForeignKey(
        WaitingPeriod, on_delete=models.SET_NULL, null=True, blank=True, related_name="measurements"
    )
    # The Balas member who sent it; null for echo (platform app) and API replies.
    member = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    source = models.CharField(max_length=10, choices=Message.Source.choices)
    kind = models.CharField(max_length=8, choices=WaitingPeriod.Kind.choices)
    started_at = models.DateTimeField()
    replied_at = models.DateTimeField()
    response_seconds = models.FloatField()
    response_business_seconds = models.FloatField()
    target_seconds = models.PositiveIntegerField()
    sla_met = models.BooleanField()
    terse = models.BooleanField(null=True, blank=True)
    terse_score = models.FloatField(null=True, blank=True)
    terse_reasons = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            # Index-only scan for the exact grouped statistics (monitoring.reports): every column read.
            models.Index(
                fields=["shop", "replied_at"],
                name="replymeasurement_report",
                include=["member", "channel", "response_seconds", "response_business_seconds", "sla_met", "terse"],
            ),
            models.Index(fields=["shop", "member", "replied_at"]),
            models.Index(fields=["shop", "channel", "replied_at"]),
            # "Slowest replies" of a period: walk from the slowest and stop after the first 10 in the period.
            models.Index(fields=["shop", "-response_seconds"], name="replymeasurement_slowest"),
            models.Index(fields=["shop", "-terse_score"], condition=Q(terse=True), name="replymeasurement_tersest"),
        ]

    def __str__(self) -> str:
        return f"reply {self.message_id}: {self.response_seconds:.0f}s"


class ReplyRollupState(models.Model):
    """A shop's rollups exist and were built in this time zone (their days and hours are local ones).

    Reports trust the rollups only when this time zone is the report's; writers read it under a share
    lock and a rebuild takes it exclusively, so no delta is computed in a time zone being replaced.
    """

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, primary_key=True, related_name="+")
    timezone = models.CharField(max_length=64)
    rebuilt_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"rollups of shop {self.shop_id} in {self.timezone}"


class _ReplyRollup(models.Model):
    """Counters and log-scale histograms of a set of reply measurements (see monitoring.rollups).

    `wall_hist` / `business_hist`: bucket counts as little-endian uint32, bucket 0 first, trailing
    empty buckets left out; read as one integer they add up field by field.
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()  # local day in the ReplyRollupState time zone
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    count = models.PositiveIntegerField(default=0)
    sum_seconds = models.FloatField(default=0.0)
    sum_business_seconds = models.FloatField(default=0.0)
    sla_met = models.PositiveIntegerField(default=0)
    terse = models.PositiveIntegerField(default=0)
    judged = models.PositiveIntegerField(default=0)
    wall_hist = models.BinaryField(default=b"")
    business_hist = models.BinaryField(default=b"")

    class Meta:
        abstract = True


class ReplyRollupDay(_ReplyRollup):
    """Per shop, local day, member and channel: member, channel, day and total figures of a period."""

    # No database constraint: a deleted member's rows keep its id and reports count them as "no member",
    # as the measurements (member SET_NULL) do.
    member = models.ForeignKey(
        Member, on_delete=models.DO_NOTHING, db_constraint=False, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "day", "member", "channel"], nulls_distinct=False, name="replyrollupday_key"
            ),
        ]

    def __str__(self) -> str:
        return f"rollup {self.shop_id} {self.day} member={self.member_id} channel={self.channel_id}: {self.count}"


class ReplyRollupHour(_ReplyRollup):
    """Per shop, local day, local hour and channel: the replies-per-hour-of-day figures."""

    hour = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "day", "hour", "channel"], name="replyrolluphour_key"),
        ]

    def __str__(self) -> str:
        return f"rollup {self.shop_id} {self.day} {self.hour:02d}h channel={self.channel_id}: {self.count}"


class Alert(models.Model):
    class Kind(models.TextChoices):
        SLOW_FIRST_REPLY = "slow_first_reply", _("Balasan pertama lambat")
        SLOW_REPLY = "slow_reply", _("Balasan lambat")
        TERSE_REPLY = "terse_reply", _("Balasan ketus")

    class State(models.TextChoices):
        OPEN = "open", _("Terbuka")
        ACKNOWLEDGED = "acknowledged", _("Dilihat")
        RESOLVED = "resolved", _("Selesai")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="alerts")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="alerts")
    waiting_period = models.ForeignKey(
        WaitingPeriod, on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    # The conversation's assignee when the alert was raised (who should have answered).
    assignee = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # Terse alerts: the member whose replies were curt (null for replies from the platform's app).
    member = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # Terse alerts: the latest curt reply, and every reply grouped into this alert.
    message = models.ForeignKey(Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    message_ids = models.JSONField(default=list, blank=True)
    count = models.PositiveIntegerField(default=1)
    title = models.CharField(max_length=200)
    detail = models.TextField(blank=True)
    reasons = models.JSONField(default=list, blank=True)
    suggestion = models.TextField(blank=True)
    # Slow alerts: the wait so far when raised, the real latency once answered.
    latency_seconds = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # A deadline checked twice (task redelivery, the sweep) raises nothing new.
            models.UniqueConstraint(
                fields=["waiting_period", "kind"],
                condition=Q(waiting_period__isnull=False),
                name="alert_one_per_period_kind",
            ),
            # Curt replies by one person in one chat are grouped into one open alert.
            models.UniqueConstraint(
                fields=["conversation", "member"],
                condition=Q(kind="terse_reply", state="open"),
                nulls_distinct=False,
                name="alert_one_open_terse_per_member",
            ),
        ]
        indexes = [
            models.Index(fields=["shop", "state", "-created_at"]),
            models.Index(fields=["shop", "emailed_at"], condition=Q(emailed_at__isnull=True), name="alert_unemailed"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} ({self.state}) in conversation {self.conversation_id}"


class AlertFeedback(models.Model):
    """An owner's judgement of a terse alert: the terse judge's precision for a shop is read from these.

    One per (alert, member): a later verdict replaces the earlier one (monitoring.services.feedback).
    """

    class Verdict(models.TextChoices):
        TERSE = "terse", _("Memang ketus")
        NOT_TERSE = "not_terse", _("Bukan ketus")

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="feedback")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    # When the current verdict was given: a replacing verdict sets it again.
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["alert", "member"], name="alertfeedback_one_per_member"),
        ]

    def __str__(self) -> str:
        return f"{self.verdict} on alert {self.alert_id} by member {self.member_id}"


class MessageTrack(models.Model):
    """Marks a message as measured, so the sweep can find messages whose task was lost."""

    message = models.OneToOneField(Message, on_delete=models.CASCADE, primary_key=True, related_name="monitoring_track")
    measured_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"measured {self.message_id}"


class SweepCursor(models.Model):
    """How far (by message id) the sweep has confirmed every message measured."""

    name = models.CharField(max_length=40, unique=True)
    value = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name}={self.value}"
