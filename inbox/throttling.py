"""Abuse limits: API request rates, wrong API tokens, and the browser/admin login lockout.

The API rates and the wrong-token count live in the shared cache (Redis in every deployed
setting), so every web process sees the same counts, and fail open: when the cache is
unreachable a request is let through and the outage is logged; throttling exists to blunt
floods, and refusing every member during a Redis outage would be a worse failure than not
counting for a minute. The login lockout is django-axes' (its counts are rows in PostgreSQL).
"""

from __future__ import annotations

import hashlib
import logging
import time
import unicodedata
from collections.abc import Mapping
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off
from django.conf import settings
from django.core.cache import cache
from django.db.models import Max, Sum
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
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


# --- login lockout (django-axes) ---------------------------------------------------------------
#
# django-axes counts failed logins (AccessAttempt rows in PostgreSQL, shared by every web process)
# and refuses a locked-out client in its authentication backend, before the password is checked.
# Balas configures it in config/settings/base.py and adds three things here: the lock key's
# username as Django's login form compares it, the client address from the trusted-proxy rule,
# and a separate, higher limit for one address trying many usernames.


def lockout_username(request: HttpRequest | None, credentials: Mapping[str, Any] | None) -> str:
    """AXES_USERNAME_CALLABLE: NFKC (what Django's login form applies) and casefold.

    The old key was `strip().lower()` of the raw field, so a fullwidth `ｏｗｎｅｒ@…`, which the
    form turns into `owner@…` and checks against the real account, counted under a key of its
    own: a fresh five guesses per look-alike spelling.
    """
    value: Any = None
    if credentials:
        value = credentials.get("username")
    if value is None and request is not None:
        value = request.POST.get("username")
    return unicodedata.normalize("NFKC", str(value or "")).strip().casefold()[:254]


def client_address(request: HttpRequest) -> str | None:
    """AXES_CLIENT_IP_CALLABLE (and the failed-token count): REMOTE_ADDR as
    inbox.middleware.TrustedProxyMiddleware left it, the one place that reads X-Forwarded-For.
    None for a request made up in code (force_login's), which has no client."""
    address = request.META.get("REMOTE_ADDR")
    return str(address) if address else None


class LockoutBackend(AxesStandaloneBackend):
    """Axes' lockout check for every authenticate() made for a request (login page, admin).

    authenticate() without a request (a management command, the test client's login()) has no
    client to lock out; axes would raise, so it is left to the next backend.
    """

    def authenticate(self, request: HttpRequest | None, *args: Any, **kwargs: Any) -> None:
        if request is None:
            return None
        super().authenticate(request, *args, **kwargs)
        return None


def _group_limits() -> list[int]:
    """One limit per entry of AXES_LOCKOUT_PARAMETERS: [(address, username), address]."""
    return [int(settings.AXES_FAILURE_LIMIT), int(settings.BALAS_LOGIN_MAX_FAILURES_PER_IP)]


class LockoutHandler(AxesDatabaseHandler):
    """Axes' database handler with a limit per lockout group.

    Axes compares one count (the largest of its groups) with one limit. Balas locks an address
    + username after AXES_FAILURE_LIMIT failures and an address after
    BALAS_LOGIN_MAX_FAILURES_PER_IP failures over any usernames (password spraying), so each
    group's count is scaled to AXES_FAILURE_LIMIT: floor(n * L / M) >= L exactly when n >= M.
    A correct password clears its address + username's failures, not the address-wide count.
    """

    def _group_counts(self, request: HttpRequest, credentials: dict[str, Any] | None) -> list[tuple[int, Any]]:
        counts = []
        for attempts in self.get_user_attempts(request, credentials):
            row = attempts.aggregate(total=Sum("failures_since_start"), latest=Max("attempt_time"))
            counts.append((int(row["total"] or 0), row["latest"]))
        return counts

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        limit = int(settings.AXES_FAILURE_LIMIT)
        scaled = [
            count if group_limit == limit else count * limit // max(1, group_limit)
            for (count, _), group_limit in zip(self._group_counts(request, credentials), _group_limits(), strict=False)
        ]
        return max(scaled, default=0)

    def lockout_remaining(self, request: HttpRequest, credentials: dict[str, Any] | None) -> int:
        """Seconds until every group that locks this request has cooled off."""
        cool_off = get_cool_off(request)
        if cool_off is None:
            return 0
        now = timezone.now()
        remaining = 0.0
        for (count, latest), group_limit in zip(
            self._group_counts(request, credentials), _group_limits(), strict=False
        ):
            if count >= group_limit and latest is not None:
                remaining = max(remaining, (latest + cool_off - now).total_seconds())
        return max(1, int(remaining + 0.999))

    def reset_user_attempts(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        attempts_list = self.filter_user_attempts(request, credentials)
        if not attempts_list:
            return 0
        count, _ = attempts_list[0].delete()
        return int(count)


def login_lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict[str, Any] | None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: 429 in the member's language, with Retry-After."""
    handler = LockoutHandler()
    remaining = handler.lockout_remaining(request, credentials)
    minutes = max(1, (remaining + 59) // 60)
    response = HttpResponse(
        _("Terlalu banyak percobaan masuk yang gagal. Coba lagi dalam %(minutes)d menit.") % {"minutes": minutes},
        status=429,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(remaining)
    logger.info("login.refused_locked ip=%s retry_after_s=%d", client_address(request) or "-", remaining)
    return response


# --- wrong API tokens ---------------------------------------------------------------------------
#
# A token is 256 random bits, so guessing one is hopeless; what the counter stops is a client
# hammering the token lookup (and the logs) with wrong tokens. Counted per client address in
# the shared cache; fails open like the API throttle.


def _token_keys(address: str) -> tuple[str, str]:
    digest = hashlib.sha256(address.encode()).hexdigest()[:32]
    return f"tokenfail:{digest}", f"tokenfail:{digest}:until"


def token_failures_wait(*, address: str) -> int:
    """Seconds this address must wait before its next token is even looked up; 0 when free."""
    count_key, until_key = _token_keys(address)
    try:
        values = cache.get_many([count_key, until_key])
    except Exception:
        logger.warning("token_guard.cache_unavailable", exc_info=True)
        return 0
    if int(values.get(count_key) or 0) < settings.BALAS_TOKEN_MAX_FAILURES:
        return 0
    return max(1, int(float(values.get(until_key) or 0) - time.time() + 0.999))


def token_failure_record(*, address: str) -> None:
    count_key, until_key = _token_keys(address)
    window = int(settings.BALAS_TOKEN_FAILURE_WINDOW_S)
    try:
        # add() opens the window (and its end, for Retry-After); incr() is atomic in Redis.
        if cache.add(count_key, 0, timeout=window):
            cache.set(until_key, time.time() + window, timeout=window)
        failures = cache.incr(count_key)
    except ValueError:  # the window closed between add() and incr()
        cache.set(count_key, 1, timeout=window)
        cache.set(until_key, time.time() + window, timeout=window)
        failures = 1
    except Exception:
        logger.warning("token_guard.cache_unavailable", exc_info=True)
        return
    if failures == settings.BALAS_TOKEN_MAX_FAILURES:
        logger.warning("token_guard.limited ip=%s failures=%d window_s=%d", address, failures, window)
