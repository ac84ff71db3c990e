"""What happens after a message is committed: live events and queued follow-up work."""

from __future__ import annotations

import functools
import logging
import os
import queue
import threading
from collections.abc import Sequence
from functools import cache
from typing import Any

from django.db import transaction

from inbox.models import Conversation, Message
from inbox.realtime import event_publish
from inbox.resilience import CircuitOpenError, broker_breaker

logger = logging.getLogger("balas.events")


@cache
def _serializer(name: str) -> Any:
    """One read-only serializer instance per kind, reused for every event.

    DRF builds a serializer's fields (and its nested serializers' fields) anew for each instance;
    for an event payload that was most of the time a webhook spent in Python (docs/benchmarks.md).
    `to_representation` of a bound serializer keeps no per-object state, so the output is the same.
    """
    from inbox import serializers

    return getattr(serializers, name)()


def _message_data(message: Message) -> dict[str, Any]:
    return dict(_serializer("MessageSerializer").to_representation(message))


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
        payload={"conversation": dict(_serializer("ConversationEventSerializer").to_representation(conversation))},
    )


def message_followups_enqueue(*, message_ids: Sequence[int]) -> None:
    """Queue the monitoring work for new messages after commit.

    The commit hands the ids to this process's sender thread and returns: the broker's round trip
    (most of a webhook's remaining time, docs/benchmarks.md) is no longer paid inside the request.
    If the broker is unreachable, the process dies before sending, or the hand-over queue is full,
    the messages are still committed: the monitoring sweep picks up every message never measured.
    """
    ids = list(message_ids)
    transaction.on_commit(lambda: _followups_sender.submit(ids))


def _measure_enqueue(message_id: int) -> None:
    from monitoring.tasks import message_measure

    try:
        # Fail fast in an outage: the sweep measures whatever is skipped here.
        broker_breaker.call(functools.partial(message_measure.delay, message_id))
    except CircuitOpenError:
        logger.info("tasks.enqueue_skipped task=message_measure message=%s", message_id)
    except Exception:
        logger.warning("tasks.enqueue_failed task=message_measure message=%s", message_id, exc_info=True)


class _FollowupsSender:
    """A daemon thread per process that queues the measuring tasks handed over by commits."""

    LIMIT = 10_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: queue.Queue[int] = queue.Queue(self.LIMIT)
        self._pid = 0

    def submit(self, ids: list[int]) -> None:
        with self._lock:
            if self._pid != os.getpid():  # first use, or a forked child (gunicorn, Celery prefork)
                self._queue = queue.Queue(self.LIMIT)
                threading.Thread(target=self._run, args=(self._queue,), name="balas-followups", daemon=True).start()
                self._pid = os.getpid()
            pending = self._queue
        for message_id in ids:
            try:
                pending.put_nowait(message_id)
            except queue.Full:
                logger.warning("tasks.enqueue_dropped task=message_measure message=%s", message_id)

    @staticmethod
    def _run(pending: queue.Queue[int]) -> None:
        while True:
            _measure_enqueue(pending.get())


_followups_sender = _FollowupsSender()
