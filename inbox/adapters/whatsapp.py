"""WhatsApp Cloud API: `whatsapp_business_account` webhooks and `/{phone_number_id}/messages`.

Customer messages arrive under `field: "messages"`; our own sends come back only as
`statuses[]`; replies typed on the WhatsApp Business phone app arrive (coexistence numbers only)
as `field: "smb_message_echoes"`. Timestamps are Unix seconds as strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings

from inbox.adapters import register
from inbox.adapters.base import (
    Attachment,
    NormalizedMessage,
    OutboundContext,
    ParsedEvent,
    PayloadError,
    PlatformAdapter,
    SendError,
    SendResult,
    StatusUpdate,
    collect_item,
    from_unix_seconds,
    require,
)
from inbox.adapters.http import post_json
from inbox.adapters.meta import meta_error_reason, meta_signature_headers

_MEDIA_TYPES = {
    "image": "image",
    "video": "video",
    "audio": "audio",
    "voice": "audio",
    "document": "file",
    "sticker": "sticker",
}
_STATUSES = {"sent", "delivered", "read", "failed"}


@register
class WhatsAppAdapter(PlatformAdapter):
    platform = "whatsapp"
    supports_handshake = True
    reply_window_hours = 24

    def account_ids(self, payload: Any) -> list[str]:
        if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
            raise PayloadError('"object" is not "whatsapp_business_account"')
        ids: list[str] = []
        for i, entry in enumerate(require(payload, "entry", list, "body")):
            for j, change in enumerate(require(entry, "changes", list, f"entry[{i}]")):
                value = require(change, "value", dict, f"entry[{i}].changes[{j}]")
                metadata = require(value, "metadata", dict, f"entry[{i}].changes[{j}].value")
                phone_number_id = require(metadata, "phone_number_id", str, f"entry[{i}].changes[{j}].value.metadata")
                if phone_number_id not in ids:
                    ids.append(phone_number_id)
        if not ids:
            raise PayloadError("entry has no changes")
        return ids

    def signature_headers(self, *, secrets: Mapping[str, Any], raw_body: bytes) -> dict[str, str]:
        return meta_signature_headers(secrets=secrets, raw_body=raw_body)

    def parse(self, *, payload: Any, account_id: str, secrets: Mapping[str, Any]) -> ParsedEvent:
        messages: list[NormalizedMessage] = []
        statuses: list[StatusUpdate] = []
        ignored: list[str] = []
        errors: list[str] = []
        for i, entry in enumerate(payload["entry"]):
            for j, change in enumerate(entry["changes"]):
                value = change["value"]
                if value["metadata"]["phone_number_id"] != account_id:
                    continue
                where = f"entry[{i}].changes[{j}].value"
                field = change.get("field")
                if field == "messages":
                    names = _contact_names(value)
                    for k, item in enumerate(value.get("messages") or []):
                        collect_item(errors, messages, f"{where}.messages[{k}]", _customer_message, item, names)
                    for k, item in enumerate(value.get("statuses") or []):
                        collect_item(errors, statuses, f"{where}.statuses[{k}]", _status, item)
                    if not value.get("messages") and not value.get("statuses"):
                        ignored.append(f"{where}: no messages or statuses")
                elif field == "smb_message_echoes":
                    for k, item in enumerate(value.get("message_echoes") or []):
                        collect_item(errors, messages, f"{where}.message_echoes[{k}]", _echo_message, item)
                else:
                    ignored.append(f"field {field!r}")
        return ParsedEvent(
            messages=tuple(messages), statuses=tuple(statuses), ignored=tuple(ignored), errors=tuple(errors)
        )

    def send_text(self, ctx: OutboundContext) -> SendResult:
        token = str(ctx.secrets.get("access_token", ""))
        body: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": ctx.contact_external_id,
            "type": "text",
            "text": {"preview_url": False, "body": ctx.text},
        }
        if ctx.reply_to_platform_message_id:
            body["context"] = {"message_id": ctx.reply_to_platform_message_id}
        answer = post_json(
            f"{settings.WHATSAPP_API_BASE.rstrip('/')}/{ctx.account_id}/messages",
            body=body,
            headers={"Authorization": f"Bearer {token}"},
            platform=self.platform,
            read_error=meta_error_reason,
        )
        try:
            return SendResult(platform_message_id=str(answer["messages"][0]["id"]))
        except (KeyError, IndexError, TypeError) as exc:
            raise SendError("WhatsApp answered without a message id") from exc


def _contact_names(value: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    names: dict[str, tuple[str, dict[str, Any]]] = {}
    for contact in value.get("contacts") or []:
        if not isinstance(contact, dict):
            continue
        profile = contact.get("profile") if isinstance(contact.get("profile"), dict) else {}
        name = str(profile.get("name") or "")
        extra = {"user_id": contact["user_id"]} if isinstance(contact.get("user_id"), str) else {}
        for key in ("wa_id", "user_id"):
            if isinstance(contact.get(key), str):
                names[contact[key]] = (name, extra)
    return names


def _content(item: dict[str, Any], where: str = "message") -> tuple[str, str, tuple[Attachment, ...]]:
    """(kind, text, attachments) of one WhatsApp message object."""
    msg_type = require(item, "type", str, where)
    if msg_type == "text":
        text = require(item, "text", dict, where)
        return "text", require(text, "body", str, f"{where}.text"), ()
    if msg_type in _MEDIA_TYPES:
        media = require(item, msg_type, dict, where)
        media_id = require(media, "id", str, f"{where}.{msg_type}")
        caption = media.get("caption") if isinstance(media.get("caption"), str) else ""
        extra = {"filename": media["filename"]} if isinstance(media.get("filename"), str) else {}
        attachment = Attachment(
            type=_MEDIA_TYPES[msg_type],
            media_id=media_id,
            mime_type=str(media.get("mime_type") or ""),
            caption=caption,
            extra=extra,
        )
        return _MEDIA_TYPES[msg_type], caption, (attachment,)
    if msg_type == "location":
        loc = require(item, "location", dict, where)
        extra = {k: loc[k] for k in ("latitude", "longitude", "name", "address") if k in loc}
        return "location", str(loc.get("name") or loc.get("address") or ""), (Attachment(type="location", extra=extra),)
    if msg_type == "button":
        button = require(item, "button", dict, where)
        return "text", str(button.get("text") or ""), ()
    if msg_type == "interactive":
        interactive = require(item, "interactive", dict, where)
        reply = interactive.get("button_reply") or interactive.get("list_reply") or {}
        return "text", str(reply.get("title") or "") if isinstance(reply, dict) else "", ()
    # A type Balas does not know (or "unsupported"): keep it, so the shop sees the customer wrote.
    return "other", "", (Attachment(type=msg_type),)


def _customer_message(item: Any, names: dict[str, tuple[str, dict[str, Any]]]) -> NormalizedMessage:
    if not isinstance(item, dict):
        raise PayloadError("is not an object")
    message_id = require(item, "id", str, "message")
    sender = item.get("from") or item.get("from_user_id")
    if not isinstance(sender, str) or not sender:
        raise PayloadError("message.from is missing")
    kind, text, attachments = _content(item)
    name, extra = names.get(sender, ("", {}))
    return NormalizedMessage(
        platform_message_id=message_id,
        contact_external_id=sender,
        direction="in",
        source="customer",
        sent_at=from_unix_seconds(require(item, "timestamp", str, "message")),
        kind=kind,
        text=text,
        attachments=attachments,
        contact_name=name,
        contact_extra=extra,
    )


def _echo_message(item: Any) -> NormalizedMessage:
    if not isinstance(item, dict):
        raise PayloadError("is not an object")
    kind, text, attachments = _content(item, "message_echo")
    return NormalizedMessage(
        platform_message_id=require(item, "id", str, "message_echo"),
        contact_external_id=require(item, "to", str, "message_echo"),
        direction="out",
        source="echo",
        sent_at=from_unix_seconds(require(item, "timestamp", str, "message_echo")),
        kind=kind,
        text=text,
        attachments=attachments,
        sender_label="WhatsApp Business app",
    )


def _status(item: Any) -> StatusUpdate:
    if not isinstance(item, dict):
        raise PayloadError("is not an object")
    status = require(item, "status", str, "status")
    if status not in _STATUSES:
        raise PayloadError(f"status {status!r} is not one of {sorted(_STATUSES)}")
    error = ""
    if status == "failed" and isinstance(item.get("errors"), list) and item["errors"]:
        first = item["errors"][0]
        if isinstance(first, dict):
            error = f"{first.get('title') or first.get('message') or 'failed'} (code {first.get('code')})"
    return StatusUpdate(
        status=status,  # type: ignore[arg-type]
        at=from_unix_seconds(require(item, "timestamp", str, "status")),
        platform_message_id=require(item, "id", str, "status"),
        contact_external_id=str(item.get("recipient_id") or ""),
        error=error,
    )
