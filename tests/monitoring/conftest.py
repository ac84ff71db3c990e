"""Monitoring fixtures: a real Celery worker on the test Redis, quick policies, message helpers."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from django.utils import timezone

from inbox.adapters.base import NormalizedMessage
from inbox.models import Channel, Message
from inbox.services.ingest import message_push
from monitoring.business_hours import ALWAYS_OPEN
from monitoring.services.policy import policy_update
from tests.factories import ChannelFactory
from tests.support import redis_flush, running_worker

_ids = itertools.count(1)


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


def set_policy(
    shop: Any,
    *,
    first: int = 300,
    reply: int = 600,
    hours: Any = None,
    tz: str = "Asia/Jakarta",
    warn: int | None = None,
) -> None:
    data: dict[str, Any] = {
        "first_reply_target_s": first,
        "reply_target_s": reply,
        "timezone": tz,
        "business_hours": hours if hours is not None else ALWAYS_OPEN,
    }
    if warn is not None:
        data["warn_at_pct"] = warn
    policy_update(shop_id=shop.pk, data=data)


@pytest.fixture
def no_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    """No `reply_due_soon` warning before the breach: for the tests of the breach alert on its own
    (counting its alerts, tasks and events); tests/monitoring/test_warnings.py covers the warning."""
    from monitoring.services import deadlines, waiting

    def never(*args: Any, **kwargs: Any) -> None:
        return None

    monkeypatch.setattr(deadlines, "warning_moment", never)
    monkeypatch.setattr(waiting, "warning_moment", never)


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
