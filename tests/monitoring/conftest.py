"""Monitoring fixtures: a real Celery worker on the test Redis, quick policies, message helpers."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.utils import timezone

from config import celery_app
from inbox.adapters.base import NormalizedMessage
from inbox.models import Channel, Message
from inbox.services.ingest import message_push
from monitoring.business_hours import ALWAYS_OPEN
from monitoring.services.policy import policy_update
from tests.factories import ChannelFactory

_ids = itertools.count(1)


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
    """Empty this test run's own Redis db (its broker queues and channel groups), never another."""
    redis.Redis.from_url(settings.REDIS_URL).flushdb()


@contextmanager
def running_worker() -> Iterator[Any]:
    with start_worker(
        celery_app,
        pool="threads",
        concurrency=4,
        perform_ping_check=False,
        loglevel="WARNING",
        shutdown_timeout=30,
    ) as worker:
        yield worker


@pytest.fixture
def worker_factory(transactional_db: Any) -> Callable[[], Any]:
    """Start (and stop) real Celery workers inside a test: `with worker_factory(): ...`."""
    redis_flush()
    return running_worker


@pytest.fixture
def celery_worker(worker_factory: Callable[[], Any]) -> Iterator[Any]:
    with worker_factory() as worker:
        yield worker
    redis_flush()


def set_policy(shop: Any, *, first: int = 300, reply: int = 600, hours: Any = None, tz: str = "Asia/Jakarta") -> None:
    policy_update(
        shop_id=shop.pk,
        data={
            "first_reply_target_s": first,
            "reply_target_s": reply,
            "timezone": tz,
            "business_hours": hours if hours is not None else ALWAYS_OPEN,
        },
    )


@pytest.fixture
def api_channel(shop: Any) -> Channel:
    return ChannelFactory(shop=shop, platform="api", account_id=f"api-{shop.pk}", name="Toko web")


def push(
    channel: Channel,
    *,
    direction: str = "in",
    text: str = "Kak ready?",
    sent_at: datetime | None = None,
    source: str | None = None,
    contact: str = "6281200000001",
    contact_name: str = "Siti",
) -> Message:
    """Store a message the way an API client pushes one (commit, then the real monitoring task)."""
    normalized = NormalizedMessage(
        platform_message_id=f"push-{next(_ids)}-{time.monotonic_ns()}",
        contact_external_id=contact,
        contact_name=contact_name,
        direction=direction,  # type: ignore[arg-type]
        source=source or ("customer" if direction == "in" else "api"),  # type: ignore[arg-type]
        sent_at=sent_at or timezone.now(),
        text=text,
    )
    message, _ = message_push(channel=channel, normalized=normalized)
    return message
