"""WhatsApp Cloud API: `whatsapp_business_account` webhooks and `/{phone_number_id}/messages`.

Customer messages arrive under `field: "messages"`; our own sends come back only as
`statuses[]`; replies typed on the WhatsApp Business phone app arrive (coexistence numbers only)
as `field: "smb_message_echoes"`. Timestamps are Unix seconds as strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings

from inbox.adapters.base import (
    Attachment,
    NormalizedMessage,
    OutboundContext,
    ParsedEvent,
    PayloadError,
    SendError,
    SendResult,
    StatusUpdate,
    collect_item,
    from_unix_seconds,
    require,
)
from inbox.adapters.http import post_json
from inbox.adapters.meta import MetaAdapter, meta_error_reason

_MEDIA_TYPES = {
    "image": "image",
    "video": "video",
    "audio": "audio",
    "voice": "audio",
    "document": "file",
    "sticker": "sticker",
}
_STATUSES = {"sent", "delivered", "read", "failed"}


class WhatsAppAdapter(MetaAdapter):
    platform = "whatsapp"
    required_secrets = ("app_secret", "verify_token", "access_token")
    # text.body's limit.
    max_text_length = 4096

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
                    errors_before = len(errors)
                    items = _list(value, "messages", where, errors)
                    for k, item in enumerate(items):
                        collect_item(errors, messages, f"{where}.messages[{k}]", _customer_message, item, names)
                    status_items = _list(value, "statuses", where, errors)
                    for k, item in enumerate(status_items):
                        collect_item(errors, statuses, f"{where}.statuses[{k}]", _status, item)
                    if not items and not status_items and len(errors) == errors_before:
                        ignored.append(f"{where}: no messages or statuses")
                elif field == "smb_message_echoes":
                    for k, item in enumerate(_list(value, "message_echoes", where, errors)):
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

    # --- reactions (i13-model's minimal stand-in; i13-parse's version wins on merge) ---
    supports_reactions = True

    def send_reaction(self, ctx: OutboundContext, *, target_platform_message_id: str, emoji: str) -> None:
        """A `reaction` message; an empty emoji removes the shop's reaction."""
        post_json(
            f"{settings.WHATSAPP_API_BASE.rstrip('/')}/{ctx.account_id}/messages",
            body={
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": ctx.contact_external_id,
                "type": "reaction",
                "reaction": {"message_id": target_platform_message_id, "emoji": emoji},
            },
            headers={"Authorization": f"Bearer {ctx.secrets.get('access_token', '')}"},
            platform=self.platform,
            read_error=meta_error_reason,
        )


def _list(value: dict[str, Any], key: str, where: str, errors: list[str]) -> list[Any]:
    """`value[key]` when it is a list; absent is empty, any other type is the field's error."""
    items = value.get(key)
    if items is None:
        return []
    if not isinstance(items, list):
        errors.append(f"{where}.{key} has the wrong type")
        return []
    return items


def _clean(value: str) -> str:
    # PostgreSQL text and jsonb refuse NUL characters; JSON may carry them as \u0000.
    return value.replace("\x00", "")


def _string_id(item: dict[str, Any], key: str, where: str, max_length: int) -> str:
    value = require(item, key, str, where)
    if not value or "\x00" in value or len(value) > max_length:
        raise PayloadError(f"{where}.{key} is empty or not an id")
    return value


def _contact_names(value: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    names: dict[str, tuple[str, dict[str, Any]]] = {}
    contacts = value.get("contacts")
    # Names are a nicety: a malformed contacts list never costs the message itself.
    for contact in contacts if isinstance(contacts, list) else []:
        if not isinstance(contact, dict):
            continue
        profile = contact.get("profile")
        name = _clean(str(profile.get("name") or "")) if isinstance(profile, dict) else ""
        user_id = contact.get("user_id")
        extra = {"user_id": _clean(user_id)[:128]} if isinstance(user_id, str) else {}
        for key in ("wa_id", "user_id"):
            if isinstance(contact.get(key), str):
                names[contact[key]] = (name, extra)
    return names


def _content(item: dict[str, Any], where: str = "message") -> tuple[str, str, tuple[Attachment, ...]]:
    """(kind, text, attachments) of one WhatsApp message object."""
    msg_type = require(item, "type", str, where)
    if msg_type == "text":
        text = require(item, "text", dict, where)
        return "text", _clean(require(text, "body", str, f"{where}.text")), ()
    if msg_type in _MEDIA_TYPES:
        media = require(item, msg_type, dict, where)
        media_id = require(media, "id", str, f"{where}.{msg_type}")
        caption = _clean(media["caption"]) if isinstance(media.get("caption"), str) else ""
        extra = {"filename": _clean(media["filename"])} if isinstance(media.get("filename"), str) else {}
        attachment = Attachment(
            type=_MEDIA_TYPES[msg_type],
            media_id=_clean(media_id),
            mime_type=_clean(str(media.get("mime_type") or "")),
            caption=caption,
            extra=extra,
        )
        return _MEDIA_TYPES[msg_type], caption, (attachment,)
    if msg_type == "location":
        loc = require(item, "location", dict, where)
        extra = {
            k: _clean(loc[k]) if isinstance(loc[k], str) else loc[k]
            for k in ("latitude", "longitude", "name", "address")
            if isinstance(loc.get(k), str | int | float) and not isinstance(loc.get(k), bool)
        }
        name = extra.get("name") or extra.get("address") or ""
        return "location", str(name), (Attachment(type="location", extra=extra),)
    if msg_type == "button":
        button = require(item, "button", dict, where)
        return "text", _clean(str(button.get("text") or "")), ()
    if msg_type == "interactive":
        interactive = require(item, "interactive", dict, where)
        reply = interactive.get("button_reply") or interactive.get("list_reply") or {}
        return "text", _clean(str(reply.get("title") or "")) if isinstance(reply, dict) else "", ()
    # A type Balas does not know (or "unsupported"): keep it, so the shop sees the customer wrote.
    return "other", "", (Attachment(type=_clean(msg_type)[:64]),)


def _customer_message(item: Any, names: dict[str, tuple[str, dict[str, Any]]]) -> NormalizedMessage:
    if not isinstance(item, dict):
        raise PayloadError("is not an object")
    message_id = _string_id(item, "id", "message", 255)
    sender = item.get("from") or item.get("from_user_id")
    if not isinstance(sender, str) or not sender or "\x00" in sender or len(sender) > 128:
        raise PayloadError("message.from is missing or not an id")
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
        platform_message_id=_string_id(item, "id", "message_echo", 255),
        contact_external_id=_string_id(item, "to", "message_echo", 128),
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
            error = _clean(f"{first.get('title') or first.get('message') or 'failed'} (code {first.get('code')})")
    return StatusUpdate(
        status=status,  # type: ignore[arg-type]
        at=from_unix_seconds(require(item, "timestamp", str, "status")),
        platform_message_id=require(item, "id", str, "status"),
        contact_external_id=str(item.get("recipient_id") or ""),
        error=error,
    )
