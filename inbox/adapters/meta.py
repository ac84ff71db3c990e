"""What WhatsApp Cloud, Instagram and Messenger share: Meta's signature, handshake and error format."""

from __future__ import annotations

import hmac
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from django.utils import timezone

from inbox.adapters.base import HandshakeAnswer, OutboundContext, PlatformAdapter, hmac_sha256_hex
from inbox.adapters.http import post_json

# Seconds since 1970 stay below 1e11 until the year 5138; a larger value is milliseconds.
_MILLIS_THRESHOLD = 1e11
_REFUSED = HandshakeAnswer(status=403, body="verification failed")


class MetaAdapter(PlatformAdapter):
    """The base of Meta's platforms: subclasses add the envelope, the parsing and the send call."""

    supports_handshake = True
    reply_window_hours = 24

    def signature_headers(self, *, secrets: Mapping[str, Any], raw_body: bytes) -> dict[str, str]:
        """`X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app_secret, raw body)>`."""
        app_secret = str(secrets["app_secret"])
        if not app_secret:
            raise KeyError("app_secret")
        return {"X-Hub-Signature-256": "sha256=" + hmac_sha256_hex(app_secret, raw_body)}

    def handshake(self, *, params: Mapping[str, str], verify_tokens: Sequence[str]) -> HandshakeAnswer:
        """`hub.mode=subscribe` with a `hub.verify_token` some channel has: echo `hub.challenge`."""
        token = params.get("hub.verify_token", "")
        if params.get("hub.mode", "") != "subscribe" or not token:
            return _REFUSED
        for index, expected in enumerate(verify_tokens):
            # Constant time: the comparison must not reveal how much of a token was right.
            if expected and hmac.compare_digest(expected.encode(), token.encode()):
                return HandshakeAnswer(status=200, body=params.get("hub.challenge", ""), matched=index)
        return _REFUSED


def meta_error_reason(answer: Any) -> str | None:
    """Graph API errors look like {"error": {"message", "type", "code", "error_subcode"}}."""
    if not isinstance(answer, dict) or not isinstance(answer.get("error"), dict):
        return None
    error = answer["error"]
    message = str(error.get("message") or "unknown error")
    code = error.get("code")
    return f"{message} (code {code})" if code is not None else message


def meta_time(value: Any) -> tuple[datetime, bool]:
    """(time, missing) of a Meta timestamp: seconds or milliseconds, a number or a numeric string.

    WhatsApp sends seconds as strings, Instagram and Messenger milliseconds as numbers, and the
    dashboard's test events seconds as strings. A missing, zero or unparsable value (Messenger's
    own delivery example has none) is not the body's fault: the event takes the delivery's time
    and says so, instead of the platform being answered 400 and retrying for days.
    """
    if isinstance(value, bool) or value is None:
        return timezone.now(), True
    number: float
    if isinstance(value, int | float):
        number = float(value) if isinstance(value, float) or abs(value) < 10**20 else math.inf
    elif isinstance(value, str) and value.strip().replace(".", "", 1).isdigit() and len(value) < 25:
        number = float(value)
    else:
        return timezone.now(), True
    if not math.isfinite(number) or number <= 0:
        return timezone.now(), True
    seconds = number / 1000 if number >= _MILLIS_THRESHOLD else number
    if seconds >= _MILLIS_THRESHOLD:
        return timezone.now(), True
    return datetime.fromtimestamp(seconds, tz=UTC), False


def graph_messages_post(*, base: str, ctx: OutboundContext, body: dict[str, Any], platform: str) -> Any:
    """POST a send (text, reaction, sender action) to a Graph API account's `/messages` edge."""
    token = str(ctx.secrets.get("access_token", ""))
    return post_json(
        f"{base.rstrip('/')}/{ctx.account_id}/messages",
        body=body,
        # The token travels in a header so it never lands in URLs, proxies or access logs.
        headers={"Authorization": f"Bearer {token}"},
        platform=platform,
        read_error=meta_error_reason,
    )
