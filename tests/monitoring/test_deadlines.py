"""Slow-reply alerts fired at the deadline by a real Celery worker on the real Redis broker."""

from __future__ import annotations

import time
from datetime import datetime

import pytest
from django.utils import timezone

from monitoring.models import Alert, MessageTrack, WaitingPeriod
from monitoring.services.sweep import monitoring_sweep
from monitoring.tasks import deadline_check, sweep
from tests.monitoring.conftest import push, set_policy
from tests.support import redis_flush, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.usefixtures("no_warnings")]


def _period(conversation_id: int | None = None) -> WaitingPeriod | None:
    rows = WaitingPeriod.objects.all()
    if conversation_id is not None:
        rows = rows.filter(conversation_id=conversation_id)
    return rows.order_by("-id").first()


def _sleep_until(moment: datetime) -> None:
    remaining = (moment - timezone.now()).total_seconds()
    if remaining > 0:
        time.sleep(remaining)


def test_alert_raised_at_the_deadline_and_resolved_by_the_reply(shop, owner, api_channel, celery_worker):
    set_policy(shop, first=3, reply=3)
    customer = push(api_channel, text="Kak ready? ongkir ke Bandung berapa?")
    period = wait_for(lambda: _period(customer.conversation_id))
    assert period.started_at == customer.sent_at
    assert (period.deadline_at - period.started_at).total_seconds() == 3

    # Shortly before the deadline there is no alert yet.
    _sleep_until(period.deadline_at - timezone.timedelta(seconds=1))
    assert not Alert.objects.exists()

    alert = wait_for(lambda: Alert.objects.filter(waiting_period=period).first())
    assert alert.kind == "slow_first_reply"
    assert alert.state == "open"
    assert alert.created_at >= period.deadline_at
    assert alert.latency_seconds >= 3
    assert alert.conversation_id == customer.conversation_id

    reply = push(api_channel, direction="out", text="Ready kak, ongkir ke Bandung 12 ribu ya")
    wait_for(lambda: Alert.objects.get(pk=alert.pk).state == "resolved")
    alert.refresh_from_db()
    period.refresh_from_db()
    assert period.reply_id == reply.pk
    assert alert.latency_seconds == period.response_seconds
    assert alert.latency_seconds == (reply.sent_at - customer.sent_at).total_seconds()
    assert alert.resolved_at is not None


def test_reply_before_the_deadline_raises_nothing(shop, api_channel, celery_worker):
    set_policy(shop, first=2, reply=2)
    customer = push(api_channel)
    period = wait_for(lambda: _period(customer.conversation_id))
    push(api_channel, direction="out", text="Halo kak, ready ya")
    wait_for(lambda: WaitingPeriod.objects.get(pk=period.pk).ended_at is not None)
    _sleep_until(period.deadline_at + timezone.timedelta(seconds=1.5))
    monitoring_sweep()
    assert not Alert.objects.exists()


def test_raised_once_however_often_the_deadline_is_checked(shop, api_channel, celery_worker):
    set_policy(shop, first=2, reply=2)
    customer = push(api_channel)
    period = wait_for(lambda: _period(customer.conversation_id))
    armed_for = period.deadline_at.isoformat()
    # Redelivered copies of the ETA task, queued through the broker.
    for _ in range(3):
        deadline_check.apply_async((period.pk, armed_for), eta=period.deadline_at)
    wait_for(lambda: Alert.objects.filter(waiting_period=period).exists())
    # The task body run again, with and without its armed deadline, and the sweep (as task body).
    deadline_check(period.pk, armed_for)
    deadline_check(period.pk)
    sweep()
    assert monitoring_sweep().alerts_raised == 0
    time.sleep(1)  # let any copy still in the worker finish
    assert Alert.objects.filter(waiting_period=period).count() == 1


def test_still_raised_when_the_worker_restarts_before_the_deadline(shop, api_channel, worker_factory):
    set_policy(shop, first=4, reply=4)
    with worker_factory():
        customer = push(api_channel)
        period = wait_for(lambda: _period(customer.conversation_id))
        # The deadline task is held by this worker when it stops.
    assert timezone.now() < period.deadline_at
    assert not Alert.objects.exists()
    with worker_factory():
        alert = wait_for(lambda: Alert.objects.filter(waiting_period=period).first())
    assert alert.created_at >= period.deadline_at
    assert Alert.objects.count() == 1
    redis_flush()


def test_sweep_alone_raises_when_the_task_was_lost(shop, api_channel, worker_factory, settings):
    set_policy(shop, first=1, reply=1)
    settings.BALAS_SWEEP_MEASURE_GRACE_S = 0
    with worker_factory():
        customer = push(api_channel)
        period = wait_for(lambda: _period(customer.conversation_id))
    redis_flush()  # the queued deadline task is lost
    _sleep_until(period.deadline_at)
    result = monitoring_sweep()
    assert result.alerts_raised == 1
    alert = Alert.objects.get()
    assert alert.waiting_period == period
    assert alert.created_at >= period.deadline_at
    assert monitoring_sweep().alerts_raised == 0
    assert Alert.objects.count() == 1


def test_sweep_measures_messages_whose_task_never_ran(shop, api_channel, settings):
    """Redis down at commit time: the message is stored, its task is not; the sweep catches up."""
    set_policy(shop, first=1, reply=1)
    settings.BALAS_SWEEP_MEASURE_GRACE_S = 0
    redis_flush()
    customer = push(api_channel)
    redis_flush()  # the message_measure task is lost
    assert not MessageTrack.objects.filter(message=customer).exists()
    assert not WaitingPeriod.objects.exists()
    time.sleep(1.1)
    result = monitoring_sweep()
    assert result.messages_measured == 1
    period = WaitingPeriod.objects.get()
    assert period.first_message_id == customer.pk
    # Already past its deadline when found: the same sweep raises the alert.
    assert result.alerts_raised == 1
    assert Alert.objects.get().waiting_period == period
    second = monitoring_sweep()
    assert (second.messages_measured, second.alerts_raised) == (0, 0)
    redis_flush()


def test_sweep_tries_again_what_a_deadlock_stopped(shop, api_channel, settings, monkeypatch):
    """A transient database error (here injected: a deadlock) in the catch-up batch: its messages go
    to their own tasks, the cursor stays before them, and the next sweep measures them."""
    from django.db import OperationalError

    from monitoring.models import SweepCursor
    from monitoring.services import catch_up

    set_policy(shop, first=600, reply=600)
    settings.BALAS_SWEEP_MEASURE_GRACE_S = 0
    redis_flush()
    first, second = push(api_channel), push(api_channel)
    redis_flush()  # both measuring tasks are lost
    time.sleep(0.1)
    real = catch_up.conversation_periods_recompute
    failing = [True]

    def deadlock(**kwargs):
        if failing[0]:
            raise OperationalError("deadlock detected")
        return real(**kwargs)

    monkeypatch.setattr(catch_up, "conversation_periods_recompute", deadlock)
    assert monitoring_sweep().messages_measured == 0  # every attempt of this sweep failed
    failing[0] = False
    assert not MessageTrack.objects.filter(message__in=[first, second]).exists()
    assert SweepCursor.objects.get().value < first.pk  # held before the failed batch
    redis_flush()  # the tasks the failed batch queued are lost too
    assert monitoring_sweep().messages_measured == 2  # the next sweep measures them
    assert MessageTrack.objects.filter(message__in=[first, second]).count() == 2
    assert SweepCursor.objects.get().value >= second.pk
    redis_flush()
