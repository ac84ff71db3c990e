"""Alert e-mails to the shop's owners, throttled: at most one per shop per window.

The first alert after a quiet window is e-mailed at once; alerts raised inside the window wait
and go out together as one summary when it ends (a task scheduled for the window's end, and the
sweep as a safety net). Which alerts were e-mailed is stored, so any run is safe to repeat.

Raising an alert queues at most one e-mail task per shop at a time (a short-lived Redis key, see
`alert_email_queue`): a burst of 10,000 alerts used to queue 10,000 flushes behind the deadline checks.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from inbox.models import Member
from monitoring.models import Alert, ShopPolicy
from monitoring.scheduling import ALERT_EMAIL_SEND, task_queue
from monitoring.services.policy import policy_for_shop

logger = logging.getLogger("balas.monitoring")


# How long a "task queued" mark lives if its task never clears it (a lost task): then the next
# alert queues a new one, and the sweep e-mails whatever is left meanwhile.
_QUEUED_TTL_S = 60
# After a failed send, only the sweep tries again for this long (about its interval).
_FAILING_TTL_S = 30
# The mark's values: a task (or the window's summary) is queued; the mail server failed just now.
_QUEUED, _FAILING = "queued", "failing"


def email_throttle() -> timedelta:
    return timedelta(minutes=float(settings.BALAS_ALERT_EMAIL_THROTTLE_MINUTES))


def _queued_key(shop_id: int) -> str:
    return f"monitoring:alert-email-queued:{shop_id}"


def alert_email_queue(*, shop_id: int) -> None:
    """After an alert's commit: queue the shop's e-mail task, unless one is queued already.

    The mark stays until a flush is about to read the alerts to send them (it clears the mark
    first, see `alert_emails_flush`), or, inside a throttle window, until the window's summary task
    runs: either reads this alert too, so no alert waits for the sweep. Only after a failed send
    (the mail server is down) is the next try the sweep's.
    """
    try:
        if not cache.add(_queued_key(shop_id), _QUEUED, timeout=_QUEUED_TTL_S):
            return
    except Exception:
        # Redis trouble: queue anyway (if that fails too, the sweep e-mails the alert).
        logger.warning("alert.email_mark_failed shop=%s", shop_id, exc_info=True)
    if not task_queue(ALERT_EMAIL_SEND, (shop_id,)):
        alert_email_queued_clear(shop_id=shop_id)


def alert_email_queued_clear(*, shop_id: int) -> None:
    """Alerts committed from now on queue a task of their own."""
    try:
        cache.delete(_queued_key(shop_id))
    except Exception:
        # The mark expires by itself; until then the sweep covers this shop.
        logger.warning("alert.email_mark_failed shop=%s", shop_id, exc_info=True)


def _queued_mark(*, shop_id: int, until: datetime) -> None:
    # A summary task is queued for `until`: it will e-mail every alert raised before then, so none
    # of them needs a task of its own. A little past `until` so the summary itself clears it.
    seconds = int((until - timezone.now()).total_seconds()) + 5
    try:
        cache.set(_queued_key(shop_id), _QUEUED, timeout=max(seconds, 1))
    except Exception:
        logger.warning("alert.email_mark_failed shop=%s", shop_id, exc_info=True)


def _failing_mark(*, shop_id: int) -> None:
    try:
        cache.set(_queued_key(shop_id), _FAILING, timeout=_FAILING_TTL_S)
    except Exception:
        logger.warning("alert.email_mark_failed shop=%s", shop_id, exc_info=True)


def _failing(*, shop_id: int) -> bool:
    try:
        return bool(cache.get(_queued_key(shop_id)) == _FAILING)
    except Exception:
        logger.warning("alert.email_mark_failed shop=%s", shop_id, exc_info=True)
        return False


def owner_emails(*, shop_id: int) -> list[str]:
    return sorted(
        set(
            Member.objects.filter(shop_id=shop_id, role=Member.Role.OWNER, user__is_active=True)
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
    )


def alert_emails_flush(*, shop_id: int, retry_failed: bool = True) -> int:
    """E-mail the shop's un-e-mailed alerts if its throttle window allows; returns alerts e-mailed.

    `retry_failed=False` (the alert's task): do nothing while the mail server failed moments ago;
    the sweep (the default) tries again.
    """
    with transaction.atomic():
        policy = ShopPolicy.objects.select_for_update().get(pk=policy_for_shop(shop_id=shop_id).pk)
        now = timezone.now()
        if policy.last_alert_email_at is not None and now < policy.last_alert_email_at + email_throttle():
            # Nothing read inside the window: the summary at its end e-mails every alert raised
            # until then (a burst's thousands are loaded once, by it), and the shop stays marked as
            # having a task queued, so those alerts queue none.
            _summary_schedule(policy=policy, due=policy.last_alert_email_at + email_throttle(), now=now)
            return 0
        if not retry_failed and _failing(shop_id=shop_id):
            return 0
        # Before reading: an alert committed after this line queues a task of its own.
        alert_email_queued_clear(shop_id=shop_id)
        pending = list(
            Alert.objects.filter(shop_id=shop_id, emailed_at__isnull=True)
            .exclude(kind=Alert.Kind.REPLY_DUE_SOON)
            .select_related("conversation__contact", "conversation__channel")
            .order_by("created_at", "id")
        )
        if not pending:
            return 0
        recipients = owner_emails(shop_id=shop_id)
        if recipients:
            subject, body = _compose(pending)
            try:
                # Sent while the lock is held: two workers cannot both send the same alerts.
                send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients, fail_silently=False)
            except Exception:
                # The mail server failed; the alerts stay un-e-mailed and the sweep tries again on its
                # next run. Until then new alerts queue no task, and a task queued meanwhile stops
                # at once: in an alert burst each would re-read and re-render every pending alert
                # only to fail the same way.
                logger.exception("alert.email_failed shop=%s alerts=%d", shop_id, len(pending))
                _failing_mark(shop_id=shop_id)
                return 0
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
    shop_id = policy.shop_id
    scheduled = policy.alert_email_scheduled_for
    if scheduled == due and scheduled > now + timedelta(seconds=1):
        # Marked again (the mark of the alert that queued this task may be about to expire).
        transaction.on_commit(lambda: _queued_mark(shop_id=shop_id, until=due))
        return
    policy.alert_email_scheduled_for = due
    policy.save(update_fields=["alert_email_scheduled_for", "updated_at"])

    def _queue() -> None:
        if task_queue(ALERT_EMAIL_SEND, (shop_id,), eta=due):
            _queued_mark(shop_id=shop_id, until=due)

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
        Alert.objects.filter(emailed_at__isnull=True)
        .exclude(kind=Alert.Kind.REPLY_DUE_SOON)
        .values_list("shop_id", flat=True)
        .distinct()
        .order_by("shop_id")
    )
