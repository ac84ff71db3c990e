"""TikTok Shop customer service: Partner API webhooks and the 202309 SendMessage API.

The webhook envelope is `{type, tts_notification_id, shop_id, timestamp, data}`; type 14
(NEW_MESSAGE) carries one message in `data`, whose `content` is a JSON *string*. Messages sent
by the seller side (Seller Center agents, robots) come back as the same event with a
`sender.role` other than BUYER. Timestamps are Unix seconds.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.conf import settings

from inbox.adapters.base import (
    Attachment,
    NormalizedMessage,
    OutboundContext,
    ParsedEvent,
    PayloadError,
    PlatformAdapter,
    SendError,
    SendResult,
    Source,
    collect_item,
    from_unix_seconds,
    hmac_sha256_hex,
    json_clean,
    require,
)
from inbox.adapters.http import post_json
from inbox.jsonbody import json_body_parse

NEW_MESSAGE = 14
_EVENT_NAMES = {13: "NEW_CONVERSATION", 14: "NEW_MESSAGE", 33: "NEW_MESSAGE_LISTENER"}
SEND_PATH = "/customer_service/202309/conversations/{conversation_id}/messages"
# BUYER is the only role the docs and community handlers confirm. The seller-side role names are
# not published; only names that plainly mean a machine sent it count as auto-replies, every
# other non-buyer role is a person on the shop's side (Seller Center, the app, an agent).
_AUTO_ROLES = {"ROBOT", "SYSTEM", "BOT", "AUTO_REPLY", "AUTOMATED"}
_CARD_KINDS = {
    "PRODUCT_CARD": "product",
    "ORDER_CARD": "order",
    "RETURN_REFUND_CARD": "order",
    "LOGISTICS_CARD": "order",
}
# Platform notices in the thread (not a buyer's or a seller's message).
_SYSTEM_TYPES = {"NOTIFICATION", "ALLOCATED_SERVICE", "BUYER_ENTER_FROM_TRANSFER", "OTHER_NOTIFICATION"}
# Seconds since 1970 stay below 1e11 until the year 5138; a larger value is milliseconds.
_MILLIS_THRESHOLD = 1e11


class TikTokShopAdapter(PlatformAdapter):
    platform = "tiktokshop"
    required_secrets = ("app_key", "app_secret", "access_token", "shop_cipher")
    # SendMessage's limit for TEXT content.
    max_text_length = 2000
    # No GET handshake: a GET to its webhook URL is answered 405.
    supports_handshake = False

    def account_ids(self, payload: Any) -> list[str]:
        if not isinstance(payload, dict):
            raise PayloadError("body is not an object")
        require(payload, "type", int, "body")  # checked here so parse() can rely on it
        shop_id = require(payload, "shop_id", (str, int), "body")
        # The id goes into a database query: it must be text PostgreSQL accepts.
        shop_id = str(shop_id) if isinstance(shop_id, int) else json_clean(shop_id)
        if not shop_id.strip():
            raise PayloadError("body.shop_id is empty")
        return [shop_id.strip()]

    def signature_headers(self, *, secrets: Mapping[str, Any], raw_body: bytes) -> dict[str, str]:
        """`Authorization: <lowercase hex HMAC-SHA256(app_secret, app_key + raw body)>`."""
        app_key = str(secrets["app_key"])
        app_secret = str(secrets["app_secret"])
        if not app_key or not app_secret:
            raise KeyError("app_key/app_secret")
        return {"Authorization": hmac_sha256_hex(app_secret, app_key.encode() + raw_body)}

    def parse(self, *, payload: Any, account_id: str, secrets: Mapping[str, Any]) -> ParsedEvent:
        event_type = payload["type"]
        if event_type != NEW_MESSAGE:
            name = _EVENT_NAMES.get(event_type, "unknown")
            return ParsedEvent(ignored=(f"event type {event_type} ({name})",))
        messages: list[NormalizedMessage] = []
        errors: list[str] = []
        payload = json_clean(payload)
        collect_item(errors, messages, "data", _message, payload.get("data"), payload.get("timestamp"))
        return ParsedEvent(messages=tuple(messages), errors=tuple(errors))

    def send_text(self, ctx: OutboundContext) -> SendResult:
        if len(ctx.text) > self.max_text_length:
            raise SendError(
                f"TikTok Shop accepts at most {self.max_text_length} characters; this reply has {len(ctx.text)}"
            )
        conversation_id = ctx.platform_conversation_id or ctx.contact_external_id
        if not conversation_id:
            raise SendError("this conversation has no TikTok Shop conversation id")
        app_key = str(ctx.secrets.get("app_key", ""))
        app_secret = str(ctx.secrets.get("app_secret", ""))
        access_token = str(ctx.secrets.get("access_token", ""))
        if not app_key or not app_secret or not access_token:
            raise SendError("the TikTok Shop channel lacks app_key, app_secret or access_token")
        path = SEND_PATH.format(conversation_id=conversation_id)
        body = {"type": "TEXT", "content": json.dumps({"content": ctx.text}, ensure_ascii=False)}
        params = {"app_key": app_key, "timestamp": str(int(time.time()))}
        if ctx.secrets.get("shop_cipher"):
            params["shop_cipher"] = str(ctx.secrets["shop_cipher"])
        # The sign covers the body text, so it is computed over exactly what post_json sends.
        params["sign"] = tiktokshop_api_sign(
            app_secret=app_secret, path=path, params=params, body=json.dumps(body, ensure_ascii=False)
        )
        answer = post_json(
            f"{settings.TIKTOKSHOP_API_BASE.rstrip('/')}{path}",
            body=body,
            params=params,
            headers={"x-tts-access-token": access_token},
            platform=self.platform,
            read_error=tiktokshop_error_reason,
        )
        data = answer.get("data") if isinstance(answer, dict) else None
        message_id = data.get("message_id") if isinstance(data, dict) else None
        if not isinstance(message_id, str | int) or isinstance(message_id, bool) or message_id == "":
            raise SendError("TikTok Shop answered without a message id")
        return SendResult(platform_message_id=str(message_id))


def tiktokshop_api_sign(*, app_secret: str, path: str, params: Mapping[str, str], body: str) -> str:
    """TikTok Shop request sign (202309 APIs).

    hex HMAC-SHA256(app_secret, app_secret + path + (sorted query k+v, without sign and
    access_token) + body + app_secret); the body is left out only for multipart uploads.
    """
    pairs = "".join(f"{k}{params[k]}" for k in sorted(params) if k not in ("sign", "access_token"))
    return hmac_sha256_hex(app_secret, f"{app_secret}{path}{pairs}{body}{app_secret}".encode())


def tiktokshop_error_reason(answer: Any) -> str | None:
    """TikTok answers `{code, message, request_id, data}`; any code but 0 is a refusal."""
    if not isinstance(answer, dict) or "code" not in answer or answer.get("code") == 0:
        return None
    message = answer.get("message")
    return str(message) if message else f"TikTok Shop error code {answer.get('code')}"


def _timestamp(value: Any, where: str) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PayloadError(f"{where} is not a number of seconds")
    try:
        return from_unix_seconds(value / 1000 if value >= _MILLIS_THRESHOLD else value)
    except (PayloadError, OverflowError) as exc:
        raise PayloadError(f"{where}: {exc}") from exc


def _message(data: Any, envelope_timestamp: Any) -> NormalizedMessage:
    if not isinstance(data, dict):
        raise PayloadError("body.data is missing or not an object")
    conversation_id = require(data, "conversation_id", str, "data")
    message_id = require(data, "message_id", str, "data")
    for name, value in (("conversation_id", conversation_id), ("message_id", message_id)):
        if not value.strip():
            raise PayloadError(f"data.{name} is empty")
    message_type = require(data, "type", str, "data")
    raw_content = require(data, "content", str, "data")
    sender = require(data, "sender", dict, "data")
    role = require(sender, "role", str, "data.sender")
    if "create_time" in data:
        sent_at = _timestamp(data["create_time"], "data.create_time")
    else:
        # The type 14 field names are inferred; fall back to the envelope's own time.
        sent_at = _timestamp(envelope_timestamp, "body.timestamp")
    try:
        # The same decoder as the body's (NaN / Infinity read as null, bounded depth).
        content = json_clean(json_body_parse(raw_content, nonfinite="null").value)
    except ValueError as exc:
        raise PayloadError(f"data.content is not valid JSON ({str(exc)[:200]})") from exc
    if not isinstance(content, dict):
        raise PayloadError("data.content is not a JSON object")
    kind, text, attachments, structured = _content(message_type, content)

    nickname = sender.get("nickname") if isinstance(sender.get("nickname"), str) else ""
    common: dict[str, Any] = {
        "platform_message_id": message_id,
        # A seller-side event names only the seller, so the conversation is the stable contact key.
        "contact_external_id": conversation_id,
        "platform_conversation_id": conversation_id,
        "sent_at": sent_at,
        "kind": kind,
        "text": text,
        "attachments": attachments,
        "content": structured,
    }
    if kind == "system":
        # A platform notice in the thread (an agent assigned, a transfer): never anybody's turn.
        return NormalizedMessage(direction="in", source="customer", **common)
    if role.upper() == "BUYER":
        im_user_id = sender.get("im_user_id")
        extra = {"im_user_id": str(im_user_id)} if isinstance(im_user_id, str | int) and im_user_id != "" else {}
        return NormalizedMessage(
            direction="in", source="customer", contact_name=nickname, contact_extra=extra, **common
        )
    source: Source = "auto" if role.upper() in _AUTO_ROLES else "echo"
    return NormalizedMessage(direction="out", source=source, sender_label=nickname or role, **common)


def _content(message_type: str, content: dict[str, Any]) -> tuple[str, str, tuple[Attachment, ...], dict[str, Any]]:
    """(kind, text, attachments, structured content) of one TikTok message, from its decoded `content`."""
    if message_type == "TEXT":
        text = require(content, "content", str, "data.content")
        if not text.strip():
            raise PayloadError("data.content.content is empty")
        return "text", text, (), {}
    if message_type == "IMAGE":
        url = require(content, "url", str, "data.content")
        extra = _scalars(content, "width", "height")
        return "image", "", (Attachment(type="image", url=url, extra=extra),), {"url": url, **extra}
    if message_type == "VIDEO":
        url = _text(content.get("url"))
        extra = _scalars(content, "cover", "cover_url", "duration", "width", "height", "vid")
        return "video", "", (Attachment(type="video", url=url, extra=extra),), {"url": url, **extra}
    if message_type in _CARD_KINDS:
        ids = {k: v for k, v in _scalars(content, *content).items() if k.endswith("_id")}
        if not ids:
            raise PayloadError(f"data.content has no id for a {message_type}")
        kind = _CARD_KINDS[message_type]
        structured: dict[str, Any] = {"card": message_type, **ids}
        if kind == "order":
            structured["items"] = []  # the card names the order; its items are in the Order API
        return kind, "", (Attachment(type=kind, extra={"card": message_type, **ids}),), structured
    if message_type == "EMOTICONS":
        extra = _scalars(content, *content)
        return "sticker", "", (Attachment(type="sticker", extra=extra),), extra
    if message_type in _SYSTEM_TYPES:
        return "system", _text(content.get("content")), (), {"type": message_type, **_scalars(content, *content)}
    # COUPON_CARD or anything newer: kept whole so the shop sees the message exists.
    return "unsupported", _text(content.get("content")), (Attachment(type=message_type),), {"raw": content}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _scalars(content: dict[str, Any], *names: str) -> dict[str, Any]:
    picked: dict[str, Any] = {}
    for name in names:
        value = content.get(name)
        if isinstance(value, str | int | float) and not isinstance(value, bool) and value != "":
            picked[name] = value
    return picked
