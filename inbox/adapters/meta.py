"""What WhatsApp Cloud, Instagram and Messenger share: Meta's signature and error format."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from inbox.adapters.base import hmac_sha256_hex


def meta_signature_headers(*, secrets: Mapping[str, Any], raw_body: bytes) -> dict[str, str]:
    """`X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app_secret, raw body)>`."""
    app_secret = str(secrets["app_secret"])
    if not app_secret:
        raise KeyError("app_secret")
    return {"X-Hub-Signature-256": "sha256=" + hmac_sha256_hex(app_secret, raw_body)}


def meta_error_reason(answer: Any) -> str | None:
    """Graph API errors look like {"error": {"message", "type", "code", "error_subcode"}}."""
    if not isinstance(answer, dict) or not isinstance(answer.get("error"), dict):
        return None
    error = answer["error"]
    message = str(error.get("message") or "unknown error")
    code = error.get("code")
    return f"{message} (code {code})" if code is not None else message
