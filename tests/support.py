"""Helpers shared by the test packages: polling, this run's own Redis db, a real Celery worker."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import redis
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from config import celery_app


def wait_for(predicate: Callable[[], Any], timeout: float = 20.0, interval: float = 0.05) -> Any:
    """Poll until predicate() is truthy; fail the test with a clear message after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s: {predicate}")
        time.sleep(interval)


def redis_flush() -> None:
    """Empty this test run's own Redis db (broker queues, channel groups, cache), never another."""
    redis.Redis.from_url(settings.REDIS_URL).flushdb()


@contextmanager
def running_worker(concurrency: int = 4) -> Iterator[Any]:
    """A real Celery worker (threads) consuming this run's broker, for the length of the block."""
    with start_worker(
        celery_app,
        pool="threads",
        concurrency=concurrency,
        perform_ping_check=False,
        loglevel="WARNING",
        shutdown_timeout=30,
    ) as worker:
        pool = worker.pool
        yield worker
    # start_worker stops the worker cold, and a cold stop of the threads pool does not wait for the
    # tasks it is running: one still inside a transaction raced the test's teardown (its TRUNCATE
    # deadlocked, and the next test found the rows left behind). Wait for them here.
    executor = getattr(pool, "executor", None)
    if executor is not None:
        executor.shutdown(wait=True, cancel_futures=True)
