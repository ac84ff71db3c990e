from django.contrib import admin

from monitoring.models import Alert, ReplyMeasurement, ShopPolicy, WaitingPeriod


@admin.register(ShopPolicy)
class ShopPolicyAdmin(admin.ModelAdmin):
    list_display = ("shop", "first_reply_target_s", "reply_target_s", "timezone", "updated_at")
    raw_id_fields = ("shop",)


@admin.register(WaitingPeriod)
class WaitingPeriodAdmin(admin.ModelAdmin):
    list_display = ("id", "shop", "conversation", "kind", "started_at", "deadline_at", "ended_at", "response_seconds")
    list_filter = ("kind",)
    raw_id_fields = ("shop", "conversation", "first_message", "reply")
    date_hierarchy = "started_at"


@admin.register(ReplyMeasurement)
class ReplyMeasurementAdmin(admin.ModelAdmin):
    list_display = (
        "message",
        "shop",
        "member",
        "source",
        "response_seconds",
        "response_business_seconds",
        "sla_met",
        "terse",
    )
    list_filter = ("source", "sla_met", "terse")
    raw_id_fields = ("message", "shop", "channel", "conversation", "waiting_period", "member")


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ("id", "shop", "kind", "state", "title", "count", "created_at", "resolved_at")
    list_filter = ("kind", "state")
    raw_id_fields = ("shop", "conversation", "waiting_period", "assignee", "member", "message", "acknowledged_by")
