"""WhatsApp Cloud API: `whatsapp_business_account` webhooks and `/{phone_number_id}/messages`.

Customer messages arrive under `field: "messages"`; our own sends come back only as
`statuses[]`; replies typed on the WhatsApp Business phone app arrive (coexistence numbers only)
as `field: "smb_message_echoes"`. Timestamps are Unix seconds as strings.

Not every item of `messages[]` is a message: `reaction` attaches to the message it names,
`edit` and `revoke` change or delete one, `system` is a notice (number or identity changed).
Account-level fields (`account_update`, `message_template_status_update`, ...) carry no
`metadata` and name no phone number: they are acknowledged and recorded as ignored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.conf import settings

from inbox.adapters.base import (
    Attachment,
    EventCollector,
    MessageDelete,
    MessageEdit,
    NormalizedMessage,
    OutboundContext,
    ParsedEvent,
    PayloadError,
    Reaction,
    SendError,
    SendResult,
    StatusUpdate,
    require,
)
from inbox.adapters.meta import MetaAdapter, graph_messages_post, meta_time

# WhatsApp type -> (the contract's kind, the attachment type kept since the first round).
_MEDIA_TYPES = {
    "image": ("image", "image"),
    "video": ("video", "video"),
    "audio": ("audio", "audio"),
    "voice": ("voice", "audio"),
    "document": ("document", "file"),
    "sticker": ("sticker", "sticker"),
}
_MEDIA_KEYS = ("id", "url", "mime_type", "sha256", "filename", "caption", "animated", "voice")
# Statuses and what they mean for the shop's message; `played` is a voice note listened to.
_STATUSES = {"sent": "sent", "delivered": "delivered", "read": "read", "played": "read", "failed": "failed"}
# Fields whose changes carry messages and therefore always `metadata.phone_number_id`.
_MESSAGE_FIELDS = ("messages", "smb_message_echoes")
_MAX_CONTACT_ID = 128
_MAX_MESSAGE_ID = 255


class WhatsAppAdapter(MetaAdapter):
    platform = "whatsapp"
    required_secrets = ("app_secret", "verify_token", "access_token")
    # text.body's limit.
    max_text_length = 4096
    supports_reactions = True

    def account_ids(self, payload: Any) -> list[str]:
        """The phone number ids in the body; [] for a body of account-level fields only."""
        if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
            raise PayloadError('"object" is not "whatsapp_business_account"')
        ids: list[str] = []
        changes_seen = 0
        for i, entry in enumerate(require(payload, "entry", list, "body")):
            for j, change in enumerate(require(entry, "changes", list, f"entry[{i}]")):
                changes_seen += 1
                where = f"entry[{i}].changes[{j}]"
                value = require(change, "value", dict, where)
                if "metadata" not in value and change.get("field") not in _MESSAGE_FIELDS:
                    continue  # account-level: the WABA's, not one number's
                metadata = require(value, "metadata", dict, f"{where}.value")
                phone_number_id = require(metadata, "phone_number_id", str, f"{where}.value.metadata")
                if phone_number_id not in ids:
                    ids.append(phone_number_id)
        if not changes_seen:
            raise PayloadError("entry has no changes")
        return ids

    def parse(self, *, payload: Any, account_id: str, secrets: Mapping[str, Any]) -> ParsedEvent:
        out = EventCollector()
        for i, entry in enumerate(payload["entry"]):
            for j, change in enumerate(entry["changes"]):
                value = change["value"]
                field = change.get("field")
                where = f"entry[{i}].changes[{j}].value"
                if "metadata" not in value:
                    event = value.get("event")
                    detail = f" {event}" if isinstance(event, str) else ""
                    out.ignored.append(f"field {field!r}{detail} (account-level)")
                    continue
                if value["metadata"]["phone_number_id"] != account_id:
                    continue
                if field == "messages":
                    self._messages_change(out, where, value)
                elif field == "smb_message_echoes":
                    for k, item in enumerate(_list(value, "message_echoes", where, out.errors)):
                        out.run(f"{where}.message_echoes[{k}]", _echo_item, item)
                else:
                    out.ignored.append(f"field {field!r}")
        return out.result()

    def _messages_change(self, out: EventCollector, where: str, value: dict[str, Any]) -> None:
        names = _contact_names(value)
        errors_before = len(out.errors)
        items = _list(value, "messages", where, out.errors)
        for k, item in enumerate(items):
            out.run(f"{where}.messages[{k}]", _customer_item, item, names, value.get("errors"))
        status_items = _list(value, "statuses", where, out.errors)
        for k, item in enumerate(status_items):
            out.run(f"{where}.statuses[{k}]", _status, item)
        if not items and not status_items and len(out.errors) == errors_before:
            problems = _errors_text(value.get("errors"))
            out.ignored.append(f"{where}: " + (f"errors {problems}" if problems else "no messages or statuses"))

    def send_text(self, ctx: OutboundContext) -> SendResult:
        body: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": ctx.contact_external_id,
            "type": "text",
            "text": {"preview_url": False, "body": ctx.text},
        }
        if ctx.reply_to_platform_message_id:
            body["context"] = {"message_id": ctx.reply_to_platform_message_id}
        answer = self._post(ctx, body)
        try:
            return SendResult(platform_message_id=str(answer["messages"][0]["id"]))
        except (KeyError, IndexError, TypeError) as exc:
            raise SendError("WhatsApp answered without a message id") from exc

    def send_reaction(self, ctx: OutboundContext, *, target_platform_message_id: str, emoji: str) -> None:
        """`type: "reaction"`; an empty emoji removes the shop's reaction."""
        self._post(
            ctx,
            {
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": ctx.contact_external_id,
                "type": "reaction",
                "reaction": {"message_id": target_platform_message_id, "emoji": emoji},
            },
        )

    def _post(self, ctx: OutboundContext, body: dict[str, Any]) -> Any:
        return graph_messages_post(base=settings.WHATSAPP_API_BASE, ctx=ctx, body=body, platform=self.platform)



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


def _str(mapping: Any, key: str) -> str:
    value = mapping.get(key) if isinstance(mapping, dict) else None
    return _clean(value) if isinstance(value, str) else ""


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


def _string_id(item: dict[str, Any], key: str, where: str, max_length: int) -> str:
    value = require(item, key, str, where)
    if not value or "\x00" in value or len(value) > max_length:
        raise PayloadError(f"{where}.{key} is empty or not an id")
    return value


def _errors_text(errors: Any) -> str:
    """`errors[]{code, title}` in words (the first one), or ''."""
    if not isinstance(errors, list) or not errors or not isinstance(errors[0], dict):
        return ""
    first = errors[0]
    return _clean(f"{first.get('title') or first.get('message') or 'error'} (code {first.get('code')})")


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


# --- content ------------------------------------------------------------------------------------
Content = tuple[str, str, tuple[Attachment, ...], dict[str, Any]]


def _content(item: dict[str, Any], where: str, value_errors: Any = None) -> Content:
    """(kind, text, attachments, content) of one WhatsApp message object (or an edit's new one)."""
    msg_type = require(item, "type", str, where)
    if msg_type == "text":
        text = require(item, "text", dict, where)
        return "text", _clean(require(text, "body", str, f"{where}.text")), (), {}
    if msg_type in _MEDIA_TYPES and isinstance(item.get(msg_type), dict):
        return _media(msg_type, item[msg_type], where)
    if msg_type == "location" and isinstance(item.get("location"), dict):
        loc = item["location"]
        content = {
            k: _clean(loc[k]) if isinstance(loc[k], str) else loc[k]
            for k in ("latitude", "longitude", "name", "address", "url")
            if k in loc and _scalar(loc[k]) and not isinstance(loc[k], bool)
        }
        text = str(content.get("name") or content.get("address") or "")
        return "location", text, (Attachment(type="location", extra=content),), content
    if msg_type == "contacts" and isinstance(item.get("contacts"), list):
        cards = [_contact_card(card) for card in item["contacts"] if isinstance(card, dict)]
        return "contacts", ", ".join(c["name"] for c in cards if c["name"]), (), {"contacts": cards}
    if msg_type == "order" and isinstance(item.get("order"), dict):
        return _order(item["order"])
    if msg_type == "button" and isinstance(item.get("button"), dict):
        button = item["button"]
        title = _str(button, "text")
        return "interactive", title, (), {"type": "button", "reply_id": _str(button, "payload"), "title": title}
    if msg_type == "interactive" and isinstance(item.get("interactive"), dict):
        interactive = _interactive(item["interactive"])
        if interactive is not None:
            return interactive
    # "unsupported", an interactive carrying `errors` instead of its reply, or a type newer than
    # this code: kept whole, so the shop sees the customer wrote and nothing is lost.
    raw: dict[str, Any] = {"raw": item}
    problems = _errors_text(item.get("errors")) or _errors_text(value_errors)
    if problems:
        raw["error"] = problems
    return "unsupported", "", (Attachment(type=_clean(msg_type)[:64]),), raw


def _media(msg_type: str, media: dict[str, Any], where: str) -> Content:
    kind, attachment_type = _MEDIA_TYPES[msg_type]
    media_id = _clean(require(media, "id", str, f"{where}.{msg_type}"))
    if msg_type == "audio" and media.get("voice") is True:
        kind = "voice"
    caption = _str(media, "caption")
    content = {
        ("media_id" if key == "id" else key): _clean(media[key]) if isinstance(media[key], str) else media[key]
        for key in _MEDIA_KEYS
        if key in media and _scalar(media[key])
    }
    extra = {"filename": content["filename"]} if "filename" in content else {}
    attachment = Attachment(
        type=attachment_type,
        url=_str(media, "url"),
        media_id=media_id,
        mime_type=_str(media, "mime_type"),
        caption=caption,
        extra=extra,
    )
    return kind, caption, (attachment,), content


def _contact_card(card: dict[str, Any]) -> dict[str, Any]:
    name_obj = card.get("name") if isinstance(card.get("name"), dict) else {}
    name = _str(name_obj, "formatted_name") or " ".join(
        part for part in (_str(name_obj, "first_name"), _str(name_obj, "last_name")) if part
    )
    phones = [
        _str(phone, "phone") or _str(phone, "wa_id")
        for phone in card.get("phones") or []
        if isinstance(phone, dict) and (_str(phone, "phone") or _str(phone, "wa_id"))
    ]
    return {"name": name, "phones": phones}


def _order(order: dict[str, Any]) -> Content:
    items = [
        {
            "product_id": _str(product, "product_retailer_id"),
            "quantity": product.get("quantity") if _scalar(product.get("quantity")) else None,
            "price": product.get("item_price") if _scalar(product.get("item_price")) else None,
            "currency": _str(product, "currency"),
        }
        for product in order.get("product_items") or []
        if isinstance(product, dict)
    ]
    content: dict[str, Any] = {"items": items}
    if _str(order, "catalog_id"):
        content["catalog_id"] = _str(order, "catalog_id")
    text = _str(order, "text")
    return "order", text, (Attachment(type="order", extra={"items": len(items)}),), content


def _interactive(interactive: dict[str, Any]) -> Content | None:
    kind = interactive.get("type")
    if kind in ("button_reply", "list_reply") and isinstance(interactive.get(kind), dict):
        reply = interactive[kind]
        content = {"type": kind, "reply_id": _str(reply, "id"), "title": _str(reply, "title")}
        if _str(reply, "description"):
            content["description"] = _str(reply, "description")
        return "interactive", content["title"], (), content
    if kind == "nfm_reply" and isinstance(interactive.get("nfm_reply"), dict):
        # A WhatsApp Flow's answer: `response_json` is a JSON *string* of the form's fields.
        reply = interactive["nfm_reply"]
        raw_response = reply.get("response_json")
        try:
            response = json.loads(raw_response) if isinstance(raw_response, str) else raw_response
        except (ValueError, RecursionError):
            response = {"unparsed": _clean(raw_response)} if isinstance(raw_response, str) else None
        content = {"type": "nfm_reply", "name": _str(reply, "name"), "body": _str(reply, "body"), "response": response}
        return "interactive", _str(reply, "body"), (), content
    return None


def _referral(item: dict[str, Any]) -> dict[str, Any]:
    """The ad or post a Click-to-WhatsApp customer came from."""
    referral = item.get("referral")
    if not isinstance(referral, dict):
        return {}
    return {k: _clean(v) if isinstance(v, str) else v for k, v in referral.items() if _scalar(v)}


# --- items --------------------------------------------------------------------------------------
def _sender(item: dict[str, Any]) -> str:
    sender = item.get("from") or item.get("from_user_id")
    if not isinstance(sender, str) or not sender or "\x00" in sender or len(sender) > _MAX_CONTACT_ID:
        raise PayloadError("message.from is missing or not an id")
    return sender


def _time(item: dict[str, Any]) -> tuple[datetime, bool]:
    return meta_time(item.get("timestamp"))


def _customer_item(
    item: Any, names: dict[str, tuple[str, dict[str, Any]]], value_errors: Any
) -> NormalizedMessage | Reaction | MessageEdit | MessageDelete | str:
    if not isinstance(item, dict):
        raise PayloadError("is not an object")
    message_id = _string_id(item, "id", "message", _MAX_MESSAGE_ID)
    sender = _sender(item)
    at, missing = _time(item)
    msg_type = require(item, "type", str, "message")
    changed = _change_of(item, msg_type, contact=sender, from_shop=False, at=at)
    if changed is not None:
        return changed
    if msg_type == "request_welcome":
        return "chat opened (request_welcome)"
    if msg_type == "system":
        return _system(item, message_id, sender, at, missing)
    kind, text, attachments, content = _content(item, "message", value_errors)
    referral = _referral(item)
    if referral:
        content = {**content, "referral": referral}
    name, extra = names.get(sender, ("", {}))
    return NormalizedMessage(
        platform_message_id=message_id,
        contact_external_id=sender,
        direction="in",
        source="customer",
        sent_at=at,
        kind=kind,
        text=text,
        attachments=attachments,
        contact_name=name,
        contact_extra=extra,
        content=content,
        reply_to_platform_message_id=_reply_to(item),
        timestamp_missing=missing,
    )


def _change_of(
    item: dict[str, Any], msg_type: str, *, contact: str, from_shop: bool, at: datetime
) -> Reaction | MessageEdit | MessageDelete | None:
    """A reaction, edit or revoke in `item`, or None for a message of its own."""
    if msg_type == "reaction":
        reaction = require(item, "reaction", dict, "message")
        # An empty or absent emoji is the customer taking the reaction back.
        return Reaction(
            target_platform_message_id=_string_id(reaction, "message_id", "message.reaction", _MAX_MESSAGE_ID),
            contact_external_id=contact,
            emoji=_str(reaction, "emoji"),
            from_shop=from_shop,
            at=at,
        )
    if msg_type == "edit":
        edit = require(item, "edit", dict, "message")
        new = require(edit, "message", dict, "message.edit")
        _kind, text, _attachments, content = _content(new, "message.edit.message")
        return MessageEdit(
            target_platform_message_id=_string_id(edit, "original_message_id", "message.edit", _MAX_MESSAGE_ID),
            contact_external_id=contact,
            text=text,
            from_shop=from_shop,
            at=at,
            content=content,
        )
    if msg_type == "revoke":
        revoke = require(item, "revoke", dict, "message")
        return MessageDelete(
            target_platform_message_id=_string_id(revoke, "original_message_id", "message.revoke", _MAX_MESSAGE_ID),
            contact_external_id=contact,
            from_shop=from_shop,
            at=at,
        )
    return None


def _system(item: dict[str, Any], message_id: str, sender: str, at: datetime, missing: bool) -> NormalizedMessage:
    """`user_changed_number`, `customer_identity_changed`, ...: a notice in the thread, never a turn."""
    raw = item.get("system")
    system: dict[str, Any] = raw if isinstance(raw, dict) else {}
    content = {k: _clean(v) if isinstance(v, str) else v for k, v in system.items() if _scalar(v)}
    return NormalizedMessage(
        platform_message_id=message_id,
        contact_external_id=sender,
        direction="in",
        source="customer",
        sent_at=at,
        kind="system",
        text=_str(system, "body"),
        content=content,
        timestamp_missing=missing,
    )


def _reply_to(item: dict[str, Any]) -> str:
    context = item.get("context")
    message_id = context.get("id") if isinstance(context, dict) else None
    return _clean(message_id)[:_MAX_MESSAGE_ID] if isinstance(message_id, str) else ""


def _echo_item(item: Any) -> NormalizedMessage | Reaction | MessageEdit | MessageDelete:
    """A message typed in the WhatsApp Business app (or its edit, delete or reaction)."""
    if not isinstance(item, dict):
        raise PayloadError("is not an object")
    message_id = _string_id(item, "id", "message_echo", _MAX_MESSAGE_ID)
    customer = _string_id(item, "to", "message_echo", _MAX_CONTACT_ID)
    at, missing = _time(item)
    msg_type = require(item, "type", str, "message_echo")
    changed = _change_of(item, msg_type, contact=customer, from_shop=True, at=at)
    if changed is not None:
        return changed
    kind, text, attachments, content = _content(item, "message_echo")
    return NormalizedMessage(
        platform_message_id=message_id,
        contact_external_id=customer,
        direction="out",
        source="echo",
        sent_at=at,
        kind=kind,
        text=text,
        attachments=attachments,
        sender_label="WhatsApp Business app",
        content=content,
        reply_to_platform_message_id=_reply_to(item),
        timestamp_missing=missing,
    )


def _status(item: Any) -> StatusUpdate | str:
    if not isinstance(item, dict):
        raise PayloadError("is not an object")
    status = require(item, "status", str, "status")
    message_id = _string_id(item, "id", "status", _MAX_MESSAGE_ID)
    if status not in _STATUSES:
        # `deleted`, `warning` or a newer one: nothing Balas tracks about its own message.
        return f"status {_clean(status)[:40]!r}"
    at, missing = _time(item)
    return StatusUpdate(
        status=_STATUSES[status],  # type: ignore[arg-type]
        at=at,
        platform_message_id=message_id,
        contact_external_id=_str(item, "recipient_id"),
        error=_errors_text(item.get("errors")) if status == "failed" else "",
        timestamp_missing=missing,
    )
