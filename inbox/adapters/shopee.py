"""Shopee seller chat: the `webchat_push` (push code 10) and `/api/v2/sellerchat/send_message`.

One push carries one chat message in `data.content`. Messages the shop sent from Seller Centre
or the app come back through the same push with `from_shop_id` equal to our shop; Shopee's
own auto-replies are marked by `status`. Timestamps are Unix seconds.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
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
    WebhookAnswer,
    collect_item,
    from_unix_seconds,
    hmac_sha256_hex,
    json_clean,
    require,
)
from inbox.adapters.http import get_json, post_json

WEBCHAT_PUSH_CODE = 10
SEND_MESSAGE_PATH = "/api/v2/sellerchat/send_message"
# `status` values Shopee sets on messages it generated for the shop (webchat_push, 2025-04-18).
_AUTO_STATUSES = {"auto_reply", "offwork_autoreply"}


class ShopeeAdapter(PlatformAdapter):
    platform = "shopee"
    # callback_url is part of what Shopee signs a push with.
    required_secrets = ("partner_id", "partner_key", "access_token", "callback_url")
    # Not documented where we looked: 1000 keeps well inside what its seller chat shows.
    max_text_length = 1000
    # Shopee checks a callback URL with an empty POST (is_probe), not with a GET handshake.
    supports_handshake = False
    # Shopee's success answer is an empty body (the content type is what Balas always sent).
    success_answer = WebhookAnswer(body=b"", content_type="text/html; charset=utf-8")

    def is_probe(self, raw_body: bytes) -> bool:
        # Shopee probes a callback URL with an empty POST when it is saved; it wants a 2xx.
        return not raw_body.strip()

    def account_ids(self, payload: Any) -> list[str]:
        if not isinstance(payload, dict):
            raise PayloadError("body is not an object")
        require(payload, "code", int, "body")  # checked here so parse() can rely on it
        return [_id_text(require(payload, "shop_id", (int, str), "body"), "body.shop_id")]

    def signature_headers(self, *, secrets: Mapping[str, Any], raw_body: bytes) -> dict[str, str]:
        """`Authorization: <hex HMAC-SHA256(partner_key, callback_url + "|" + raw body)>`."""
        partner_key = str(secrets["partner_key"])
        callback_url = str(secrets["callback_url"])
        if not partner_key or not callback_url:
            raise KeyError("partner_key/callback_url")
        return {"Authorization": hmac_sha256_hex(partner_key, callback_url.encode() + b"|" + raw_body)}

    def parse(self, *, payload: Any, account_id: str, secrets: Mapping[str, Any]) -> ParsedEvent:
        messages: list[NormalizedMessage] = []
        ignored: list[str] = []
        errors: list[str] = []
        payload = json_clean(payload)
        code = payload["code"]
        if code != WEBCHAT_PUSH_CODE:
            # Order, logistics and other pushes share the callback URL; Balas only reads chat.
            return ParsedEvent(ignored=(f"push code {code}",))
        data = payload.get("data")
        if not isinstance(data, dict):
            return ParsedEvent(errors=("body.data is missing or not an object",))
        data_type = data.get("type")
        if not isinstance(data_type, str):
            return ParsedEvent(errors=("data.type is missing or not a string",))
        if data_type != "message":
            content = data.get("content")
            detail = content.get("type") if isinstance(content, dict) else None
            ignored.append(f"data.type {data_type!r}" + (f" ({detail})" if isinstance(detail, str) else ""))
            return ParsedEvent(ignored=tuple(ignored))
        shop_id = int(account_id) if account_id.isdigit() else -1
        collect_item(errors, messages, "data.content", _message, data.get("content"), shop_id)
        return ParsedEvent(messages=tuple(messages), ignored=tuple(ignored), errors=tuple(errors))

    def send_text(self, ctx: OutboundContext) -> SendResult:
        partner_id = str(ctx.secrets.get("partner_id", ""))
        partner_key = str(ctx.secrets.get("partner_key", ""))
        access_token = str(ctx.secrets.get("access_token", ""))
        if not partner_id or not partner_key or not access_token:
            raise SendError("the Shopee channel lacks partner_id, partner_key or access_token")
        try:
            to_id = int(ctx.contact_external_id)
        except ValueError as exc:
            raise SendError(f"Shopee buyer id {ctx.contact_external_id!r} is not a number") from exc
        timestamp = int(time.time())
        params = {
            "partner_id": partner_id,
            "timestamp": str(timestamp),
            "access_token": access_token,
            "shop_id": ctx.account_id,
            "sign": shopee_api_sign(
                partner_id=partner_id,
                partner_key=partner_key,
                path=SEND_MESSAGE_PATH,
                timestamp=timestamp,
                access_token=access_token,
                shop_id=ctx.account_id,
            ),
        }
        answer = post_json(
            f"{settings.SHOPEE_API_BASE.rstrip('/')}{SEND_MESSAGE_PATH}",
            body={"to_id": to_id, "message_type": "text", "content": {"text": ctx.text}},
            params=params,
            platform=self.platform,
            read_error=shopee_error_reason,
        )
        response = answer.get("response") if isinstance(answer, dict) else None
        message_id = response.get("message_id") if isinstance(response, dict) else None
        if isinstance(message_id, bool) or not isinstance(message_id, str | int) or message_id in ("", 0):
            raise SendError("Shopee answered without a message id")
        return SendResult(platform_message_id=str(message_id))


def shopee_api_sign(
    *, partner_id: str, partner_key: str, path: str, timestamp: int, access_token: str, shop_id: str
) -> str:
    """Shop-level API sign: hex HMAC-SHA256(partner_key, partner_id + path + timestamp + token + shop_id)."""
    return hmac_sha256_hex(partner_key, f"{partner_id}{path}{timestamp}{access_token}{shop_id}".encode())


def shopee_error_reason(answer: Any) -> str | None:
    """Shopee v2 answers `{request_id, error, message, response}`; a refusal sets `error`, even in a 200."""
    if not isinstance(answer, dict) or not answer.get("error"):
        return None
    message = answer.get("message")
    return f"{answer['error']}: {message}" if message else str(answer["error"])


def _id_text(value: Any, where: str) -> str:
    """A Shopee numeric id (sent as a JSON number, sometimes as a string) as text."""
    if isinstance(value, bool):
        raise PayloadError(f"{where} has the wrong type")
    if isinstance(value, int):
        if value <= 0:
            raise PayloadError(f"{where} is not a positive id")
        return str(value)
    if isinstance(value, str) and value.isdigit() and int(value) > 0:
        return str(int(value))
    raise PayloadError(f"{where} is not a numeric id")


def _optional_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _optional_str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _message(item: Any, shop_id: int) -> NormalizedMessage:
    where = "data.content"
    if not isinstance(item, dict):
        raise PayloadError(f"{where} is missing or not an object")
    message_id = require(item, "message_id", (str, int), where)
    if isinstance(message_id, str) and not message_id.strip():
        raise PayloadError(f"{where}.message_id is empty")
    created = require(item, "created_timestamp", (int, float), where)
    try:
        sent_at = from_unix_seconds(created)
    except PayloadError as exc:
        raise PayloadError(f"{where}.created_timestamp: {exc}") from exc
    kind, text, attachments, content = _content(item, where)

    # `from_shop_id` is the reliable marker (added 2025-04-18); `content.shop_id` changed meaning
    # in 2024 and must not be used. A push without it predates the field: the buyer wrote.
    ours = _optional_int(item.get("from_shop_id")) == shop_id
    conversation_id = item.get("conversation_id")
    quoted = item.get("quoted_msg")
    quoted_id = quoted.get("message_id") if isinstance(quoted, dict) else None
    source = item.get("source_content")
    if isinstance(source, dict) and _pick(source, item_id="item_id", order_sn="order_sn", shop_id="shop_id"):
        # The product or order page the buyer opened the chat from.
        content = {**content, "source": _pick(source, item_id="item_id", order_sn="order_sn", shop_id="shop_id")}
    common: dict[str, Any] = {
        "platform_message_id": str(message_id),
        "sent_at": sent_at,
        "kind": kind,
        "text": text,
        "attachments": attachments,
        "content": content,
        "reply_to_platform_message_id": str(quoted_id) if isinstance(quoted_id, str | int) and quoted_id else "",
        "platform_conversation_id": str(conversation_id)
        if isinstance(conversation_id, str | int) and not isinstance(conversation_id, bool)
        else "",
    }
    if ours:
        buyer_id = _id_text(require(item, "to_id", (int, str), where), f"{where}.to_id")
        sub_account = item.get("sub_account_name")
        label = sub_account if isinstance(sub_account, str) and sub_account.strip() else item.get("from_user_name")
        auto = _optional_str(item.get("status")) in _AUTO_STATUSES
        return NormalizedMessage(
            contact_external_id=buyer_id,
            contact_name=_optional_str(item.get("to_user_name")),
            direction="out",
            source="auto" if auto else "echo",
            sender_label=_optional_str(label),
            **common,
        )
    buyer_id = _id_text(require(item, "from_id", (int, str), where), f"{where}.from_id")
    return NormalizedMessage(
        contact_external_id=buyer_id,
        contact_name=_optional_str(item.get("from_user_name")),
        direction="in",
        source="customer",
        **common,
    )


def _content(item: dict[str, Any], where: str) -> tuple[str, str, tuple[Attachment, ...], dict[str, Any]]:
    """(kind, text, attachments, content) of one Shopee chat message."""
    message_type = require(item, "message_type", str, where)
    content = require(item, "content", dict, where)
    at = f"{where}.content"
    if message_type == "text":
        text = require(content, "text", str, at)
        if not text.strip():
            raise PayloadError(f"{at}.text is empty")
        return "text", text, (), {}
    if message_type == "image":
        url = require(content, "url", str, at)
        extra = _pick(content, thumb_url="thumb_url", width="thumb_width", height="thumb_height")
        return "image", "", (Attachment(type="image", url=url, extra=extra),), {"url": url, **extra}
    if message_type == "video":
        url = require(content, "video_url", str, at)
        extra = _pick(content, thumb_url="thumb_url", duration_seconds="duration_seconds")
        return "video", "", (Attachment(type="video", url=url, extra=extra),), {"url": url, **extra}
    if message_type in ("item", "product"):
        item_id = require(content, "item_id", (int, str), at)
        extra = _pick(content, shop_id="shop_id", item_id="item_id")
        return "product", "", (Attachment(type="product", extra=extra),), {"product_id": str(item_id), **extra}
    if message_type == "order":
        require(content, "order_sn", str, at)
        extra = _pick(content, order_sn="order_sn", shop_id="shop_id")
        # The chat card names the order only; its items are in the Order API, not in the push.
        return "order", "", (Attachment(type="order", extra=extra),), {**extra, "items": []}
    if message_type == "sticker":
        extra = _pick(content, sticker_id="sticker_id", sticker_package_id="sticker_package_id")
        return "sticker", "", (Attachment(type="sticker", extra=extra),), extra
    # faq_liveagent, bundle_message or anything newer: kept whole so the shop sees the buyer wrote.
    text = content.get("text") if isinstance(content.get("text"), str) else ""
    return "unsupported", text, (Attachment(type=message_type),), {"raw": {"message_type": message_type, **content}}


def _pick(content: dict[str, Any], **names: str) -> dict[str, Any]:
    """Scalar fields worth keeping, renamed (`ours="theirs"`); absent or nested values are skipped."""
    picked: dict[str, Any] = {}
    for ours, theirs in names.items():
        value = content.get(theirs)
        if isinstance(value, str | int | float) and not isinstance(value, bool) and value != "":
            picked[ours] = value
    return picked


# --- lost pushes (v2.push.get_lost_push_message / confirm_consumed_lost_push_message) ----------
# A push Shopee could not deliver (no 2xx after its retries, 5 min / 30 min / 3 h) is kept for 3
# days and handed out here, the earliest 100 at a time, until confirmed. Partner-level calls: the
# sign is HMAC-SHA256(partner_key, partner_id + path + timestamp), no shop or token; each entry
# carries its shop_id, code and the push body as a JSON string (`data`).

LOST_PUSH_GET_PATH = "/api/v2/push/get_lost_push_message"
LOST_PUSH_CONFIRM_PATH = "/api/v2/push/confirm_consumed_lost_push_message"


class LostPushEntry:
    """One push Shopee kept for us: the body the webhook would have received, and its id."""

    def __init__(self, *, msg_id: int | None, payload: dict[str, Any], raw: str) -> None:
        self.msg_id = msg_id
        self.payload = payload
        self.raw = raw  # the body as Shopee gave it, kept as the webhook keeps a push's body


class LostPushPage:
    def __init__(self, *, entries: list[LostPushEntry], has_next_page: bool, last_message_id: int | None) -> None:
        self.entries = entries
        self.has_next_page = has_next_page
        self.last_message_id = last_message_id


def shopee_partner_sign(*, partner_id: str, partner_key: str, path: str, timestamp: int) -> str:
    """Partner-level API sign: hex HMAC-SHA256(partner_key, partner_id + path + timestamp)."""
    return hmac_sha256_hex(partner_key, f"{partner_id}{path}{timestamp}".encode())


def _partner_params(*, partner_id: str, partner_key: str, path: str) -> dict[str, str]:
    timestamp = int(time.time())
    sign = shopee_partner_sign(partner_id=partner_id, partner_key=partner_key, path=path, timestamp=timestamp)
    return {"partner_id": partner_id, "timestamp": str(timestamp), "sign": sign}


def lost_push_fetch(*, partner_id: str, partner_key: str) -> LostPushPage:
    """The earliest lost pushes not yet confirmed (up to 100). Raises SendError when Shopee refuses."""
    answer = get_json(
        f"{settings.SHOPEE_API_BASE.rstrip('/')}{LOST_PUSH_GET_PATH}",
        params=_partner_params(partner_id=partner_id, partner_key=partner_key, path=LOST_PUSH_GET_PATH),
        platform="shopee",
        read_error=_lost_push_error,
    )
    response = answer.get("response") if isinstance(answer, dict) else None
    if not isinstance(response, dict):
        raise SendError("Shopee answered the lost-push call without a response object")
    entries: list[LostPushEntry] = []
    for item in response.get("push_message_list") or []:
        entries.append(_lost_push_entry(item))
    last = _optional_int(response.get("last_message_id"))
    return LostPushPage(entries=entries, has_next_page=response.get("has_next_page") is True, last_message_id=last)


def lost_push_confirm(*, partner_id: str, partner_key: str, last_message_id: int) -> None:
    """Tell Shopee every lost push up to `last_message_id` is consumed (it stops handing them out)."""
    post_json(
        f"{settings.SHOPEE_API_BASE.rstrip('/')}{LOST_PUSH_CONFIRM_PATH}",
        body={"last_message_id": last_message_id},
        params=_partner_params(partner_id=partner_id, partner_key=partner_key, path=LOST_PUSH_CONFIRM_PATH),
        platform="shopee",
        read_error=_lost_push_error,
    )


def _lost_push_error(answer: Any) -> str | None:
    # The documented sample prints "-" for an empty error on these two calls.
    if isinstance(answer, dict) and answer.get("error") in ("-", " "):
        return None
    return shopee_error_reason(answer)


def _lost_push_entry(item: Any) -> LostPushEntry:
    """An entry's push body: `data` decoded, with the entry's shop_id and code where the body lacks them."""
    if not isinstance(item, dict):
        return LostPushEntry(msg_id=None, payload={}, raw="{}")
    data = item.get("data")
    try:
        payload: Any = json.loads(data) if isinstance(data, str) else data
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        payload = {}
    added = False
    for key in ("shop_id", "code", "timestamp"):
        if key not in payload and key in item:
            payload[key] = item[key]
            added = True
    raw = data if isinstance(data, str) and not added else json.dumps(payload, ensure_ascii=False)
    return LostPushEntry(msg_id=_optional_int(item.get("msg_id")), payload=json_clean(payload), raw=raw)
