"""The one place monitoring queues Celery work.

Services decide what must run later; this module hands it to the broker, by task name, so no
service imports the tasks module (which imports the services: a circle). Work decided inside a
transaction is queued after its commit (`*_on_commit`, what Celery's `delay_on_commit` does), so a
task never runs before the rows it reads exist.

Queueing is best effort by design. When the broker is down, the circuit breaker skips further
attempts for a few seconds instead of paying a connection timeout on every request; whatever is
not queued is logged and counted here, and the monitoring sweep does it late
(monitoring.services.sweep: unmeasured messages, overdue periods, un-e-mailed alerts).
"""

from __future__ import annotations

import functools
import logging
import threading
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from celery import current_app
from django.db import transaction

from inbox.resilience import CircuitOpenError, broker_breaker

logger = logging.getLogger("balas.monitoring")

# The tasks of monitoring/tasks.py (tests/monitoring/test_scheduling.py checks each is registered
# with these arguments).
MESSAGE_MEASURE = "monitoring.tasks.message_measure"
DEADLINE_CHECK = "monitoring.tasks.deadline_check"
DEADLINES_DUE = "monitoring.tasks.deadlines_due"
WARNING_CHECK = "monitoring.tasks.warning_check"
ALERT_EMAIL_SEND = "monitoring.tasks.alert_email_send"
PUSH_SEND = "monitoring.tasks.push_send"
BROWSER_NOTIFY_FLUSH = "monitoring.tasks.browser_notify_flush"

_lost_lock = threading.Lock()
# Task name -> how many this process could not queue (skipped by the open breaker, or failed).
_lost: Counter[str] = Counter()


def lost_counts() -> dict[str, int]:
    """How many tasks of each name this process could not hand to the broker (the sweep did them)."""
    with _lost_lock:
        return dict(_lost)


def task_queue(name: str, args: Sequence[Any], *, eta: datetime | None = None, strict: bool = False) -> bool:
    """Queue one task now; True once the broker has it.

    A failure is logged and counted; with `strict` it is raised too (a caller with a fallback of its
    own, such as the deadline buckets' Redis mark, must know).
    """
    try:
        broker_breaker.call(lambda: current_app.send_task(name, args=tuple(args), eta=eta))
    except CircuitOpenError:
        _count_lost(name)
        logger.info("tasks.enqueue_skipped task=%s args=%s", name, list(args))
        if strict:
            raise
        return False
    except Exception:
        _count_lost(name)
        logger.warning("tasks.enqueue_failed task=%s args=%s", name, list(args), exc_info=True)
        if strict:
            raise
        return False
    return True


def task_queue_on_commit(name: str, args: Sequence[Any], *, eta: datetime | None = None) -> None:
    """Queue one task once the current transaction commits (at once outside one)."""
    transaction.on_commit(functools.partial(task_queue, name, tuple(args), eta=eta))


def measure_queue(*, message_ids: Sequence[int]) -> None:
    """Measure these messages in the worker (each its own task: one conversation lock each)."""
    for message_id in message_ids:
        task_queue(MESSAGE_MEASURE, (message_id,))


def _count_lost(name: str) -> None:
    with _lost_lock:
        _lost[name] += 1
        total = _lost[name]
    if total in (1, 10, 100) or total % 1000 == 0:
        logger.warning("tasks.enqueue_lost_total task=%s total=%d", name, total)
