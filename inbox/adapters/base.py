"""The one interface every platform adapter implements, and the normalized shapes it returns.

An adapter knows its platform's wire format and nothing about the database: the webhook view
asks it which accounts a body is for, to verify the signature with a channel's secrets and to
parse the body; `inbox.services` stores what it returns; `reply_send` asks it to send text.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
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


@dataclass(frozen=True)
class ParsedEvent:
    messages: tuple[NormalizedMessage, ...] = ()
    statuses: tuple[StatusUpdate, ...] = ()
    # What the body carried that Balas does not handle, in words (acknowledged, recorded as ignored).
    ignored: tuple[str, ...] = ()
    # Items that are not the platform's format, in words naming the field. A delivery with
    # nothing valid besides them is refused with 400; otherwise the valid part is stored and
    # these are recorded on the raw event.
    errors: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.messages and not self.statuses


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


class PlatformAdapter:
    """Base class: subclasses set `platform` and implement the four steps."""

    platform: ClassVar[str]
    # Meta platforms answer the GET subscription handshake.
    supports_handshake: ClassVar[bool] = False
    # Meta platforms refuse free-form replies 24 h after the customer's last message.
    reply_window_hours: ClassVar[int | None] = None

    def account_ids(self, payload: Any) -> list[str]:
        """The platform account ids the body is addressed to (raises PayloadError)."""
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


def from_unix_millis(value: Any) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PayloadError(f"timestamp {value!r} is not a number of milliseconds")
    try:
        seconds = value / 1000
    except OverflowError as exc:  # a JSON integer too large for a float
        raise PayloadError(f"timestamp {value!r} is out of range") from exc
    return from_unix_seconds(seconds)


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
