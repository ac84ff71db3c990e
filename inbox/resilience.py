"""Fail fast when Redis is down: a per-process circuit breaker for best-effort Redis calls.

Webhooks must answer 200 as soon as their rows are committed, whatever Redis is doing. Publishing a
live event or queueing a monitoring task after commit is best effort (the monitoring sweep measures
whatever was never queued; browsers re-read on reconnect), so after one failure the breaker skips
further attempts for a few seconds instead of paying a connection attempt (and Celery's publish
retries) on every request of an outage.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings

logger = logging.getLogger("balas.resilience")

T = TypeVar("T")


class CircuitOpenError(Exception):
    """The call was skipped: the dependency failed moments ago."""


class CircuitBreaker:
    """Open for `cooldown_s` after a failure; the first call after that is the probe."""

    def __init__(self, name: str, cooldown_s: Callable[[], float]) -> None:
        self.name = name
        self._cooldown_s = cooldown_s
        self._open_until = 0.0
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        return time.monotonic() < self._open_until

    def call(self, func: Callable[[], T]) -> T:
        if self.is_open:
            raise CircuitOpenError(self.name)
        try:
            result = func()
        except Exception:
            self.failed()
            raise
        self.succeeded()
        return result

    def failed(self) -> None:
        """Record a failure of a call made without `call` (e.g. awaited on an event loop)."""
        with self._lock:
            was_closed = not self.is_open
            self._open_until = time.monotonic() + self._cooldown_s()
        if was_closed:
            logger.warning("redis.circuit_open breaker=%s cooldown_s=%.1f", self.name, self._cooldown_s())

    def succeeded(self) -> None:
        if self._open_until:
            with self._lock:
                if self._open_until:
                    self._open_until = 0.0
                    logger.info("redis.circuit_closed breaker=%s", self.name)

    def reset(self) -> None:
        with self._lock:
            self._open_until = 0.0


def _cooldown() -> float:
    return float(getattr(settings, "BALAS_REDIS_BREAKER_COOLDOWN_S", 5.0))


# One breaker per use: the broker and the channel layer may live on different Redis servers.
broker_breaker = CircuitBreaker("broker", _cooldown)
channel_layer_breaker = CircuitBreaker("channel_layer", _cooldown)
