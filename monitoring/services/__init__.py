"""Every write of the monitoring side. Tasks, views and the sweep call only these."""

from monitoring.services.alerts import alert_acknowledge, alert_payload, alert_raise, terse_alert_record
from monitoring.services.email import alert_emails_flush
from monitoring.services.periods import (
    bursts_compute,
    deadline_arm,
    is_human_reply,
    period_deadline_check,
    waiting_periods_update,
)
from monitoring.services.policy import PolicyError, policy_clean, policy_for_shop, policy_update
from monitoring.services.sweep import monitoring_sweep

__all__ = [
    "PolicyError",
    "alert_acknowledge",
    "alert_emails_flush",
    "alert_payload",
    "alert_raise",
    "bursts_compute",
    "deadline_arm",
    "is_human_reply",
    "monitoring_sweep",
    "period_deadline_check",
    "policy_clean",
    "policy_for_shop",
    "policy_update",
    "terse_alert_record",
    "waiting_periods_update",
]
