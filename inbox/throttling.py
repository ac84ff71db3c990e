"""Abuse limits: API request rates and the browser/admin login lockout.

Both keep their counters in the shared cache (Redis in every deployed setting), so every web
process sees the same counts. Both fail open: when the cache is unreachable a request is let
through and the outage is logged; throttling exists to blunt floods, and refusing every member
during a Redis outage would be a worse failure than not counting for a minute.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from inbox.models import Channel, Member

logger = logging.getLogger("balas.throttling")

_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class ApiRateThrottle(SimpleRateThrottle):
    """One throttle for the whole API; the scope and the identity come from the caller.

    - an `api` channel token: scope `channel_push`, counted per channel;
    - a member (token or browser session): `member_read` for GET/HEAD/OPTIONS, `member_write`
      otherwise, counted per member (a view may set `throttle_scope` to use its own rate);
    - anyone else: `anon`, counted per client IP.
    Rates come from settings.BALAS_THROTTLE_RATES at request time, so they can be tuned per
    deployment (and per test) without touching code.
    """

    scope_name = ""
    ident = ""

    def __init__(self) -> None:  # the rate is chosen per request, not per class
        self.rate = None

    def allow_request(self, request: Request, view: Any) -> bool:
        self.scope_name, self.ident = self._scope_and_ident(request, view)
        self.rate = settings.BALAS_THROTTLE_RATES.get(self.scope_name)
        if not self.rate:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        try:
            allowed = super().allow_request(request, view)
        except Exception:
            logger.warning("throttle.cache_unavailable scope=%s", self.scope_name, exc_info=True)
            return True
        if not allowed:
            logger.info("throttle.limited scope=%s who=%s", self.scope_name, self.ident)
        return allowed

    def get_cache_key(self, request: Request, view: Any) -> str:
        return self.cache_format % {"scope": self.scope_name, "ident": self.ident}

    def _scope_and_ident(self, request: Request, view: Any) -> tuple[str, str]:
        auth = request.auth
        if isinstance(auth, Channel):
            return "channel_push", f"channel:{auth.pk}"
        user = request.user
        if user is not None and user.is_authenticated and user.pk is not None:
            if isinstance(auth, Member):
                ident = f"member:{auth.pk}"
            else:
                ident = f"user:{user.pk}"
            scope = getattr(view, "throttle_scope", None)
            if not scope:
                scope = "member_read" if request.method in _SAFE_METHODS else "member_write"
            return scope, ident
        return "anon", f"ip:{self.get_ident(request)}"


# --- login lockout ----------------------------------------------------------------------------


def _digest(*parts: str) -> str:
    # Hash so a username (an e-mail address) never appears as a cache key.
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:32]


def _keys(ip: str, username: str) -> tuple[str, str, str]:
    pair = _digest(ip, username.strip().lower())
    return f"login:fail:{pair}", f"login:lock:{pair}", f"login:ipfail:{_digest(ip)}"


def login_lockout_remaining(*, ip: str, username: str) -> int:
    """Seconds this IP + username (or this IP altogether) is still locked out; 0 when free."""
    _, lock_key, ip_key = _keys(ip, username)
    try:
        locked_until = cache.get(lock_key)
        ip_failures = int(cache.get(ip_key) or 0)
        ip_lock = cache.get(f"{ip_key}:lock")
    except Exception:
        logger.warning("login.guard_unavailable", exc_info=True)
        return 0
    now = time.time()
    remaining = 0.0
    if locked_until:
        remaining = max(remaining, float(locked_until) - now)
    if ip_lock and ip_failures >= settings.BALAS_LOGIN_MAX_FAILURES_PER_IP:
        remaining = max(remaining, float(ip_lock) - now)
    return max(0, int(remaining + 0.999))


def login_failure_record(*, ip: str, username: str) -> int:
    """Count one failed login; lock the IP + username out once it reaches the limit.

    Returns the failures counted for this IP + username in the current window.
    """
    fail_key, lock_key, ip_key = _keys(ip, username)
    window = settings.BALAS_LOGIN_WINDOW_S
    lockout = settings.BALAS_LOGIN_LOCKOUT_S
    try:
        # add() starts the window; incr() is atomic in Redis, so parallel guesses all count.
        cache.add(fail_key, 0, timeout=window)
        failures = cache.incr(fail_key)
        cache.add(ip_key, 0, timeout=window)
        ip_failures = cache.incr(ip_key)
        if failures >= settings.BALAS_LOGIN_MAX_FAILURES:
            cache.set(lock_key, time.time() + lockout, timeout=lockout)
            logger.warning("login.locked_out ip=%s failures=%d lockout_s=%d", ip, failures, lockout)
        if ip_failures >= settings.BALAS_LOGIN_MAX_FAILURES_PER_IP:
            cache.set(f"{ip_key}:lock", time.time() + lockout, timeout=lockout)
            logger.warning("login.ip_locked_out ip=%s failures=%d lockout_s=%d", ip, ip_failures, lockout)
    except ValueError:
        # The counter expired between add() and incr(): this failure starts a new window.
        cache.set(fail_key, 1, timeout=window)
        failures = 1
    except Exception:
        logger.warning("login.guard_unavailable", exc_info=True)
        return 0
    logger.info("login.failed ip=%s failures=%d", ip, failures)
    return int(failures)


def login_success_record(*, ip: str, username: str) -> None:
    """A correct password clears this IP + username's failures (not the IP-wide count)."""
    fail_key, lock_key, _ = _keys(ip, username)
    try:
        cache.delete_many([fail_key, lock_key])
    except Exception:
        logger.warning("login.guard_unavailable", exc_info=True)
