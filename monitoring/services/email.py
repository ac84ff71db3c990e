"""Alert e-mails to the shop's owners, throttled: at most one per shop per window.

The first alert after a quiet window is e-mailed at once; alerts raised inside the window wait
and go out together as one summary when it ends (a task scheduled for the window's end, and the
sweep as a safety net). Which alerts were e-mailed is stored, so any run is safe to repeat.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from inbox.models import Member
from monitoring.models import Alert, ShopPolicy
from monitoring.services.policy import policy_for_shop

logger = logging.getLogger("balas.monitoring")


def email_throttle() -> timedelta:
    return timedelta(minutes=float(settings.BALAS_ALERT_EMAIL_THROTTLE_MINUTES))


def owner_emails(*, shop_id: int) -> list[str]:
    return sorted(
        set(
            Member.objects.filter(shop_id=shop_id, role=Member.Role.OWNER, user__is_active=True)
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
    )


def alert_emails_flush(*, shop_id: int) -> int:
    """E-mail the shop's un-e-mailed alerts if its throttle window allows; returns alerts e-mailed."""
    with transaction.atomic():
        policy = ShopPolicy.objects.select_for_update().get(pk=policy_for_shop(shop_id=shop_id).pk)
        pending = list(
            Alert.objects.filter(shop_id=shop_id, emailed_at__isnull=True)
            .select_related("conversation__contact", "conversation__channel")
            .order_by("created_at", "id")
        )
        if not pending:
            return 0
        now = timezone.now()
        if policy.last_alert_email_at is not None and now < policy.last_alert_email_at + email_throttle():
            _summary_schedule(policy=policy, due=policy.last_alert_email_at + email_throttle(), now=now)
            return 0
        recipients = owner_emails(shop_id=shop_id)
        if recipients:
            subject, body = _compose(pending)
            # Sent while the lock is held: two workers cannot both send the same alerts.
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients, fail_silently=False)
        else:
            logger.warning("alert.email_no_recipient shop=%s", shop_id)
        Alert.objects.filter(pk__in=[a.pk for a in pending]).update(emailed_at=now)
        policy.last_alert_email_at = now
        policy.alert_email_scheduled_for = None
        policy.save(update_fields=["last_alert_email_at", "alert_email_scheduled_for", "updated_at"])
    logger.info("alert.emailed shop=%s alerts=%d recipients=%d", shop_id, len(pending), len(recipients))
    return len(pending)


def _summary_schedule(*, policy: ShopPolicy, due: datetime, now: datetime) -> None:
    # One task per window; re-queued if the one queued has already fired (its clock ran early).
    scheduled = policy.alert_email_scheduled_for
    if scheduled == due and scheduled > now + timedelta(seconds=1):
        return
    policy.alert_email_scheduled_for = due
    policy.save(update_fields=["alert_email_scheduled_for", "updated_at"])
    shop_id = policy.shop_id

    def _queue() -> None:
        from monitoring.tasks import alert_email_send

        try:
            alert_email_send.apply_async((shop_id,), eta=due)
        except Exception:
            logger.warning("tasks.enqueue_failed task=alert_email_send shop=%s", shop_id, exc_info=True)

    transaction.on_commit(_queue)


def _compose(alerts: list[Alert]) -> tuple[str, str]:
    base = settings.BALAS_PUBLIC_URL.rstrip("/")
    if len(alerts) == 1:
        subject = _("[Balas] %(title)s") % {"title": alerts[0].title}
    else:
        subject = ngettext("[Balas] %(count)d peringatan baru", "[Balas] %(count)d peringatan baru", len(alerts)) % {
            "count": len(alerts)
        }
    body = render_to_string("monitoring/email/alerts.txt", {"alerts": alerts, "alerts_url": f"{base}/alerts/"})
    return subject, body


def due_email_shops() -> list[int]:
    """Shops with alerts still waiting for their e-mail (for the sweep)."""
    return list(
        Alert.objects.filter(emailed_at__isnull=True).values_list("shop_id", flat=True).distinct().order_by("shop_id")
    )
