"""Platform webhook endpoints: verify, store durably, answer fast.

The answer codes are the contract's: 200 once stored (also for a duplicate), 401 for a bad
or missing signature with nothing stored, 400 for a body that is not the platform's JSON,
404 for an account id that no channel has.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from inbox.adapters import get_adapter
from inbox.adapters.base import ParsedEvent, PayloadError, PlatformAdapter, json_clean
from inbox.models import Channel, Platform
from inbox.selectors import webhook_channels, webhook_channels_forget
from inbox.services import deliveries_ingest

logger = logging.getLogger("balas.webhooks")


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def webhook(request: HttpRequest, platform: str) -> HttpResponse:
    if platform == Platform.API:
        return _error(404, "the api channel receives messages at /api/v1/channels/{id}/messages/")
    try:
        adapter = get_adapter(platform)
    except LookupError:
        return _error(404, f"unknown platform {platform!r}")
    if request.method == "GET":
        return _handshake(request, adapter)
    return _receive(request, adapter)


def _handshake(request: HttpRequest, adapter: PlatformAdapter) -> HttpResponse:
    if not adapter.supports_handshake:
        return _error(405, "this platform has no subscription handshake")
    mode = request.GET.get("hub.mode", "")
    token = request.GET.get("hub.verify_token", "")
    challenge = request.GET.get("hub.challenge", "")
    if mode != "subscribe" or not token:
        return HttpResponse("verification failed", status=403, content_type="text/plain")
    for channel in Channel.objects.filter(platform=adapter.platform, is_active=True).only("id", "secrets"):
        expected = str(channel.secrets.get("verify_token", ""))
        if expected and hmac.compare_digest(expected.encode(), token.encode()):
            logger.info("webhook.handshake_ok platform=%s channel=%s", adapter.platform, channel.pk)
            return HttpResponse(challenge, content_type="text/plain")
    logger.warning("webhook.handshake_refused platform=%s", adapter.platform)
    return HttpResponse("verification failed", status=403, content_type="text/plain")


def _receive(request: HttpRequest, adapter: PlatformAdapter) -> HttpResponse:
    raw = request.body
    if adapter.platform == Platform.SHOPEE and not raw.strip():
        # Shopee probes a callback URL with an empty POST when it is saved; it wants a 2xx.
        return HttpResponse(b"", status=200)
    try:
        # Decode strictly first: json.loads(bytes) would also accept UTF-16/32, which the raw
        # event (stored as UTF-8 text) cannot hold.
        text = raw.decode("utf-8")
        # NULs and half-emojis cannot be stored in PostgreSQL text: clean once for every platform.
        payload: Any = json_clean(json.loads(text))
    except UnicodeDecodeError as exc:
        return _error(400, f"body is not UTF-8: {exc.reason} at byte {exc.start}")
    except ValueError as exc:  # JSONDecodeError, or an integer longer than Python converts
        return _error(400, f"body is not valid JSON: {exc}")
    except RecursionError:
        return _error(400, "body is not valid JSON: nested too deeply")
    try:
        account_ids = adapter.account_ids(payload)
    except PayloadError as exc:
        return _error(400, f"body is not a {adapter.platform} webhook: {exc}")
    # The channels come from this process's copy first; one changed since it was read (a secret
    # rotated, deactivated) is verified again against the stored row, and nothing was written.
    answer = _deliver(request, adapter, payload=payload, text=text, account_ids=account_ids, cached=True)
    if answer is None:
        webhook_channels_forget(platform=adapter.platform, account_ids=account_ids)
        answer = _deliver(request, adapter, payload=payload, text=text, account_ids=account_ids, cached=False)
    assert answer is not None  # fresh channels never count as changed
    return answer


def _deliver(
    request: HttpRequest, adapter: PlatformAdapter, *, payload: Any, text: str, account_ids: list[str], cached: bool
) -> HttpResponse | None:
    """The answer to a delivery, or None (nothing written) when a channel from the copy has changed."""
    raw = request.body
    channels = webhook_channels(platform=adapter.platform, account_ids=account_ids, cached=cached)
    if not channels:
        logger.info("webhook.unknown_account platform=%s", adapter.platform)
        return _error(404, f"no {adapter.platform} channel has account id {', '.join(account_ids)}")

    headers = request.headers
    verified = [c for c in channels if adapter.verify(secrets=c.secrets, raw_body=raw, headers=headers)]
    if not verified:
        if cached:
            # Perhaps signed with a secret rotated since this process read the channel.
            return None
        logger.warning("webhook.bad_signature platform=%s", adapter.platform)
        return _error(401, "signature is missing or wrong")

    parsed: list[tuple[Channel, ParsedEvent]] = []
    for channel in verified:
        try:
            event = adapter.parse(payload=payload, account_id=channel.account_id, secrets=channel.secrets)
        except PayloadError as exc:
            return _error(400, f"body is not a {adapter.platform} webhook: {exc}")
        parsed.append((channel, event))

    errors = [error for _, event in parsed for error in event.errors]
    if errors and all(event.is_empty and not event.ignored for _, event in parsed):
        logger.info("webhook.rejected platform=%s errors=%d", adapter.platform, len(errors))
        return _error(400, "; ".join(errors)[:1000])

    deliveries = [
        (
            channel,
            ParsedEvent(
                messages=event.messages,
                statuses=event.statuses,
                ignored=event.ignored + tuple(f"invalid: {e}" for e in event.errors),
            )
            if event.errors
            else event,
        )
        for channel, event in parsed
    ]
    if deliveries_ingest(deliveries=deliveries, raw_body=text) is None:
        return None

    if adapter.platform == Platform.SHOPEE:
        return HttpResponse(b"", status=200)
    return JsonResponse({"received": True})
