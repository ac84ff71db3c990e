"""Request middleware: the client's address, body size, the request's member, and an ASGI body limit.

Django's DATA_UPLOAD_MAX_MEMORY_SIZE only turns an oversized Content-Length into a bare 400 when
something reads `request.body`, and it does not see a chunked body without Content-Length. The
webhook and API views read raw JSON bodies, so the limit is enforced here, with a 413 that says
what is wrong.
"""

from __future__ import annotations

import io
import ipaddress
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from inbox.http import BalasRequest

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
        try:
            chunk = _unsized_body_read(request, limit + 1)
        except (OSError, ValueError) as exc:  # gunicorn: the client stopped before the last chunk
            logger.warning("request.body_incomplete path=%s error=%s", request.path, exc.__class__.__name__)
            return JsonResponse({"error": "request body ended before its last chunk"}, status=400)
        if len(chunk) > limit:
            logger.warning("request.too_large path=%s bytes>%d limit=%d", request.path, limit, limit)
            return _too_large(None, limit)
        _body_replace(request, chunk)
        return None


def _unsized_body_read(request: HttpRequest, size: int) -> bytes:
    """Up to `size` bytes of a body sent without Content-Length.

    Django's WSGIRequest reads such a body as empty (its stream is limited to Content-Length,
    taken as 0), so under gunicorn a chunked webhook was verified against b"" and a Shopee push
    answered 200 with nothing stored. gunicorn decodes `Transfer-Encoding: chunked` in
    `wsgi.input` and ends it at the last chunk, so read it from there. Under ASGI the request's
    own stream already holds the whole body.
    """
    environ = getattr(request, "environ", None)
    chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
    if isinstance(environ, dict) and "wsgi.input" in environ and chunked:
        data: bytes = environ["wsgi.input"].read(size)
        return data
    return request.read(size)


def _body_replace(request: HttpRequest, body: bytes) -> None:
    """Make `body` the request's body for every reader: `request.body`, `read()`, DRF, forms.

    DRF (and Django's multipart parser) go by CONTENT_LENGTH and read nothing without it, so it
    is set to the length actually read.
    """
    request._body = body  # type: ignore[attr-defined]  # what HttpRequest.body caches
    request._stream = io.BytesIO(body)  # type: ignore[attr-defined]  # what HttpRequest.read() reads
    request._read_started = False  # type: ignore[attr-defined]
    request.META["CONTENT_LENGTH"] = str(len(body))


class TrustedProxyMiddleware:
    """REMOTE_ADDR becomes the client's address when, and only when, the peer is a trusted proxy.

    gunicorn hands Django the TCP peer and never reads `X-Forwarded-For`, so behind the
    documented proxy every client had the proxy's address (one lockout key for everyone);
    uvicorn with `--forwarded-allow-ips='*'` believed any client's header (a key of its
    choosing). Here the header counts only from a peer in settings.BALAS_TRUSTED_PROXIES
    (addresses or CIDRs), and it is read from the right: the last address no trusted proxy
    added is the client. uvicorn (`ws`, and the demo's web) applies the same list through
    `--forwarded-allow-ips`, so the peer it reports is already the client and nothing changes here.
    Everything that asks for the client's address (django-axes, DRF's throttles, failed-token
    counting) reads REMOTE_ADDR after this; the TCP peer stays in META["BALAS_PEER_ADDR"].
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        peer = request.META.get("REMOTE_ADDR", "")
        request.META["BALAS_PEER_ADDR"] = peer
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded and address_is_trusted_proxy(peer):
            request.META["REMOTE_ADDR"] = forwarded_client(peer, forwarded)
        return self.get_response(request)


_NETWORK = ipaddress.IPv4Network | ipaddress.IPv6Network
_trusted_cache: tuple[tuple[str, ...], tuple[_NETWORK, ...]] | None = None


def _trusted_networks() -> tuple[_NETWORK, ...]:
    global _trusted_cache
    raw = tuple(str(item).strip() for item in settings.BALAS_TRUSTED_PROXIES if str(item).strip())
    if _trusted_cache is None or _trusted_cache[0] != raw:
        # strict=False: "10.0.0.1/8" means the network it lies in, as uvicorn reads it.
        _trusted_cache = (raw, tuple(ipaddress.ip_network(item, strict=False) for item in raw))
    return _trusted_cache[1]


def address_is_trusted_proxy(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in _trusted_networks())


def forwarded_client(peer: str, header: str) -> str:
    """The client behind `peer` by `X-Forwarded-For`: walking from the right, the first hop
    that is not a trusted proxy. A hop that is not an IP address stops the walk at the last
    trusted hop (it may be anything the client wrote). All hops trusted: the left-most."""
    client = peer
    for hop in reversed([part.strip() for part in header.split(",") if part.strip()]):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return client
        client = hop
        if not address_is_trusted_proxy(hop):
            return hop
    return client


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
