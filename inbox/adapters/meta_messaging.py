"""What Instagram and Messenger share: the `entry[].messaging[]` / `entry[].standby[]` envelope.

Both platforms deliver `{object, entry[{id, time, messaging[], standby[]}]}` where every item is
one event `{sender.id, recipient.id, timestamp (ms), <kind>: {...}}`. Events under `standby[]`
are the same events seen while another app holds the thread (handover / conversation routing):
the customer still wrote and the shop still answered, so they are parsed the same way.

When `message.is_echo` is true the business sent it and the customer is `recipient.id`.
`message.app_id` names the app that sent an echo: ours means Balas sent it through the Send API.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from django.conf import settings

from inbox.adapters.base import (
    Attachment,
    NormalizedMessage,
    OutboundContext,
    ParsedEvent,
    PayloadError,
    Profile,
    SendError,
    SendResult,
    Source,
    StatusUpdate,
    from_unix_seconds,
    require,
)
from inbox.adapters.http import get_json, post_json
from inbox.adapters.meta import MetaAdapter, meta_error_reason

# Attachment types that decide the message kind; anything else (share, story_mention, ig_reel,
# reel, template, fallback, ...) is kept as an attachment of kind "other".
_ATTACHMENT_KINDS = {
    "image": "image",
    "video": "video",
    "audio": "audio",
    "file": "file",
    "location": "location",
    "sticker": "sticker",
}
# Keys of a `message` object that describe it rather than carry content.
_MESSAGE_META_KEYS = {
    "mid",
    "is_echo",
    "app_id",
    "metadata",
    "seq",
    "reply_to",
    "quick_reply",
    "nlp",
    "referral",
    "is_self",
    "commands",
    "text",
    "attachments",
    "is_deleted",
    "is_unsupported",
}
# Event kinds Balas acknowledges but does not store, with the words recorded on the raw event.
_IGNORED_EVENTS = {
    "reaction": "reaction",
    "message_edit": "message edit",
    "referral": "referral",
    "optin": "opt-in",
    "account_linking": "account linking",
    "pass_thread_control": "thread control passed",
    "take_thread_control": "thread control taken",
    "request_thread_control": "thread control requested",
    "app_roles": "app roles",
    "policy_enforcement": "policy enforcement",
    "messaging_feedback": "feedback",
    "response_feedback": "response feedback",
    "game_play": "game play",
    "handover": "handover",
}
# Longest ids the database keeps (Contact.external_id, Message.platform_message_id).
_MAX_CONTACT_ID = 128
_MAX_MESSAGE_ID = 255


class MetaMessagingAdapter(MetaAdapter):
    """Instagram and Messenger: the same envelope, told apart by `object` and a few labels."""

    object_name: ClassVar[str]
    api_base_setting: ClassVar[str]
    # Shown as the sender of replies typed in the platform's own tools.
    echo_label: ClassVar[str]

    # --- the four steps --------------------------------------------------------------------
    def account_ids(self, payload: Any) -> list[str]:
        if not isinstance(payload, dict) or payload.get("object") != self.object_name:
            raise PayloadError(f'"object" is not "{self.object_name}"')
        entries = require(payload, "entry", list, "body")
        ids: list[str] = []
        problems: list[str] = []
        for i, entry in enumerate(entries):
            try:
                account_id = _string_id(entry, "id", f"entry[{i}]", _MAX_CONTACT_ID)
            except PayloadError as exc:
                # One broken entry must not lose the others in the same delivery: parse reports it.
                problems.append(str(exc))
                continue
            if account_id not in ids:
                ids.append(account_id)
        if not ids:
            raise PayloadError("; ".join(problems) if problems else "entry is empty")
        return ids

    def parse(self, *, payload: Any, account_id: str, secrets: Mapping[str, Any]) -> ParsedEvent:
        out = _Collector()
        own_app_id = str(secrets.get("app_id") or "")
        for i, entry in enumerate(payload["entry"]):
            where = f"entry[{i}]"
            if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
                out.errors.append(f"{where}: {where}.id is missing or not a string")
                continue
            if entry["id"] != account_id:
                continue
            found = False
            for array in ("messaging", "standby"):
                if array not in entry:
                    continue
                found = True
                events = entry[array]
                if not isinstance(events, list):
                    out.errors.append(f"{where}.{array} has the wrong type")
                    continue
                for k, event in enumerate(events):
                    self._event(out, f"{where}.{array}[{k}]", event, account_id, own_app_id)
            if "changes" in entry:
                found = True
                self._changes(out, where, entry["changes"], account_id, own_app_id)
            if not found:
                out.ignored.append(f"{where}: no messaging events")
        return out.result()

    def send_text(self, ctx: OutboundContext) -> SendResult:
        token = str(ctx.secrets.get("access_token", ""))
        answer = post_json(
            f"{getattr(settings, self.api_base_setting).rstrip('/')}/{ctx.account_id}/messages",
            body=self.send_body(ctx),
            # The token travels in a header so it never lands in URLs, proxies or access logs.
            headers={"Authorization": f"Bearer {token}"},
            platform=self.platform,
            read_error=meta_error_reason,
        )
        message_id = answer.get("message_id") if isinstance(answer, dict) else None
        if not isinstance(message_id, str) or not message_id:
            raise SendError(f"{self.platform} answered without a message id")
        return SendResult(platform_message_id=message_id)

    def send_body(self, ctx: OutboundContext) -> dict[str, Any]:
        return {"recipient": {"id": ctx.contact_external_id}, "message": {"text": ctx.text}}

    # --- reactions and profiles (i13-model's minimal stand-in; i13-parse's version wins on merge) ---
    supports_reactions = True
    supports_profile_fetch = True
    # The user-profile API's fields (Messenger: first_name/last_name; Instagram: name/username).
    profile_fields: ClassVar[str] = "name,first_name,last_name,username,profile_pic"

    def send_reaction(self, ctx: OutboundContext, *, target_platform_message_id: str, emoji: str) -> None:
        """`sender_action: react` with the emoji, or `unreact` with the message id only."""
        payload: dict[str, Any] = {"message_id": target_platform_message_id}
        if emoji:
            payload["reaction"] = emoji
        post_json(
            f"{getattr(settings, self.api_base_setting).rstrip('/')}/{ctx.account_id}/messages",
            body={
                "recipient": {"id": ctx.contact_external_id},
                "sender_action": "react" if emoji else "unreact",
                "payload": payload,
            },
            headers={"Authorization": f"Bearer {ctx.secrets.get('access_token', '')}"},
            platform=self.platform,
            read_error=meta_error_reason,
        )

    def profile_fetch(self, *, account_id: str, secrets: Mapping[str, Any], contact_external_id: str) -> Profile:
        answer = get_json(
            f"{getattr(settings, self.api_base_setting).rstrip('/')}/{contact_external_id}",
            params={"fields": self.profile_fields},
            headers={"Authorization": f"Bearer {secrets.get('access_token', '')}"},
            platform=self.platform,
            read_error=meta_error_reason,
        )
        full = " ".join(str(answer.get(k) or "") for k in ("first_name", "last_name")).strip()
        name = str(answer.get("name") or "") or full or str(answer.get("username") or "")
        return Profile(name=name[:200], avatar_url=str(answer.get("profile_pic") or "")[:2000])

    def echo_source(self, *, app_id: str, own_app_id: str) -> tuple[Source, bool, str]:
        """(source, own_send_echo, sender_label) of a business-sent message."""
        if own_app_id and app_id == own_app_id:
            return "inbox", True, ""
        return "echo", False, self.echo_label

    # --- events ----------------------------------------------------------------------------
    def _changes(self, out: _Collector, where: str, changes: Any, account_id: str, own_app_id: str) -> None:
        # The dashboard's "send test" and some Instagram-login subscriptions wrap one messaging
        # event as `changes[]{field, value}`; other fields (comments, mentions) are not chat.
        if not isinstance(changes, list):
            out.errors.append(f"{where}.changes has the wrong type")
            return
        for j, change in enumerate(changes):
            here = f"{where}.changes[{j}]"
            field = change.get("field") if isinstance(change, dict) else None
            value = change.get("value") if isinstance(change, dict) else None
            if isinstance(field, str) and field.startswith("messag") and isinstance(value, dict):
                self._event(out, f"{here}.value", value, account_id, own_app_id)
            else:
                out.ignored.append(f"{here}: field {field!r}")

    def _event(self, out: _Collector, where: str, event: Any, account_id: str, own_app_id: str) -> None:
        try:
            if not isinstance(event, dict):
                raise PayloadError("is not an object")
            if "message" in event:
                message = self._message(event, account_id, own_app_id)
                if isinstance(message, str):
                    out.ignored.append(f"{where}: {message}")
                else:
                    out.messages.append(message)
            elif "read" in event:
                out.statuses.extend(_read(event))
            elif "delivery" in event:
                out.statuses.extend(_delivery(event))
            elif "postback" in event:
                postback = _postback(event)
                if isinstance(postback, str):
                    out.ignored.append(f"{where}: {postback}")
                else:
                    out.messages.append(postback)
            else:
                known = [words for key, words in _IGNORED_EVENTS.items() if key in event]
                if known:
                    out.ignored.append(f"{where}: {known[0]}")
                else:
                    fields = sorted(k for k in event if k not in {"sender", "recipient", "timestamp"})
                    out.ignored.append(f"{where}: unknown event {', '.join(fields)[:80] or '(empty)'}")
        except PayloadError as exc:
            out.errors.append(f"{where}: {exc}")

    def _message(self, event: dict[str, Any], account_id: str, own_app_id: str) -> NormalizedMessage | str:
        message = require(event, "message", dict, "event")
        if message.get("is_deleted") is True:
            return "message deleted"
        mid = _string_id(message, "mid", "message", _MAX_MESSAGE_ID)
        is_echo = _optional(message, "is_echo", bool, "message", False)
        sender = _party(event, "sender")
        recipient = _party(event, "recipient")
        sent_at = _event_time(event)
        kind, text, attachments = _content(message)
        # A message from our own account is the business's even without the flag.
        if is_echo or sender == account_id:
            app_id = message.get("app_id")
            if app_id is not None and (isinstance(app_id, bool) or not isinstance(app_id, str | int)):
                raise PayloadError("message.app_id has the wrong type")
            source, own, label = self.echo_source(app_id=str(app_id or ""), own_app_id=own_app_id)
            return NormalizedMessage(
                platform_message_id=mid,
                contact_external_id=recipient,
                direction="out",
                source=source,
                sent_at=sent_at,
                kind=kind,
                text=text,
                attachments=attachments,
                sender_label=label,
                own_send_echo=own,
            )
        return NormalizedMessage(
            platform_message_id=mid,
            contact_external_id=sender,
            direction="in",
            source="customer",
            sent_at=sent_at,
            kind=kind,
            text=text,
            attachments=attachments,
        )


class _Collector:
    def __init__(self) -> None:
        self.messages: list[NormalizedMessage] = []
        self.statuses: list[StatusUpdate] = []
        self.ignored: list[str] = []
        self.errors: list[str] = []

    def result(self) -> ParsedEvent:
        return ParsedEvent(
            messages=tuple(self.messages),
            statuses=tuple(self.statuses),
            ignored=tuple(self.ignored),
            errors=tuple(self.errors),
        )


def _content(message: dict[str, Any]) -> tuple[str, str, tuple[Attachment, ...]]:
    """(kind, text, attachments) of one `message` object."""
    text = clean(_optional(message, "text", str, "message", ""))
    raw_attachments = _optional(message, "attachments", list, "message", [])
    attachments = tuple(_attachment(item, f"message.attachments[{n}]") for n, item in enumerate(raw_attachments))
    if attachments:
        return _ATTACHMENT_KINDS.get(attachments[0].type, "other"), text, attachments
    if text:
        return "text", text, ()
    if message.get("is_unsupported") is True:
        # Instagram's word for content the API cannot show: the customer still wrote.
        return "other", "", (Attachment(type="unsupported"),)
    unknown = sorted(k for k in message if k not in _MESSAGE_META_KEYS)
    if unknown:
        # A content type Balas does not know: keep it so the shop sees the customer wrote.
        return "other", "", (Attachment(type=clean(unknown[0])[:64]),)
    if "text" in message:
        return "text", "", ()
    raise PayloadError("message has neither text nor attachments")


def _attachment(item: Any, where: str) -> Attachment:
    if not isinstance(item, dict):
        raise PayloadError(f"{where} is not an object")
    kind = clean(require(item, "type", str, where))
    if not kind:
        raise PayloadError(f"{where}.type is empty")
    payload = _optional(item, "payload", dict, where, {})
    url = payload.get("url") if isinstance(payload.get("url"), str) else ""
    extra: dict[str, Any] = {}
    for key in ("title", "sticker_id", "reel_video_id"):
        value = payload.get(key, item.get(key))
        if isinstance(value, str | int) and not isinstance(value, bool):
            extra[key] = clean(value) if isinstance(value, str) else value
    return Attachment(type=kind[:64], url=clean(url), extra=extra)


def _read(event: dict[str, Any]) -> list[StatusUpdate]:
    """Messenger `read{watermark}` or Instagram `read{mid}` (messaging_seen): all up to then is read."""
    read = require(event, "read", dict, "event")
    customer = _party(event, "sender")
    at = _event_time(event)
    mid = _optional(read, "mid", str, "read", "")
    if "watermark" in read:
        watermark = from_unix_millis_checked(require(read, "watermark", (int, float), "read"), "read.watermark")
    elif mid:
        watermark = at
    else:
        raise PayloadError("read.watermark is missing")
    return [
        StatusUpdate(status="read", at=at, platform_message_id=mid, contact_external_id=customer, watermark=watermark)
    ]


def _delivery(event: dict[str, Any]) -> list[StatusUpdate]:
    """`delivery{mids?, watermark}`: per mid when given, else everything up to the watermark."""
    delivery = require(event, "delivery", dict, "event")
    customer = _party(event, "sender")
    at = _event_time(event)
    mids = _optional(delivery, "mids", list, "delivery", [])
    for n, mid in enumerate(mids):
        if not isinstance(mid, str) or not mid:
            raise PayloadError(f"delivery.mids[{n}] has the wrong type")
    if mids:
        return [
            StatusUpdate(status="delivered", at=at, platform_message_id=mid, contact_external_id=customer)
            for mid in mids
        ]
    watermark = from_unix_millis_checked(require(delivery, "watermark", (int, float), "delivery"), "delivery.watermark")
    return [StatusUpdate(status="delivered", at=at, contact_external_id=customer, watermark=watermark)]


def _postback(event: dict[str, Any]) -> NormalizedMessage | str:
    """A button tap: the customer "said" the button's title."""
    postback = require(event, "postback", dict, "event")
    if "mid" not in postback:
        # Without a mid a retry could not be told from a second tap; nothing to store safely.
        return "postback without mid"
    mid = _string_id(postback, "mid", "postback", _MAX_MESSAGE_ID)
    title = _optional(postback, "title", str, "postback", "")
    payload = postback.get("payload") if isinstance(postback.get("payload"), str) else ""
    return NormalizedMessage(
        platform_message_id=mid,
        contact_external_id=_party(event, "sender"),
        direction="in",
        source="customer",
        sent_at=_event_time(event),
        kind="text",
        text=clean(title or payload),
    )


# --- field helpers -----------------------------------------------------------------------------
def clean(value: str) -> str:
    """Drop NUL characters: PostgreSQL text and jsonb refuse them."""
    return value.replace("\x00", "")


def _optional(mapping: dict[str, Any], key: str, kind: type, where: str, default: Any) -> Any:
    if key not in mapping or mapping[key] is None:
        return default
    return require(mapping, key, kind, where)


def _string_id(mapping: Any, key: str, where: str, max_length: int) -> str:
    value = require(mapping, key, str, where)
    if not value or "\x00" in value or len(value) > max_length:
        raise PayloadError(f"{where}.{key} is empty or not an id")
    return value


def _party(event: dict[str, Any], key: str) -> str:
    party = require(event, key, dict, "event")
    return _string_id(party, "id", f"event.{key}", _MAX_CONTACT_ID)


def _event_time(event: dict[str, Any]) -> datetime:
    return from_unix_millis_checked(require(event, "timestamp", (int, float), "event"), "event.timestamp")


def from_unix_millis_checked(value: int | float, where: str) -> datetime:
    """Milliseconds to an aware UTC datetime; an absurd number is the field's error, never a crash."""
    # Checked before dividing: a 400-digit integer would overflow the float division.
    if not (isinstance(value, int) or math.isfinite(value)) or not 0 < value < 1e14:
        raise PayloadError(f"{where} is out of range")
    return from_unix_seconds(value / 1000)
