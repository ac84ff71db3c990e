"""Due deadlines raised in batches: exactly once, one live event each, one e-mail task per shop.

Real PostgreSQL (row locks, SKIP LOCKED, the unique constraint), the real Channels layer on Redis,
and a real Celery worker where the ETA tasks and the e-mail tasks run.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import redis
from asgiref.sync import async_to_sync
from celery.signals import task_prerun
from channels import DEFAULT_CHANNEL_LAYER
from channels.layers import channel_layers
from django.conf import settings
from django.core import mail
from django.db import connections, transaction
from django.utils import timezone

from inbox.models import Conversation, Member, Shop
from inbox.realtime import layer_events, shop_group
from monitoring.api.serializers import AlertSerializer
from monitoring.models import Alert, WaitingPeriod
from monitoring.services import deadlines, overdue
from monitoring.services.alerts import alert_raise
from monitoring.services.email import alert_emails_flush
from monitoring.services.overdue import due_slow_alerts_raise, period_deadline_check
from monitoring.services.periods import waiting_periods_update
from monitoring.services.sweep import monitoring_sweep, overdue_periods_check
from monitoring.tasks import alert_email_send
from tests.factories import ChannelFactory, ConversationFactory, MemberFactory, MessageFactory, ShopFactory
from tests.monitoring.conftest import set_policy
from tests.support import redis_flush, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_warnings")]


@pytest.fixture(autouse=True)
def _clean_broker() -> Iterator[None]:
    # Measuring arms each period's deadline task on this run's broker; no test here leaves them behind.
    redis_flush()
    yield
    redis_flush()


_accounts = itertools.count(1)


def _channel(shop: Shop) -> Any:
    return ChannelFactory(shop=shop, account_id=f"batch-{next(_accounts)}")


def _waiting(shop: Shop, count: int, *, ago: float = 20.0) -> list[WaitingPeriod]:
    """`count` customers of `shop` who asked `ago` seconds ago, measured as the task would."""
    channel = _channel(shop)
    asked_at = timezone.now() - timedelta(seconds=ago)
    periods = []
    for i in range(count):
        conversation = ConversationFactory(contact__channel=channel)
        question = MessageFactory(conversation=conversation, sent_at=asked_at + timedelta(milliseconds=i))
        waiting_periods_update(message=question)
        periods.append(WaitingPeriod.objects.get(conversation=conversation))
    return periods


class Receiver:
    """A channel in the shops' groups, read the way a browser's socket is fed."""

    def __init__(self, *shop_ids: int) -> None:
        # Its own layer instance: a layer's receive buffers belong to the event loop that first read them.
        self.layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
        self.name = async_to_sync(self.layer.new_channel)()
        for shop_id in shop_ids:
            async_to_sync(self.layer.group_add)(shop_group(shop_id), self.name)

    def alert_events(self, count: int, *, timeout: float = 15.0, quiet: float = 1.0) -> list[dict[str, Any]]:
        """Exactly `count` alert events, then `quiet` seconds with none: more (or fewer) fails."""

        async def collect() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
            # One event loop for all receives: the Redis layer's receive buffer belongs to its loop.
            events: list[dict[str, Any]] = []
            end = time.monotonic() + timeout
            while len(events) < count:
                message = await asyncio.wait_for(self.layer.receive(self.name), max(0.01, end - time.monotonic()))
                events += [e for e in layer_events(message) if e["type"].startswith("alert.")]
            # Events travel several to a message (inbox.realtime): past `count` is extra too.
            extra: list[dict[str, Any]] = events[count:]
            events = events[:count]
            try:
                while True:
                    message = await asyncio.wait_for(self.layer.receive(self.name), quiet)
                    extra += [e for e in layer_events(message) if e["type"].startswith("alert.")]
            except TimeoutError:
                pass
            return events, extra

        events, extra = async_to_sync(collect)()
        assert extra == [], f"{len(extra)} alert events more than the {count} expected"
        return events


class TaskRuns:
    """Counts tasks the in-process worker starts, by name and first argument."""

    def __init__(self) -> None:
        self.runs: Counter[tuple[str, Any]] = Counter()
        self._lock = threading.Lock()

    def __call__(self, sender: Any = None, args: Any = None, **kwargs: Any) -> None:
        with self._lock:
            self.runs[(sender.name, args[0] if args else None)] += 1

    def of(self, task: str) -> dict[Any, int]:
        return {arg: n for (name, arg), n in self.runs.items() if name == task}


@pytest.fixture
def task_runs() -> Iterator[TaskRuns]:
    runs = TaskRuns()
    task_prerun.connect(runs, weak=False)
    yield runs
    task_prerun.disconnect(runs)


def _queued_tasks() -> list[str]:
    """The task name of every message waiting in this run's broker queue."""
    raw = redis.Redis.from_url(settings.REDIS_URL).lrange("celery", 0, -1)
    tasks = [json.loads(item)["headers"]["task"] for item in raw]
    # Left out: the members' coalesced browser notifications (tests/monitoring/test_browser_notify.py).
    return [task for task in tasks if task != "monitoring.tasks.browser_notify_flush"]


def _owner(shop: Shop) -> Member:
    return MemberFactory(shop=shop, role=Member.Role.OWNER)


def test_one_batch_raises_every_due_period_once_with_one_event_each(worker_factory, task_runs, settings):
    settings.BALAS_ALERT_EMAIL_THROTTLE_MINUTES = 10
    glow, other = ShopFactory(name="Glow"), ShopFactory(name="Other")
    owners = {glow.pk: _owner(glow), other.pk: _owner(other)}
    set_policy(glow, first=5, reply=5)
    set_policy(other, first=5, reply=5)
    due = _waiting(glow, 30) + _waiting(other, 10)
    not_yet = _waiting(glow, 1, ago=1)[0]  # its deadline is 4 s ahead
    answered = _waiting(glow, 1)[0]
    reply = MessageFactory(
        conversation=answered.conversation, direction="out", source="inbox", status="sent", sent_at=timezone.now()
    )
    waiting_periods_update(message=reply)
    redis_flush()  # the deadline tasks armed above: this test calls the batch itself
    mail.outbox.clear()

    receiver = Receiver(glow.pk, other.pk)
    with worker_factory():
        batch = due_slow_alerts_raise()
        events = receiver.alert_events(40)
        wait_for(lambda: len(mail.outbox) == 2)
        time.sleep(1)  # any further e-mail task would have run by now

    assert batch.locked == 40
    assert sorted(a.waiting_period_id for a in batch.alerts) == sorted(p.pk for p in due)
    alerts = {a.pk: a for a in Alert.objects.select_related("conversation__contact")}
    assert len(alerts) == 40
    assert Counter(a.waiting_period_id for a in alerts.values()) == Counter({p.pk: 1 for p in due})
    assert not Alert.objects.filter(waiting_period__in=[not_yet, answered]).exists()
    for alert in alerts.values():
        assert alert.kind == "slow_first_reply" and alert.state == "open"
        assert alert.title == f"{alert.conversation.contact.name} belum dapat balasan pertama"
        assert "target 0.1 menit jam kerja sudah lewat" in alert.detail
        assert alert.latency_seconds >= 19
        assert alert.emailed_at is not None
    # The same payload as a single raise publishes, once per alert.
    assert all(e["type"] == "alert.created" for e in events)
    assert sorted(e["alert"]["id"] for e in events) == sorted(alerts)
    for event in events:
        assert event["alert"] == dict(AlertSerializer(alerts[event["alert"]["id"]]).data)
    # One e-mail task and one e-mail per shop, each with all of that shop's alerts.
    assert task_runs.of("monitoring.tasks.alert_email_send") == {glow.pk: 1, other.pk: 1}
    by_recipient = {m.to[0]: m for m in mail.outbox}
    assert "30" in by_recipient[owners[glow.pk].user.email].subject
    assert "10" in by_recipient[owners[other.pk].user.email].subject

    watcher = Receiver(glow.pk, other.pk)
    again = due_slow_alerts_raise()
    assert (again.alerts, again.locked) == ([], 0)
    assert period_deadline_check(period_id=due[0].pk, armed_for=due[0].deadline_at) is None
    watcher.alert_events(0)
    assert Alert.objects.count() == 40


def test_deadline_tasks_on_the_worker_raise_each_alert_once(shop, owner, api_channel, celery_worker, task_runs):
    """Sixty deadlines within a second, each an ETA task on the real broker and worker (4 threads)."""
    set_policy(shop, first=2, reply=2)
    receiver = Receiver(shop.pk)
    channel = _channel(shop)
    mail.outbox.clear()
    periods = []
    for _ in range(60):
        question = MessageFactory(conversation=ConversationFactory(contact__channel=channel), sent_at=timezone.now())
        waiting_periods_update(message=question)  # arms the deadline task after its commit
        periods.append(WaitingPeriod.objects.get(first_message=question))
    events = receiver.alert_events(60, timeout=30)
    time.sleep(1)

    alerts = list(Alert.objects.all())
    assert Counter(a.waiting_period_id for a in alerts) == Counter({p.pk: 1 for p in periods})
    deadline_of = {p.pk: p.deadline_at for p in periods}
    assert all(a.created_at >= deadline_of[a.waiting_period_id] for a in alerts)
    assert sorted(e["alert"]["id"] for e in events) == sorted(a.pk for a in alerts)
    # One task per half-second bucket of deadlines, not one per deadline.
    buckets = {deadlines.deadline_bucket_end(p.deadline_at).isoformat() for p in periods}
    assert task_runs.of("monitoring.tasks.deadlines_due") == dict.fromkeys(buckets, 1)
    assert task_runs.of("monitoring.tasks.deadline_check") == {}
    assert all(
        a.created_at <= deadlines.deadline_bucket_end(deadline_of[a.waiting_period_id]) + timedelta(seconds=3)
        for a in alerts
    )
    # E-mail: the first task sends at once (what is committed by then); at most one more, which
    # finds the throttle window open and queues its summary; not one per alert or per batch.
    assert 1 <= task_runs.of("monitoring.tasks.alert_email_send")[shop.pk] <= 2
    assert len(mail.outbox) == 1


def test_deadlines_of_one_bucket_share_one_task_fired_at_its_end(shop, owner, worker_factory, task_runs):
    set_policy(shop, first=2, reply=2)
    channel = _channel(shop)
    # Two questions whose deadlines fall in the same half second, armed as the measuring task arms them.
    asked_at = timezone.now()
    bucket = deadlines.deadline_bucket_end(asked_at + timedelta(seconds=2))
    asked_at = bucket - timedelta(seconds=2.4)
    periods = []
    for offset_ms in (0, 300):
        question = MessageFactory(
            conversation=ConversationFactory(contact__channel=channel),
            sent_at=asked_at + timedelta(milliseconds=offset_ms),
        )
        waiting_periods_update(message=question)
        periods.append(WaitingPeriod.objects.get(first_message=question))
    assert {deadlines.deadline_bucket_end(p.deadline_at) for p in periods} == {bucket}
    assert _queued_tasks() == ["monitoring.tasks.deadlines_due"]

    with worker_factory():
        wait_for(lambda: Alert.objects.count() == 2, timeout=10)
        time.sleep(0.5)
    for period in periods:
        alert = Alert.objects.get(waiting_period=period)
        assert period.deadline_at <= alert.created_at
        assert bucket <= alert.created_at < bucket + timedelta(seconds=2)
    assert task_runs.of("monitoring.tasks.deadlines_due") == {bucket.isoformat(): 1}


def test_a_bucket_fired_early_raises_nothing_before_its_end(shop):
    set_policy(shop, first=5, reply=5)
    (period,) = _waiting(shop, 1, ago=4.0)  # due in a second
    bucket = deadlines.deadline_bucket_end(period.deadline_at)
    redis_flush()
    assert overdue.deadline_bucket_check(bucket_end=bucket) == 0  # its deadline has not passed
    assert not Alert.objects.exists()
    assert _queued_tasks() == ["monitoring.tasks.deadlines_due"]  # back at the bucket's end
    time.sleep(max(0.0, (bucket - timezone.now()).total_seconds()))
    assert overdue.deadline_bucket_check(bucket_end=bucket) == 1
    assert Alert.objects.get().waiting_period == period


def test_a_period_answered_by_an_unmeasured_reply_is_measured_not_alerted(shop):
    set_policy(shop, first=5, reply=5)
    answered, unanswered = _waiting(shop, 2)
    # The reply came 3 s after the question, but its measuring task never ran (Redis was down).
    reply = MessageFactory(
        conversation=answered.conversation,
        direction="out",
        source="echo",
        status="sent",
        sent_at=answered.started_at + timedelta(seconds=3),
        text="Ready kak, silakan diorder",
    )

    batch = due_slow_alerts_raise()
    assert [a.waiting_period_id for a in batch.alerts] == [unanswered.pk]
    answered.refresh_from_db()
    assert answered.ended_at is None  # left to its own check, which measures first

    assert overdue_periods_check() == 0
    answered.refresh_from_db()
    assert answered.reply_id == reply.pk and answered.response_seconds == pytest.approx(3.0)
    assert not Alert.objects.filter(waiting_period=answered).exists()
    assert period_deadline_check(period_id=answered.pk) is None
    assert Alert.objects.count() == 1


def test_a_deadline_moved_by_a_policy_change_is_not_alerted_early(shop):
    set_policy(shop, first=5, reply=5)
    (period,) = _waiting(shop, 1)
    old_deadline = period.deadline_at
    set_policy(shop, first=60, reply=60)  # now 40 s ahead
    period.refresh_from_db()
    assert period.deadline_at == period.started_at + timedelta(seconds=60)

    assert due_slow_alerts_raise().locked == 0
    assert period_deadline_check(period_id=period.pk, armed_for=old_deadline) is None  # the old chain stops
    assert period_deadline_check(period_id=period.pk, armed_for=period.deadline_at) is None  # re-armed, too early
    assert overdue_periods_check() == 0
    assert not Alert.objects.exists()

    set_policy(shop, first=10, reply=10)  # moved back: 10 s after the question, so past
    batch = due_slow_alerts_raise()
    assert [a.waiting_period_id for a in batch.alerts] == [period.pk]


def test_concurrent_batches_and_checks_never_raise_twice(shop, monkeypatch):
    """Four threads (own connections) race batches of 10 and single checks over 90 due periods."""
    monkeypatch.setattr(overdue, "DEADLINE_BATCH", 10)
    set_policy(shop, first=5, reply=5)
    periods = _waiting(shop, 90)
    ids = [p.pk for p in periods]
    receiver = Receiver(shop.pk)
    start = threading.Barrier(4)
    created: list[list[int]] = [[] for _ in range(4)]
    errors: list[BaseException] = []

    def racer(index: int) -> None:
        try:
            start.wait()
            rng = random.Random(index)
            end = time.monotonic() + 30
            while Alert.objects.count() < len(ids) and time.monotonic() < end:
                if index % 2:
                    batch = due_slow_alerts_raise()
                    created[index] += [a.waiting_period_id for a in batch.alerts]
                else:
                    alert = period_deadline_check(period_id=rng.choice(ids))
                    if alert is not None:
                        created[index].append(alert.waiting_period_id)
        except Exception as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=racer, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    # Created (as each racer saw it) at most once; a single check reports only its own period.
    every = [pid for part in created for pid in part]
    assert len(every) == len(set(every))
    assert sum(1 for part in created if part) >= 2  # they did race
    assert Counter(Alert.objects.values_list("waiting_period_id", flat=True)) == Counter(dict.fromkeys(ids, 1))
    # And the browser saw each alert created exactly once.
    events = receiver.alert_events(90)
    assert sorted(e["alert"]["id"] for e in events) == sorted(Alert.objects.values_list("id", flat=True))


def test_a_batch_skips_a_conversation_being_measured_instead_of_waiting(shop):
    """A measurement holds the conversation (FOR UPDATE) and will lock its period next: the batch
    must not wait for that conversation (the alert insert's key-share lock would), or the two
    deadlock once the measurement asks for the period the batch holds."""
    set_policy(shop, first=5, reply=5)
    busy, *others = _waiting(shop, 5)
    locked, release, finished = threading.Event(), threading.Event(), threading.Event()

    def measurement() -> None:
        try:
            with transaction.atomic():
                Conversation.objects.select_for_update().get(pk=busy.conversation_id)
                locked.set()
                release.wait(10)
                # What waiting_periods_update does next: lock the conversation's periods.
                list(WaitingPeriod.objects.select_for_update().filter(conversation_id=busy.conversation_id))
            finished.set()
        finally:
            connections.close_all()

    thread = threading.Thread(target=measurement)
    thread.start()
    assert locked.wait(10)
    started = time.monotonic()
    batch = due_slow_alerts_raise()
    elapsed = time.monotonic() - started
    release.set()
    thread.join(20)

    assert elapsed < 2.0, f"the batch waited {elapsed:.1f} s for the measurement's conversation"
    assert finished.is_set()
    assert sorted(a.waiting_period_id for a in batch.alerts) == sorted(p.pk for p in others)
    # Its own deadline task (or the sweep) raises it afterwards, taking the locks in order.
    alert = period_deadline_check(period_id=busy.pk)
    assert alert is not None and alert.waiting_period_id == busy.pk
    assert Alert.objects.count() == 5


def test_alert_emails_queue_one_task_per_shop_until_it_runs(shop, owner, worker_factory, settings):
    settings.BALAS_ALERT_EMAIL_THROTTLE_MINUTES = 10
    mail.outbox.clear()
    channel = _channel(shop)
    conversations = [ConversationFactory(contact__channel=channel) for _ in range(6)]
    for i, conversation in enumerate(conversations[:3]):
        alert_raise(conversation=conversation, kind=Alert.Kind.TERSE_REPLY, title=f"Alert {i}")
    # No worker yet: three alerts, one queued e-mail task.
    assert _queued_tasks() == ["monitoring.tasks.alert_email_send"]

    with worker_factory():
        wait_for(lambda: len(mail.outbox) == 1)
        assert "3" in mail.outbox[0].subject
        # Inside the throttle window: the next alert's task queues the summary for the window's end,
        # and until then further alerts queue nothing.
        alert_raise(conversation=conversations[3], kind=Alert.Kind.TERSE_REPLY, title="Alert 3")
        wait_for(lambda: Shop.objects.get(pk=shop.pk).policy.alert_email_scheduled_for is not None)
        time.sleep(0.5)
    # The worker is gone; the summary task it held went back to the queue.
    queued = _queued_tasks()
    for i, conversation in enumerate(conversations[4:], start=4):
        alert_raise(conversation=conversation, kind=Alert.Kind.TERSE_REPLY, title=f"Alert {i}")
    assert _queued_tasks() == queued
    assert len(mail.outbox) == 1
    assert Alert.objects.filter(emailed_at__isnull=True).count() == 3


def test_a_failing_mail_server_is_retried_by_the_sweep_not_by_every_alert(shop, owner, settings):
    with socket.socket() as probe:  # a port nothing listens on: the connection is refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    channel = _channel(shop)
    first, second = (ConversationFactory(contact__channel=channel) for _ in range(2))
    alert_raise(conversation=first, kind=Alert.Kind.TERSE_REPLY, title="Pertama")
    assert _queued_tasks() == ["monitoring.tasks.alert_email_send"]
    redis.Redis.from_url(settings.REDIS_URL).delete("celery")

    assert alert_emails_flush(shop_id=shop.pk) == 0  # the send fails
    alert_email_send(shop.pk)  # a task queued meanwhile stops at once (no re-read, no new try)
    alert_raise(conversation=second, kind=Alert.Kind.TERSE_REPLY, title="Kedua")
    assert _queued_tasks() == []  # no task per alert while the server fails: the sweep tries again
    assert Alert.objects.filter(emailed_at__isnull=True).count() == 2

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox.clear()
    assert monitoring_sweep().alerts_emailed == 2
    assert len(mail.outbox) == 1 and "2" in mail.outbox[0].subject
