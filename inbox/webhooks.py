"""Platform webhook endpoints: verify, store durably, answer fast.

The answer codes are the contract's: 200 once stored (also for a duplicate), 401 for a bad
or missing signature with nothing stored, 400 for a body that is not the platform's JSON,
404 for an account id that no channel has. Nothing here knows a platform: what differs (the
handshake, a probe, the success body) is asked of the adapter.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from inbox.adapters import get_adapter
from inbox.adapters.base import ParsedEvent, PayloadError, PlatformAdapter, json_clean
from inbox.models import Channel, Platform
from inbox.selectors import webhook_channels, webhook_channels_forget, webhook_verify_tokens
from inbox.services import deliveries_ingest

logger = logging.getLogger("balas.webhooks")


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def webhook(request: HttpRequest, platform: str) -> HttpResponse:
    try:
        adapter = get_adapter(platform)
    except LookupError:
        if platform in Platform.values:
            # A platform with channels but no adapter has no webhook: its clients push to the API.
            return _error(404, f"the {platform} channel receives messages at /api/v1/channels/{{id}}/messages/")
        return _error(404, f"unknown platform {platform!r}")
    if request.method == "GET":
        return _handshake(request, adapter)
    return _receive(request, adapter)


def _handshake(request: HttpRequest, adapter: PlatformAdapter) -> HttpResponse:
    if not adapter.supports_handshake:
        return _error(405, "this platform has no subscription handshake")
    candidates = webhook_verify_tokens(platform=adapter.platform)
    answer = adapter.handshake(params=request.GET.dict(), verify_tokens=[token for _, token in candidates])
    if answer.matched is not None:
        logger.info("webhook.handshake_ok platform=%s channel=%s", adapter.platform, candidates[answer.matched][0])
    else:
        logger.warning("webhook.handshake_refused platform=%s", adapter.platform)
    return HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)


def _received(adapter: PlatformAdapter) -> HttpResponse:
    answer = adapter.success_answer
    return HttpResponse(answer.body, status=200, content_type=answer.content_type)


def _receive(request: HttpRequest, adapter: PlatformAdapter) -> HttpResponse:
    raw = request.body
    if adapter.is_probe(raw):
        return _received(adapter)
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
            # Everything valid is kept (reactions, edits and deletes too); the errors become ignored.
            dataclasses.replace(event, errors=(), ignored=event.ignored + tuple(f"invalid: {e}" for e in event.errors))
            if event.errors
            else event,
        )
        for channel, event in parsed
    ]
    if deliveries_ingest(deliveries=deliveries, raw_body=text) is None:
        return None
    return _received(adapter)
