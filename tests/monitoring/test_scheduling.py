"""Monitoring queues its Celery work in one module, by task name; what the broker never got is counted,
logged, and done by the sweep."""

from __future__ import annotations

import inspect
import json
import logging
from typing import Any

import pytest
import redis
from django.conf import settings

from config import celery_app
from inbox.resilience import broker_breaker
from monitoring import scheduling
from monitoring.models import MessageTrack, WaitingPeriod
from monitoring.services.sweep import monitoring_sweep
from tests.monitoring.conftest import push, set_policy
from tests.support import redis_flush

pytestmark = pytest.mark.django_db(transaction=True)

# Each name scheduling queues, with the arguments it sends.
SENT_ARGS = {
    scheduling.MESSAGE_MEASURE: (1,),
    scheduling.DEADLINE_CHECK: (1, "2026-03-02T03:00:00+00:00"),
    scheduling.DEADLINES_DUE: ("2026-03-02T03:00:00+00:00",),
    scheduling.WARNING_CHECK: (1, "2026-03-02T03:00:00+00:00"),
    scheduling.ALERT_EMAIL_SEND: (1,),
    scheduling.PUSH_SEND: (1, 2),
    scheduling.BROWSER_NOTIFY_FLUSH: (1,),
}


def test_every_name_is_a_registered_task_taking_those_arguments():
    import monitoring.tasks  # noqa: F401 - what a worker imports at start; the web only sends by name

    names = {value for key, value in vars(scheduling).items() if key.isupper() and isinstance(value, str)}
    assert names == set(SENT_ARGS)
    for name, args in SENT_ARGS.items():
        task = celery_app.tasks[name]
        inspect.signature(task.run).bind(*args)  # raises TypeError on a mismatch


def queued() -> list[str]:
    return [json.loads(i)["headers"]["task"] for i in redis.Redis.from_url(settings.REDIS_URL).lrange("celery", 0, -1)]


@pytest.fixture
def breaker_open() -> Any:
    broker_breaker.failed()
    yield
    broker_breaker.reset()


def test_work_the_broker_never_got_is_counted_logged_and_done_by_the_sweep(
    shop, api_channel, breaker_open, settings, caplog
):
    set_policy(shop, first=600, reply=600)
    redis_flush()
    before = scheduling.lost_counts().get(scheduling.MESSAGE_MEASURE, 0)
    with caplog.at_level(logging.INFO, logger="balas.monitoring"):
        message = push(api_channel)  # stored; its measuring task cannot be queued
    assert queued() == []
    assert scheduling.lost_counts()[scheduling.MESSAGE_MEASURE] == before + 1
    assert f"tasks.enqueue_skipped task={scheduling.MESSAGE_MEASURE} args=[{message.pk}]" in caplog.text
    assert not MessageTrack.objects.filter(message=message).exists()

    broker_breaker.reset()
    settings.BALAS_SWEEP_MEASURE_GRACE_S = 0
    assert monitoring_sweep().messages_measured == 1
    assert MessageTrack.objects.filter(message=message).exists()
    assert WaitingPeriod.objects.get(first_message=message).ended_at is None
    redis_flush()


def test_a_failed_publish_is_raised_only_when_asked(breaker_open):
    assert scheduling.task_queue(scheduling.ALERT_EMAIL_SEND, (1,)) is False
    with pytest.raises(Exception, match="broker"):
        scheduling.task_queue(scheduling.ALERT_EMAIL_SEND, (1,), strict=True)
