"""The one interface every platform adapter implements, and the normalized shapes it returns.

An adapter knows its platform's wire format and nothing about the database or Django's
requests and responses: the webhook view asks it which accounts a body is for, to verify the
signature with a channel's secrets, to parse the body and how to answer; `inbox.services`
stores what it returns; `reply_send` asks it to send text. It returns plain dataclasses; the
view turns them into HTTP answers.

Adding a platform is one module in this package (its class registered in `inbox/adapters/__init__.py`)
plus its `Platform` choice. The class declares (registration refuses it
otherwise):

- `platform`: the `Platform` value it serves (also the webhook URL's slug);
- `required_secrets`: the `secrets` keys a channel must have to be created (what it signs,
  verifies and sends with);
- `max_text_length`: the longest reply text the platform's send API accepts;
- `supports_handshake`: whether the platform subscribes a webhook URL with a GET handshake;
  when True it implements `handshake()`, when False a GET is answered 405;

and implements `account_ids`, `signature_headers`, `parse` and `send_text`. It may override the
webhook answer quirks: `is_probe()` (a request the platform sends only to check the URL
answers, acknowledged without parsing) and `success_answer` (the body of the 200 for a stored
delivery; `{"received": true}` unless the platform wants otherwise), and `reply_window_hours`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

Direction = Literal["in", "out"]
Source = Literal["customer", "inbox", "echo", "api", "auto"]
DeliveryStatus = Literal["sent", "delivered", "read", "failed"]


class PayloadError(ValueError):
    """The body is not this platform's JSON (the webhook answers 400 with this text)."""


class SendError(Exception):
    """The platform refused a reply or could not be reached; `reason` is shown to the admin."""

    def __init__(self, reason: str, *, status_code: int | None = None, retryable: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status_code = status_code
        self.retryable = retryable


@dataclass(frozen=True)
class Attachment:
    type: str
    url: str = ""
    media_id: str = ""
    mime_type: str = ""
    caption: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": self.type}
        for key in ("url", "media_id", "mime_type", "caption"):
            if value := getattr(self, key):
                data[key] = value
        if self.extra:
            data.update(self.extra)
        return data


@dataclass(frozen=True)
class NormalizedMessage:
    platform_message_id: str
    contact_external_id: str
    direction: Direction
    source: Source
    sent_at: datetime
    kind: str = "text"
    text: str = ""
    attachments: tuple[Attachment, ...] = ()
    contact_name: str = ""
    contact_extra: Mapping[str, Any] = field(default_factory=dict)
    platform_conversation_id: str = ""
    sender_label: str = ""
    # An echo of a message this Balas installation sent through the platform's API (Messenger
    # `app_id` equal to ours): it must be matched to the stored reply, never stored twice.
    own_send_echo: bool = False
    # The structured part of `kind` (the contract's `content`: location, contacts, order items,
    # interactive reply, media, referral, ...), JSON-safe.
    content: Mapping[str, Any] = field(default_factory=dict)
    # The platform id of the message this one quotes or answers (WhatsApp `context.id`, Meta `reply_to.mid`).
    reply_to_platform_message_id: str = ""
    # The platform sent no usable timestamp (missing, zero, unparsable): `sent_at` is the delivery's time.
    timestamp_missing: bool = False


@dataclass(frozen=True)
class Reaction:
    """A reaction to a stored message (never a message of its own). `emoji == ""` removes it."""

    target_platform_message_id: str
    contact_external_id: str
    emoji: str
    from_shop: bool
    at: datetime
    platform_conversation_id: str = ""


@dataclass(frozen=True)
class MessageEdit:
    """New text (or caption) for a stored message, from the customer or the shop."""

    target_platform_message_id: str
    contact_external_id: str
    text: str
    from_shop: bool
    at: datetime
    content: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MessageDelete:
    """A stored message deleted or unsent on the platform (the shop still sees the original)."""

    target_platform_message_id: str
    contact_external_id: str
    from_shop: bool
    at: datetime


@dataclass(frozen=True)
class Profile:
    """A customer's public profile from the platform's user-profile API."""

    name: str = ""
    avatar_url: str = ""


@dataclass(frozen=True)
class StatusUpdate:
    """Delivery or read news about the shop's own messages."""

    status: DeliveryStatus
    at: datetime
    platform_message_id: str = ""
    contact_external_id: str = ""
    # Messenger reports "everything up to this time" instead of message ids.
    watermark: datetime | None = None
    error: str = ""
    # The platform sent no usable timestamp (missing, zero, unparsable): `at` is the delivery's time.
    timestamp_missing: bool = False


@dataclass(frozen=True)
class ParsedEvent:
    messages: tuple[NormalizedMessage, ...] = ()
    statuses: tuple[StatusUpdate, ...] = ()
    reactions: tuple[Reaction, ...] = ()
    edits: tuple[MessageEdit, ...] = ()
    deletes: tuple[MessageDelete, ...] = ()
    # What the body carried that Balas does not handle, in words (acknowledged, recorded as ignored).
    ignored: tuple[str, ...] = ()
    # Items that are not the platform's format, in words naming the field. A delivery with
    # nothing valid besides them is refused with 400; otherwise the valid part is stored and
    # these are recorded on the raw event.
    errors: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.messages or self.statuses or self.reactions or self.edits or self.deletes)


@dataclass(frozen=True)
class OutboundContext:
    """What an adapter needs to send one text reply."""

    account_id: str
    secrets: Mapping[str, Any]
    contact_external_id: str
    platform_conversation_id: str
    text: str
    reply_to_platform_message_id: str = ""


@dataclass(frozen=True)
class SendResult:
    platform_message_id: str


@dataclass(frozen=True)
class HandshakeAnswer:
    """The answer to a GET subscription handshake, sent as is by the webhook view."""

    status: int
    body: str
    content_type: str = "text/plain"
    # Index of the verify token that matched (the view logs its channel); None when refused.
    matched: int | None = None


@dataclass(frozen=True)
class WebhookAnswer:
    """The 200 a platform wants for a delivery Balas took (stored, or a probe acknowledged)."""

    body: bytes
    content_type: str


class PlatformAdapter:
    """Base class: what a subclass must declare and implement is in the module docstring."""

    # Checked by `inbox.adapters.register`: no defaults, so forgetting one fails at import.
    DECLARATIONS: ClassVar[tuple[str, ...]] = ("platform", "required_secrets", "max_text_length", "supports_handshake")

    platform: ClassVar[str]
    required_secrets: ClassVar[tuple[str, ...]]
    max_text_length: ClassVar[int]
    supports_handshake: ClassVar[bool]
    # Meta platforms refuse free-form replies 24 h after the customer's last message.
    reply_window_hours: ClassVar[int | None] = None
    success_answer: ClassVar[WebhookAnswer] = WebhookAnswer(body=b'{"received": true}', content_type="application/json")

    def handshake(self, *, params: Mapping[str, str], verify_tokens: Sequence[str]) -> HandshakeAnswer:
        """Answer a subscription GET (`params` is its query) by matching the candidate channels' tokens.

        Only called when `supports_handshake` is True.
        """
        raise NotImplementedError

    def is_probe(self, raw_body: bytes) -> bool:
        """Whether a POST is the platform checking the URL answers (acknowledged, never parsed)."""
        return False

    def account_ids(self, payload: Any) -> list[str]:
        """The platform account ids the body is addressed to (raises PayloadError).

        [] for an account-level event that names no channel (WhatsApp's `account_update`): the
        view then offers it to every channel of the platform and the signature decides.
        """
        raise NotImplementedError

    def signature_headers(self, *, secrets: Mapping[str, Any], raw_body: bytes) -> dict[str, str]:
        """The headers the platform would send with this body (used by verify, the demo and tests)."""
        raise NotImplementedError

    def verify(self, *, secrets: Mapping[str, Any], raw_body: bytes, headers: Mapping[str, str]) -> bool:
        """Constant-time check of every signature header against the channel's secrets."""
        try:
            expected = self.signature_headers(secrets=secrets, raw_body=raw_body)
        except KeyError:
            return False  # the channel lacks the secret this platform signs with
        return bool(expected) and all(signature_matches(value, headers.get(name)) for name, value in expected.items())

    def parse(self, *, payload: Any, account_id: str, secrets: Mapping[str, Any]) -> ParsedEvent:
        """Normalize the part of the body for `account_id` (raises PayloadError)."""
        raise NotImplementedError

    def send_text(self, ctx: OutboundContext) -> SendResult:
        """Send a text reply through the platform's API (raises SendError)."""
        raise NotImplementedError

    # Platforms whose send API takes a reaction to a message (WhatsApp, Messenger, Instagram).
    supports_reactions: ClassVar[bool] = False
    # Platforms that send only ids, whose names come from a user-profile API (Messenger, Instagram).
    supports_profile_fetch: ClassVar[bool] = False

    def send_reaction(self, ctx: OutboundContext, *, target_platform_message_id: str, emoji: str) -> None:
        """React to a customer's message (`emoji == ""` removes the shop's reaction; raises SendError).

        Only called when `supports_reactions` is True.
        """
        raise NotImplementedError

    def profile_fetch(self, *, account_id: str, secrets: Mapping[str, Any], contact_external_id: str) -> Profile:
        """The customer's name and picture from the user-profile API (raises SendError).

        Only called when `supports_profile_fetch` is True.
        """
        raise NotImplementedError


def hmac_sha256_hex(key: str, message: bytes) -> str:
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def signature_matches(expected: str, given: str | None) -> bool:
    """Constant-time compare; a missing header never matches."""
    if not given or not expected:
        return False
    return hmac.compare_digest(expected.encode(), given.strip().encode())


def from_unix_seconds(value: Any) -> datetime:
    try:
        seconds = float(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise PayloadError(f"timestamp {value!r} is not a number of seconds") from exc
    if not 0 < seconds < 1e11:
        raise PayloadError(f"timestamp {value!r} is out of range")
    return datetime.fromtimestamp(seconds, tz=UTC)


def require(mapping: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    """Fetch `mapping[key]` of the given JSON type or raise a PayloadError naming the field."""
    if not isinstance(mapping, dict):
        raise PayloadError(f"{where} is not an object")
    if key not in mapping:
        raise PayloadError(f"{where}.{key} is missing")
    value = mapping[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _as_tuple(kind)):
        raise PayloadError(f"{where}.{key} has the wrong type")
    return value


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def collect_item(errors: list[str], into: list[Any], where: str, build: Any, *args: Any) -> None:
    """Append build(*args) to `into`; a malformed item becomes an error naming where it is."""
    try:
        into.append(build(*args))
    except PayloadError as exc:
        errors.append(f"{where}: {exc}")


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def json_clean(value: Any) -> Any:
    """The decoded JSON with every string storable in PostgreSQL.

    JSON may escape a NUL (`\\u0000`) or half of an emoji (`\\ud83d`, a truncated text); neither
    can be stored in a text column, so NULs are dropped and lone surrogates become U+FFFD
    instead of turning a customer's message into a 500.
    """
    if isinstance(value, str):
        if "\x00" in value:
            value = value.replace("\x00", "")
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {json_clean(k): json_clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_clean(v) for v in value]
    return value


class EventCollector:
    """Files what an adapter's parsers return under the ParsedEvent field of its shape.

    A parser returns a NormalizedMessage, a StatusUpdate (or a list of them), a Reaction, a
    MessageEdit, a MessageDelete, a str (a reason the item is ignored) or None; `run` also turns a
    PayloadError into an error naming where it was.
    """

    def __init__(self) -> None:
        self.messages: list[NormalizedMessage] = []
        self.statuses: list[StatusUpdate] = []
        self.reactions: list[Reaction] = []
        self.edits: list[MessageEdit] = []
        self.deletes: list[MessageDelete] = []
        self.ignored: list[str] = []
        self.errors: list[str] = []

    def run(self, where: str, build: Any, *args: Any) -> None:
        """File what build(*args) returns; a malformed item is an error naming where."""
        try:
            item = build(*args)
        except PayloadError as exc:
            self.errors.append(f"{where}: {exc}")
            return
        self.add(where, item)

    def add(self, where: str, item: Any) -> None:
        if isinstance(item, NormalizedMessage):
            self.messages.append(item)
        elif isinstance(item, StatusUpdate):
            self.statuses.append(item)
        elif isinstance(item, list):
            self.statuses.extend(item)
        elif isinstance(item, Reaction):
            self.reactions.append(item)
        elif isinstance(item, MessageEdit):
            self.edits.append(item)
        elif isinstance(item, MessageDelete):
            self.deletes.append(item)
        elif isinstance(item, str):
            self.ignored.append(f"{where}: {item}")

    def result(self) -> ParsedEvent:
        return ParsedEvent(
            messages=tuple(self.messages),
            statuses=tuple(self.statuses),
            reactions=tuple(self.reactions),
            edits=tuple(self.edits),
            deletes=tuple(self.deletes),
            ignored=tuple(self.ignored),
            errors=tuple(self.errors),
        )
