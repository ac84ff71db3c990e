"""What WhatsApp Cloud, Instagram and Messenger share: Meta's signature, handshake and error format."""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from typing import Any

from inbox.adapters.base import HandshakeAnswer, PlatformAdapter, hmac_sha256_hex

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
