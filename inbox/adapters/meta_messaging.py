"""What Instagram and Messenger share: the `entry[].messaging[]` / `entry[].standby[]` envelope.

Both platforms deliver `{object, entry[{id, time, messaging[], standby[]}]}` where every item is
one event `{sender.id, recipient.id, timestamp (ms), <kind>: {...}}`. Events under `standby[]`
are the same events seen while another app holds the thread (handover / conversation routing):
the customer still wrote and the shop still answered, so they are parsed the same way.

When `message.is_echo` is true the business sent it and the customer is `recipient.id`.
`message.app_id` names the app that sent an echo: ours means Balas sent it through the Send API.

Besides messages: `reaction` (react / unreact) attaches to the message it names, `message_edit`
changes one, `message.is_deleted` (Instagram's unsend) deletes one, `read` and `delivery` are
receipts. Timestamps are milliseconds; the dashboard's test events send seconds as strings, and
Messenger's own delivery example has none: both are accepted (`meta_time`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

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
    Profile,
    Reaction,
    SendError,
    SendResult,
    Source,
    StatusUpdate,
    from_unix_seconds,
    require,
)
from inbox.adapters.http import get_json
from inbox.adapters.meta import MetaAdapter, graph_messages_post, meta_error_reason, meta_time

# Attachment type -> the contract's kind. Shares, posts, reels and story mentions are media the
# customer sent by URL (the thread shows them as such); anything unknown is "unsupported".
_ATTACHMENT_KINDS = {
    "image": "image",
    "video": "video",
    "audio": "audio",
    "file": "document",
    "location": "location",
    "sticker": "sticker",
    "animated_image": "sticker",
    "share": "image",
    "ig_post": "image",
    "story_mention": "image",
    "ig_reel": "video",
    "reel": "video",
    "template": "template",
    "fallback": "text",
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
    # The user-profile API's fields, and how its answer becomes a name.
    profile_fields: ClassVar[str]
    supports_reactions = True
    supports_profile_fetch = True

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
        out = EventCollector()
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
        answer = self._post(ctx, self.send_body(ctx))
        message_id = answer.get("message_id") if isinstance(answer, dict) else None
        if not isinstance(message_id, str) or not message_id:
            raise SendError(f"{self.platform} answered without a message id")
        return SendResult(platform_message_id=message_id)

    def send_body(self, ctx: OutboundContext) -> dict[str, Any]:
        return {"recipient": {"id": ctx.contact_external_id}, "message": {"text": ctx.text}}

    def send_reaction(self, ctx: OutboundContext, *, target_platform_message_id: str, emoji: str) -> None:
        """`sender_action: react` with the emoji, or `unreact` (an empty emoji) to take it back."""
        payload: dict[str, Any] = {"message_id": target_platform_message_id}
        if emoji:
            payload["reaction"] = emoji
        self._post(
            ctx,
            {
                "recipient": {"id": ctx.contact_external_id},
                "sender_action": "react" if emoji else "unreact",
                "payload": payload,
            },
        )

    def profile_fetch(self, *, account_id: str, secrets: Mapping[str, Any], contact_external_id: str) -> Profile:
        """`GET /{user id}?fields=...` with the channel's token: the customer's name and picture."""
        token = str(secrets.get("access_token", ""))
        answer = get_json(
            f"{self._base()}/{contact_external_id}",
            params={"fields": self.profile_fields},
            headers={"Authorization": f"Bearer {token}"},
            platform=self.platform,
            read_error=meta_error_reason,
        )
        if not isinstance(answer, dict):
            raise SendError(f"{self.platform} answered a profile that is not an object")
        return self.profile_from(answer)

    def profile_from(self, answer: dict[str, Any]) -> Profile:
        raise NotImplementedError

    def echo_source(self, *, app_id: str, own_app_id: str) -> tuple[Source, bool, str]:
        """(source, own_send_echo, sender_label) of a business-sent message."""
        if own_app_id and app_id == own_app_id:
            return "inbox", True, ""
        return "echo", False, self.echo_label

    def _base(self) -> str:
        return str(getattr(settings, self.api_base_setting)).rstrip("/")

    def _post(self, ctx: OutboundContext, body: dict[str, Any]) -> Any:
        return graph_messages_post(base=self._base(), ctx=ctx, body=body, platform=self.platform)

    # --- events ----------------------------------------------------------------------------
    def _changes(self, out: EventCollector, where: str, changes: Any, account_id: str, own_app_id: str) -> None:
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

    def _event(self, out: EventCollector, where: str, event: Any, account_id: str, own_app_id: str) -> None:
        try:
            if not isinstance(event, dict):
                raise PayloadError("is not an object")
            if "message" in event:
                out.add(where, self._message(event, account_id, own_app_id))
            elif "reaction" in event:
                out.add(where, _reaction(event, account_id))
            elif "message_edit" in event:
                out.add(where, _edit(event, account_id))
            elif "read" in event:
                out.statuses.extend(_read(event))
            elif "delivery" in event:
                out.add(where, _delivery(event))
            elif "postback" in event:
                out.add(where, _postback(event))
            else:
                known = [words for key, words in _IGNORED_EVENTS.items() if key in event]
                if known:
                    out.ignored.append(f"{where}: {known[0]}{_referral_words(event)}")
                else:
                    fields = sorted(k for k in event if k not in {"sender", "recipient", "timestamp"})
                    out.ignored.append(f"{where}: unknown event {', '.join(fields)[:80] or '(empty)'}")
        except PayloadError as exc:
            out.errors.append(f"{where}: {exc}")

    def _message(self, event: dict[str, Any], account_id: str, own_app_id: str) -> NormalizedMessage | MessageDelete:
        message = require(event, "message", dict, "event")
        mid = _string_id(message, "mid", "message", _MAX_MESSAGE_ID)
        is_echo = _optional(message, "is_echo", bool, "message", False)
        sender = _party(event, "sender")
        recipient = _party(event, "recipient")
        sent_at, missing = _event_time(event)
        # A message from our own account is the business's even without the flag.
        ours = is_echo or sender == account_id
        if message.get("is_deleted") is True:
            # Instagram's unsend: the mid is the message taken back.
            return MessageDelete(
                target_platform_message_id=mid,
                contact_external_id=recipient if ours else sender,
                from_shop=ours,
                at=sent_at,
            )
        kind, text, attachments, content = _content(message)
        reply_to = _reply_to(message)
        if ours:
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
                content=content,
                reply_to_platform_message_id=reply_to,
                timestamp_missing=missing,
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
            content=content,
            reply_to_platform_message_id=reply_to,
            timestamp_missing=missing,
        )



# --- content ------------------------------------------------------------------------------------
def _content(message: dict[str, Any]) -> tuple[str, str, tuple[Attachment, ...], dict[str, Any]]:
    """(kind, text, attachments, content) of one `message` object."""
    text = clean(_optional(message, "text", str, "message", ""))
    raw_attachments = _optional(message, "attachments", list, "message", [])
    attachments = tuple(_attachment(item, f"message.attachments[{n}]") for n, item in enumerate(raw_attachments))
    content: dict[str, Any] = {}
    kind = ""
    if attachments:
        first = attachments[0]
        kind = _ATTACHMENT_KINDS.get(first.type, "unsupported")
        if first.type == "image" and "sticker_id" in first.extra:
            kind = "sticker"  # Messenger sends a sticker as an image with its sticker id
        content = _attachment_content(first, raw_attachments[0])
        if len(attachments) > 1:
            content["attachments"] = [
                _attachment_content(a, r) for a, r in zip(attachments, raw_attachments, strict=True)
            ]
        if kind == "text" and not text:
            text = str(content.get("title") or content.get("url") or "")
    elif message.get("is_unsupported") is True:
        # Instagram's word for content the API cannot show: the customer still wrote.
        kind, content = "unsupported", {"raw": message}
        attachments = (Attachment(type="unsupported"),)
    elif text or "text" in message:
        kind = "text"
    else:
        unknown = sorted(k for k in message if k not in _MESSAGE_META_KEYS)
        if not unknown:
            raise PayloadError("message has neither text nor attachments")
        # A content type Balas does not know: keep it whole so the shop sees the customer wrote.
        kind, content = "unsupported", {"raw": message}
        attachments = (Attachment(type=clean(unknown[0])[:64]),)
    quick_reply = message.get("quick_reply")
    if isinstance(quick_reply, dict) and kind == "text":
        # A quick-reply button tapped: the text is its title, the payload its id.
        payload = quick_reply.get("payload")
        kind = "interactive"
        content = {"type": "quick_reply", "reply_id": clean(payload) if isinstance(payload, str) else "", "title": text}
    reply_to = message.get("reply_to")
    story = reply_to.get("story") if isinstance(reply_to, dict) else None
    if isinstance(story, dict):
        # An Instagram story reply: the story's URL (it expires with the story) and id.
        content = {**content, "story": {k: clean(v) for k, v in story.items() if isinstance(v, str)}}
    referral = message.get("referral")
    if isinstance(referral, dict):
        # Click-to-Message ad context: the ad's id and title, its picture, the product.
        ads = referral.get("ads_context_data")
        context = {**_scalars(referral), **({"ads_context_data": _scalars(ads)} if isinstance(ads, dict) else {})}
        content = {**content, "referral": context}
    return kind, text, attachments, content


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
    coordinates = payload.get("coordinates")
    if isinstance(coordinates, dict):
        for ours, theirs in (("latitude", "lat"), ("longitude", "long")):
            value = coordinates.get(theirs)
            if isinstance(value, int | float) and not isinstance(value, bool):
                extra[ours] = value
    return Attachment(type=kind[:64], url=clean(url), extra=extra)


def _attachment_content(attachment: Attachment, raw: dict[str, Any]) -> dict[str, Any]:
    """The contract's content of one attachment: media `{url, ...}`, location coordinates."""
    content: dict[str, Any] = {"media_type": attachment.type}
    if attachment.url:
        content["url"] = attachment.url
    content.update(attachment.extra)
    if attachment.type == "location" and "title" in content:
        content["name"] = content.pop("title")
    if attachment.type == "template":
        payload = raw.get("payload")
        content["payload"] = payload if isinstance(payload, dict) else {}
    return content


def _reply_to(message: dict[str, Any]) -> str:
    reply_to = message.get("reply_to")
    mid = reply_to.get("mid") if isinstance(reply_to, dict) else None
    return clean(mid)[:_MAX_MESSAGE_ID] if isinstance(mid, str) else ""


def _scalars(mapping: dict[str, Any]) -> dict[str, Any]:
    return {
        clean(k): clean(v) if isinstance(v, str) else v
        for k, v in mapping.items()
        if isinstance(v, str | int | float | bool) or v is None
    }


def _referral_words(event: dict[str, Any]) -> str:
    referral = event.get("referral")
    if not isinstance(referral, dict):
        return ""
    parts = [
        f"{k}={clean(referral[k])[:60]}" for k in ("source", "type", "ref", "ad_id") if isinstance(referral.get(k), str)
    ]
    return f" ({', '.join(parts)})" if parts else ""


# --- other events -------------------------------------------------------------------------------
def _reaction(event: dict[str, Any], account_id: str) -> Reaction:
    """`reaction{mid, action: react|unreact, reaction, emoji}`; an unreact removes it."""
    reaction = require(event, "reaction", dict, "event")
    sender = _party(event, "sender")
    recipient = _party(event, "recipient")
    action = _optional(reaction, "action", str, "reaction", "react")
    emoji = clean(_optional(reaction, "emoji", str, "reaction", ""))
    if not emoji and action == "react":
        # Older events name the reaction ("love") without the emoji.
        emoji = clean(_optional(reaction, "reaction", str, "reaction", ""))
    ours = sender == account_id
    return Reaction(
        target_platform_message_id=_string_id(reaction, "mid", "reaction", _MAX_MESSAGE_ID),
        contact_external_id=recipient if ours else sender,
        emoji="" if action == "unreact" else emoji,
        from_shop=ours,
        at=_event_time(event)[0],
    )


def _edit(event: dict[str, Any], account_id: str) -> MessageEdit:
    """`message_edit{mid, text, num_edit}`: the message's new text."""
    edit = require(event, "message_edit", dict, "event")
    sender = _party(event, "sender")
    recipient = _party(event, "recipient")
    ours = sender == account_id
    return MessageEdit(
        target_platform_message_id=_string_id(edit, "mid", "message_edit", _MAX_MESSAGE_ID),
        contact_external_id=recipient if ours else sender,
        text=clean(_optional(edit, "text", str, "message_edit", "")),
        from_shop=ours,
        at=_event_time(event)[0],
    )


def _read(event: dict[str, Any]) -> list[StatusUpdate]:
    """Messenger `read{watermark}` or Instagram `read{mid}` (messaging_seen): all up to then is read."""
    read = require(event, "read", dict, "event")
    customer = _party(event, "sender")
    at, missing = _event_time(event)
    mid = _optional(read, "mid", str, "read", "")
    if "watermark" in read:
        watermark = from_unix_millis_checked(require(read, "watermark", (int, float), "read"), "read.watermark")
    elif mid:
        watermark = at
    else:
        raise PayloadError("read.watermark is missing")
    return [
        StatusUpdate(
            status="read",
            at=at,
            platform_message_id=mid,
            contact_external_id=customer,
            watermark=watermark,
            timestamp_missing=missing,
        )
    ]


def _delivery(event: dict[str, Any]) -> list[StatusUpdate] | str:
    """`delivery{mids?, watermark}`: per mid when given, else everything up to the watermark."""
    delivery = require(event, "delivery", dict, "event")
    customer = _party(event, "sender")
    at, missing = _event_time(event)
    mids = _optional(delivery, "mids", list, "delivery", [])
    for n, mid in enumerate(mids):
        if not isinstance(mid, str) or not mid:
            raise PayloadError(f"delivery.mids[{n}] has the wrong type")
    if mids:
        return [
            StatusUpdate(
                status="delivered",
                at=at,
                platform_message_id=mid,
                contact_external_id=customer,
                timestamp_missing=missing,
            )
            for mid in mids
        ]
    watermark_value = delivery.get("watermark")
    if watermark_value in (None, 0):
        return "delivery without mids or watermark"
    watermark = from_unix_millis_checked(require(delivery, "watermark", (int, float), "delivery"), "delivery.watermark")
    return [
        StatusUpdate(
            status="delivered", at=at, contact_external_id=customer, watermark=watermark, timestamp_missing=missing
        )
    ]


def _postback(event: dict[str, Any]) -> NormalizedMessage | str:
    """A button tap (Get Started, a persistent menu or template button, an Icebreaker)."""
    postback = require(event, "postback", dict, "event")
    if "mid" not in postback:
        # Without a mid a retry could not be told from a second tap; nothing to store safely.
        return "postback without mid"
    mid = _string_id(postback, "mid", "postback", _MAX_MESSAGE_ID)
    title = clean(_optional(postback, "title", str, "postback", ""))
    payload = clean(postback["payload"]) if isinstance(postback.get("payload"), str) else ""
    content: dict[str, Any] = {"payload": payload, "title": title}
    if isinstance(postback.get("referral"), dict):
        content["referral"] = _scalars(postback["referral"])
    sent_at, missing = _event_time(event)
    return NormalizedMessage(
        platform_message_id=mid,
        contact_external_id=_party(event, "sender"),
        direction="in",
        source="customer",
        sent_at=sent_at,
        kind="postback",
        text=title or payload,
        content=content,
        timestamp_missing=missing,
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
    if "id" not in party and isinstance(party.get("user_ref"), str):
        # A person known only by a plugin's user_ref (chat plugin, checkbox): that is their id here.
        return _string_id(party, "user_ref", f"event.{key}", _MAX_CONTACT_ID)
    return _string_id(party, "id", f"event.{key}", _MAX_CONTACT_ID)


def _event_time(event: dict[str, Any]) -> tuple[datetime, bool]:
    return meta_time(event.get("timestamp"))


def from_unix_millis_checked(value: int | float, where: str) -> datetime:
    """Milliseconds to an aware UTC datetime; an absurd number is the field's error, never a crash."""
    # Checked before dividing: a 400-digit integer would overflow the float division.
    if not (isinstance(value, int) or math.isfinite(value)) or not 0 < value < 1e14:
        raise PayloadError(f"{where} is out of range")
    return from_unix_seconds(value / 1000)
