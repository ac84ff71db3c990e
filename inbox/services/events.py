"""What happens after a message is committed: live events and queued follow-up work."""

from __future__ import annotations

import functools
import logging
import os
import queue
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from rest_framework.fields import DateTimeField

from inbox.models import Conversation, Message
from inbox.realtime import event_publish
from inbox.resilience import CircuitOpenError, broker_breaker

logger = logging.getLogger("balas.events")


# DRF's own datetime formatting (the current time zone, ISO 8601), so events read like the API.
_datetime_field = DateTimeField(read_only=True)


def _when(value: datetime | None) -> str | None:
    return None if value is None else _datetime_field.to_representation(value)


def _message_data(message: Message) -> dict[str, Any]:
    """`MessageSerializer(message).data`, built directly.

    A webhook publishes two events; DRF's serializers took about a tenth of its Python time to
    build them (docs/benchmarks.md). tests/inbox/test_event_payloads.py holds these builders to
    the serializers' output, so the API and the events cannot drift apart.
    """
    sender = message.sent_by.display_name if message.sent_by_id is not None and message.sent_by else None
    return {
        "id": message.pk,
        "conversation": message.conversation_id,
        "platform_message_id": message.platform_message_id,
        "direction": message.direction,
        "source": message.source,
        "kind": message.kind,
        "text": message.text,
        "attachments": message.attachments,
        "sent_at": _when(message.sent_at),
        "status": message.status,
        "error": message.error,
        "sender": sender if sender is not None else message.sender_label,
    }


def _conversation_data(conversation: Conversation) -> dict[str, Any]:
    """`ConversationEventSerializer(conversation).data`, built directly (see `_message_data`)."""
    channel, contact, last = conversation.channel, conversation.contact, conversation.last_message
    return {
        "id": conversation.pk,
        "channel": {"id": channel.pk, "platform": channel.platform, "name": channel.name},
        "contact": {"id": contact.pk, "external_id": contact.external_id, "name": contact.name},
        "status": conversation.status,
        "assignee": conversation.assignee_id,
        "waiting_since": _when(conversation.waiting_since),
        "unread_count": conversation.unread_count,
        "last_message": None
        if last is None
        else {
            "id": last.pk,
            "direction": last.direction,
            "source": last.source,
            "kind": last.kind,
            "text": last.text,
            "sent_at": _when(last.sent_at),
            "status": last.status,
        },
        "last_message_at": _when(conversation.last_message_at),
    }


def message_events_publish(*, message: Message, conversation: Conversation) -> None:
    event_publish(
        shop_id=message.shop_id,
        event_type="message.created",
        payload={"conversation_id": conversation.pk, "message": _message_data(message)},
    )
    conversation_updated_publish(conversation=conversation)


def message_updated_publish(*, message: Message) -> None:
    event_publish(
        shop_id=message.shop_id,
        event_type="message.updated",
        payload={"conversation_id": message.conversation_id, "message": _message_data(message)},
    )


def conversation_updated_publish(*, conversation: Conversation) -> None:
    event_publish(
        shop_id=conversation.shop_id,
        event_type="conversation.updated",
        payload={"conversation": _conversation_data(conversation)},
    )


def message_followups_enqueue(*, message_ids: Sequence[int]) -> None:
    """Queue the monitoring work for new messages after commit.

    The commit hands the ids to this process's sender thread and returns: the broker's round trip
    (most of a webhook's remaining time, docs/benchmarks.md) is no longer paid inside the request.
    If the broker is unreachable, the process dies before sending, or the hand-over queue is full,
    the messages are still committed: the monitoring sweep picks up every message never measured.
    """
    calls = [functools.partial(_measure_enqueue, message_id) for message_id in message_ids]
    transaction.on_commit(lambda: _followups_sender.submit(calls))


def period_deadline_arm_enqueue(*, period_id: int, deadline_at: datetime) -> None:
    """Arm a waiting period's deadline check after commit, from the sender thread.

    A lost arm is covered by the sweep, which raises every overdue period (monitoring.services.sweep).
    """
    call = functools.partial(_deadline_arm, period_id, deadline_at)
    transaction.on_commit(lambda: _followups_sender.submit([call]))


def _deadline_arm(period_id: int, deadline_at: datetime) -> None:
    from monitoring.services.periods import deadline_arm

    _broker_call(
        functools.partial(deadline_arm, period_id=period_id, deadline_at=deadline_at),
        what=f"task=deadline_check period={period_id}",
    )


def _measure_enqueue(message_id: int) -> None:
    from monitoring.tasks import message_measure

    _broker_call(
        functools.partial(message_measure.delay, message_id), what=f"task=message_measure message={message_id}"
    )


def _broker_call(call: Callable[[], Any], *, what: str) -> None:
    """Queue a task through the broker's circuit breaker; what is skipped or lost is the sweep's."""
    try:
        # Fail fast in an outage: the sweep measures and raises whatever is skipped here.
        broker_breaker.call(call)
    except CircuitOpenError:
        logger.info("tasks.enqueue_skipped %s", what)
    except Exception:
        logger.warning("tasks.enqueue_failed %s", what, exc_info=True)


class _FollowupsSender:
    """A daemon thread per process that queues the tasks handed over by commits."""

    LIMIT = 10_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: queue.Queue[Callable[[], None]] = queue.Queue(self.LIMIT)
        self._pid = 0

    def submit(self, calls: Sequence[Callable[[], None]]) -> None:
        with self._lock:
            if self._pid != os.getpid():  # first use, or a forked child (gunicorn, Celery prefork)
                self._queue = queue.Queue(self.LIMIT)
                threading.Thread(target=self._run, args=(self._queue,), name="balas-followups", daemon=True).start()
                self._pid = os.getpid()
            pending = self._queue
        for call in calls:
            try:
                pending.put_nowait(call)
            except queue.Full:
                logger.warning("tasks.enqueue_dropped call=%r", call)

    @staticmethod
    def _run(pending: queue.Queue[Callable[[], None]]) -> None:
        while True:
            call = pending.get()
            try:
                call()
            except Exception:
                # Both calls log their own failures; this keeps the thread alive for the next one.
                logger.exception("tasks.enqueue_failed call=%r", call)


_followups_sender = _FollowupsSender()
