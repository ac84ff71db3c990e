"""Request middleware: body size, login lockout, the request's member, and an ASGI body limit.

Django's DATA_UPLOAD_MAX_MEMORY_SIZE only turns an oversized Content-Length into a bare 400 when
something reads `request.body`, and it does not see a chunked body without Content-Length. The
webhook and API views read raw JSON bodies, so the limit is enforced here, with a 413 that says
what is wrong.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from inbox.http import BalasRequest
from inbox.throttling import login_failure_record, login_lockout_remaining, login_success_record

logger = logging.getLogger("balas.web")

_BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def _too_large(size: int | None, limit: int) -> JsonResponse:
    if size is None:
        message = f"request body is larger than the limit of {limit} bytes"
    else:
        message = f"request body is {size} bytes; the limit is {limit} bytes"
    return JsonResponse({"error": message}, status=413)


class BodySizeLimitMiddleware:
    """413 for a body above settings.BALAS_MAX_BODY_BYTES, judged before any view reads it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in _BODY_METHODS:
            refused = self._check(request)
            if refused is not None:
                return refused
        return self.get_response(request)

    def _check(self, request: HttpRequest) -> HttpResponse | None:
        limit = int(settings.BALAS_MAX_BODY_BYTES)
        raw_length = request.META.get("CONTENT_LENGTH") or ""
        if raw_length:
            try:
                length = int(raw_length)
            except ValueError:
                return JsonResponse({"error": f"Content-Length {raw_length[:40]!r} is not a number"}, status=400)
            if length < 0:
                return JsonResponse({"error": "Content-Length must not be negative"}, status=400)
            if length > limit:
                logger.warning("request.too_large path=%s bytes=%d limit=%d", request.path, length, limit)
                return _too_large(length, limit)
            return None
        # No Content-Length (chunked): read at most limit + 1 bytes to decide, and keep them as
        # the body so the view still sees it.
        chunk = request.read(limit + 1)
        if len(chunk) > limit:
            logger.warning("request.too_large path=%s bytes>%d limit=%d", request.path, limit, limit)
            return _too_large(None, limit)
        request._body = chunk  # type: ignore[attr-defined]  # what HttpRequest.body caches
        return None


class LoginRateLimitMiddleware:
    """Lock out an IP + username after repeated failed logins on the browser and admin login pages.

    A failed login re-renders the form (200); a successful one redirects (302). While locked out
    the page answers 429 with Retry-After, even for the right password, so guessing stops paying.
    The client IP is REMOTE_ADDR: behind a proxy, the ASGI/WSGI server must set it from the
    proxy's header (uvicorn --proxy-headers --forwarded-allow-ips=<proxy>).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._paths: set[str] | None = None

    def _login_paths(self) -> set[str]:
        if self._paths is None:
            paths = set()
            for name in ("login", "admin:login"):
                try:
                    paths.add(reverse(name))
                except NoReverseMatch:
                    pass
            self._paths = paths
        return self._paths

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST" or request.path not in self._login_paths():
            return self.get_response(request)
        ip = request.META.get("REMOTE_ADDR", "") or "unknown"
        username = str(request.POST.get("username", ""))[:254]
        remaining = login_lockout_remaining(ip=ip, username=username)
        if remaining:
            minutes = max(1, (remaining + 59) // 60)
            response = HttpResponse(
                _("Terlalu banyak percobaan masuk yang gagal. Coba lagi dalam %(minutes)d menit.")
                % {"minutes": minutes},
                status=429,
                content_type="text/plain; charset=utf-8",
            )
            response["Retry-After"] = str(remaining)
            logger.info("login.refused_locked ip=%s retry_after_s=%d", ip, remaining)
            return response
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if response.status_code in (301, 302, 303) and user is not None and user.is_authenticated:
            login_success_record(ip=ip, username=username)
        elif response.status_code == 200 and username:
            login_failure_record(ip=ip, username=username)
        return response


_BALAS_REQUEST_CLASSES: dict[type[HttpRequest], type[BalasRequest]] = {}


def _balas_request_class(base: type[HttpRequest]) -> type[BalasRequest]:
    # The handler (WSGI, ASGI, the test client) has built its own request class already; this
    # one adds BalasRequest's lazy `member` on top of it, keeping everything the base does.
    made = _BALAS_REQUEST_CLASSES.get(base)
    if made is None:
        made = _BALAS_REQUEST_CLASSES.setdefault(base, type(f"Balas{base.__name__}", (BalasRequest, base), {}))
    return made


class MemberMiddleware:
    """Every request becomes a BalasRequest: `request.member` is the member behind it, or None.

    The member is looked up when something first reads it (a view, a DRF permission, the
    template's nav), from a member token in `Authorization: Token <token>` or else the session's
    user (see inbox.http.member_for_request). Goes after AuthenticationMiddleware, whose
    `request.user` the session case reads.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not isinstance(request, BalasRequest):
            request.__class__ = _balas_request_class(type(request))
        return self.get_response(request)


# --- ASGI ---------------------------------------------------------------------------------------

Scope = dict[str, Any]
# Mapping, as Django's ASGIHandler declares its send(): the wrapped app may be handed our send.
Message = Mapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class AsgiBodyLimit:
    """ASGI wrapper: refuse an HTTP body above the limit before Django buffers it.

    Django's ASGI handler reads the whole body (spooling to disk) before any middleware runs, so
    without this (or a proxy's `client_max_body_size`) a huge upload costs disk and time first.
    Wrap the HTTP application in config/asgi.py: `AsgiBodyLimit(django_asgi_app)`.
    """

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], limit: int | None = None) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        limit = self.limit if self.limit is not None else int(settings.BALAS_MAX_BODY_BYTES)
        headers = dict(scope.get("headers") or [])
        raw_length = headers.get(b"content-length")
        if raw_length is not None:
            try:
                if int(raw_length) > limit:
                    await self._refuse(send, int(raw_length), limit)
                    return
            except ValueError:
                pass  # Django's middleware answers 400 with the reason
            await self.app(scope, receive, send)
            return
        # Chunked: buffer up to the limit, then replay to the app.
        buffered: list[Message] = []
        size = 0
        while True:
            message = await receive()
            buffered.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > limit:
                await self._refuse(send, None, limit)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            if buffered:
                return buffered.pop(0)
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(send: Send, size: int | None, limit: int) -> None:
        logger.warning("request.too_large bytes=%s limit=%d", size if size is not None else ">limit", limit)
        if size is None:
            text = f"request body is larger than the limit of {limit} bytes"
        else:
            text = f"request body is {size} bytes; the limit is {limit} bytes"
        body = json.dumps({"error": text}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})
