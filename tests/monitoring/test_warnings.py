"""The warning before the breach (`reply_due_soon`), raised by a real Celery worker on the real broker."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from monitoring.models import Alert, WaitingPeriod
from monitoring.services.policy import PolicyError, policy_update
from monitoring.services.sweep import monitoring_sweep
from monitoring.tasks import deadlines_due, warning_check
from tests.factories import MemberFactory
from tests.monitoring.conftest import push, set_policy
from tests.support import redis_flush, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

WARN = Alert.Kind.REPLY_DUE_SOON


def _period(conversation_id: int) -> WaitingPeriod | None:
    return WaitingPeriod.objects.filter(conversation_id=conversation_id).order_by("-id").first()


def _sleep_until(moment: datetime) -> None:
    remaining = (moment - timezone.now()).total_seconds()
    if remaining > 0:
        time.sleep(remaining)


def _warning(period: WaitingPeriod) -> Alert | None:
    return Alert.objects.filter(waiting_period=period, kind=WARN).first()


def test_warned_at_the_share_of_the_target_not_before_and_before_the_breach(shop, api_channel, celery_worker):
    set_policy(shop, first=4, reply=4, warn=50)
    customer = push(api_channel, text="Kak, serum ini ready?")
    period = wait_for(lambda: _period(customer.conversation_id))
    assert period.warn_at == period.started_at + timedelta(seconds=2)
    assert period.deadline_at == period.started_at + timedelta(seconds=4)

    _sleep_until(period.warn_at - timedelta(seconds=0.3))
    assert _warning(period) is None

    warning = wait_for(lambda: _warning(period), timeout=5)
    assert period.warn_at <= warning.created_at <= period.warn_at + timedelta(seconds=2)
    assert warning.state == "open"
    assert warning.created_at < period.deadline_at
    assert not Alert.objects.filter(kind__in=["slow_first_reply", "slow_reply"]).exists()

    breach = wait_for(lambda: Alert.objects.filter(waiting_period=period, kind="slow_first_reply").first())
    assert breach.created_at >= period.deadline_at
    assert warning.created_at < breach.created_at
    # Never twice: the task body, the bucket's task and the sweep again.
    warning_check(period.pk, period.warn_at.isoformat())
    deadlines_due(period.warn_at.isoformat())
    monitoring_sweep()
    assert Alert.objects.filter(waiting_period=period, kind=WARN).count() == 1

    # The reply resolves the warning with the breach.
    push(api_channel, direction="out", text="Ready kak, mau dikirim hari ini?")
    wait_for(lambda: Alert.objects.get(pk=warning.pk).state == "resolved")


def test_a_reply_before_the_share_cancels_the_warning(shop, api_channel, celery_worker, settings):
    settings.BALAS_SWEEP_MEASURE_GRACE_S = 0
    set_policy(shop, first=3, reply=3, warn=60)
    customer = push(api_channel)
    period = wait_for(lambda: _period(customer.conversation_id))
    push(api_channel, direction="out", text="Halo kak, ready ya")
    wait_for(lambda: WaitingPeriod.objects.get(pk=period.pk).ended_at is not None)
    _sleep_until(period.deadline_at + timedelta(seconds=1))
    monitoring_sweep()
    assert not Alert.objects.exists()


def test_survives_a_worker_restart_before_the_share(shop, api_channel, worker_factory):
    set_policy(shop, first=6, reply=6, warn=50)
    with worker_factory():
        customer = push(api_channel)
        period = wait_for(lambda: _period(customer.conversation_id))
        # The warning's bucket task is held by this worker when it stops.
    assert timezone.now() < period.warn_at
    assert not Alert.objects.exists()
    with worker_factory():
        warning = wait_for(lambda: _warning(period), timeout=6)
        assert period.warn_at <= warning.created_at < period.deadline_at
        wait_for(lambda: Alert.objects.filter(waiting_period=period, kind="slow_first_reply").exists())
    assert Alert.objects.filter(kind=WARN).count() == 1
    redis_flush()


def test_a_lost_warning_task_is_raised_by_the_sweep(shop, api_channel, worker_factory):
    set_policy(shop, first=4, reply=4, warn=50)
    with worker_factory():
        customer = push(api_channel)
        period = wait_for(lambda: _period(customer.conversation_id))
    redis_flush()  # every armed task is lost
    monitoring_sweep()
    assert _warning(period) is None  # not before its moment
    _sleep_until(period.warn_at)
    assert monitoring_sweep().alerts_raised == 1
    warning = _warning(period)
    assert warning is not None and period.warn_at <= warning.created_at < period.deadline_at
    assert monitoring_sweep().alerts_raised == 0


def test_a_warning_found_late_is_never_raised_after_the_breach(shop, api_channel, worker_factory):
    set_policy(shop, first=2, reply=2, warn=50)
    with worker_factory():
        customer = push(api_channel)
        period = wait_for(lambda: _period(customer.conversation_id))
    redis_flush()  # every armed task is lost; nothing runs until after the deadline
    _sleep_until(period.deadline_at + timedelta(seconds=0.1))
    # The late warning's own check first, then the sweep: the breach only.
    assert warning_check(period.pk, period.warn_at.isoformat()) is None
    assert _warning(period) is None
    assert monitoring_sweep().alerts_raised == 1
    assert list(Alert.objects.values_list("kind", flat=True)) == ["slow_first_reply"]


def test_no_warning_when_the_breach_comes_first_or_together(shop, api_channel, celery_worker):
    # 99 % of 1 s rounds into the deadline's own bucket: a warning then would come with the breach.
    set_policy(shop, first=1, reply=1, warn=99)
    customer = push(api_channel)
    period = wait_for(lambda: _period(customer.conversation_id))
    wait_for(lambda: Alert.objects.filter(waiting_period=period, kind="slow_first_reply").exists())
    time.sleep(0.5)
    monitoring_sweep()
    assert _warning(period) is None


def test_warning_goes_to_the_assignee_or_every_admin_never_the_owner(shop, owner, api_channel, celery_worker):
    from monitoring.events import alert_audience

    set_policy(shop, first=2, reply=2, warn=50)
    admin = MemberFactory(shop=shop, role="admin")
    other = MemberFactory(shop=shop, role="admin")
    customer = push(api_channel)
    period = wait_for(lambda: _period(customer.conversation_id))
    warning = wait_for(lambda: _warning(period))
    audience = alert_audience(warning)
    assert audience is not None and not audience.owners
    assert set(audience.member_ids) == {admin.pk, other.pk}
    warning.assignee_id = admin.pk
    assert set(alert_audience(warning).member_ids) == {admin.pk}


def test_policy_change_moves_the_warning(shop, api_channel, celery_worker):
    set_policy(shop, first=600, reply=600, warn=75)
    customer = push(api_channel)
    period = wait_for(lambda: _period(customer.conversation_id))
    assert period.warn_at == period.started_at + timedelta(seconds=450)
    set_policy(shop, first=4, reply=4, warn=25)
    period.refresh_from_db()
    assert period.warn_at == period.started_at + timedelta(seconds=1)
    warning = wait_for(lambda: _warning(period), timeout=5)
    assert warning.created_at < period.started_at + timedelta(seconds=3)


@pytest.mark.parametrize("value", [0, 100, "75", True, 7.5, None])
def test_warn_at_pct_is_validated(shop, value):
    with pytest.raises(PolicyError) as exc:
        policy_update(shop_id=shop.pk, data={"warn_at_pct": value})
    assert "warn_at_pct" in exc.value.errors
