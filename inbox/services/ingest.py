"""Storing what platforms and API clients send: one transaction per delivery.

Every stored message is announced after the commit (inbox.hooks), which is how monitoring learns
of it; live events go out after the commit too (inbox.services.events). A 200 from the webhook
therefore always means the rows exist.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Model, Q

from inbox.adapters.base import NormalizedMessage, ParsedEvent, StatusUpdate
from inbox.db import prepared_cursor
from inbox.hooks import (
    MessageChange,
    StatementInput,
    StatementPart,
    StoredMessage,
    messages_stored_announce,
    statement_parts,
)
from inbox.models import Channel, Contact, Conversation, Message, WebhookEvent
from inbox.services.events import message_events_publish, message_updated_publish

logger = logging.getLogger("balas.ingest")
M = TypeVar("M", bound=Model)
_log_ingested = "webhook.ingested platform=%s channel=%s created=%d duplicates=%d statuses=%d ignored=%d"

# A status only ever moves forward; `failed` may replace only a not-yet-delivered state.
_STATUS_RANK = {
    Message.Status.PENDING: 0,
    Message.Status.SENT: 1,
    Message.Status.DELIVERED: 2,
    Message.Status.READ: 3,
}
# Our own sends come back as echoes within seconds; an older pending row is not that send.
_OWN_ECHO_MATCH_WINDOW = timedelta(hours=1)


@dataclass
class IngestResult:
    event_id: int | None = None
    created: list[int] = field(default_factory=list)
    duplicates: int = 0
    matched_own_sends: int = 0
    statuses_applied: int = 0
    ignored: list[str] = field(default_factory=list)
    # What this delivery changed, announced to the apps built on inbox after the commit.
    stored: list[StoredMessage] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        if self.created or self.statuses_applied or self.matched_own_sends:
            return WebhookEvent.Outcome.ACCEPTED
        if self.duplicates:
            return WebhookEvent.Outcome.DUPLICATE
        return WebhookEvent.Outcome.IGNORED

    def note(self, message: Message, change: MessageChange) -> None:
        self.stored.append(StoredMessage.of(message, change))


class _ChannelChanged(Exception):  # noqa: N818 - internal: unwinds the transaction, never leaves this module
    """The channel row changed since the caller read it (secrets, deactivated, deleted)."""


# Deadlock and serialization failure: PostgreSQL rolled the transaction back, and running it again can
# succeed.
_RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
_INGEST_ATTEMPTS = 3


def deliveries_ingest(
    *, deliveries: Sequence[tuple[Channel, ParsedEvent]], raw_body: str
) -> list[IngestResult] | None:
    """Store one webhook's deliveries (one per verified channel, nearly always one), all or nothing.

    Returns None, with nothing written, when a channel taken from the webhook's per-process copy
    changed since it was read (a secret rotated, the channel deactivated or deleted: its
    `row_version` no longer matches): the caller verifies the delivery again against a fresh read.

    Both ingest paths lock a customer's conversation before they update the contact, but other
    writers of those rows (measuring tasks, an admin's actions) can still close a lock cycle with a
    delivery, and PostgreSQL then aborts one of them. Everything here is atomic and deduplicated, so
    an aborted delivery is rolled back whole and runs again, instead of answering 500.
    """
    for attempt in range(1, _INGEST_ATTEMPTS + 1):
        try:
            # One channel: message_ingest is atomic by itself, and its common case is a single
            # statement needing no BEGIN/COMMIT round trips. Several: one transaction for all.
            with transaction.atomic() if len(deliveries) > 1 else nullcontext():
                return [
                    _delivery_ingest(
                        channel=channel,
                        parsed=event,
                        raw_body=raw_body,
                        channel_version=getattr(channel, "row_version", None),
                    )
                    for channel, event in deliveries
                ]
        except _ChannelChanged:
            return None
        except OperationalError as exc:
            sqlstate = getattr(exc.__cause__, "sqlstate", None)
            if sqlstate not in _RETRYABLE_SQLSTATES or attempt == _INGEST_ATTEMPTS or connection.in_atomic_block:
                raise
            logger.warning("webhook.ingest_retried attempt=%d sqlstate=%s", attempt, sqlstate)
    raise AssertionError("unreachable: the last attempt returns or raises")


def message_ingest(*, channel: Channel, parsed: ParsedEvent, raw_body: str) -> IngestResult:
    """Store one verified delivery of a freshly read channel: the raw event, new messages and status news.

    Duplicates (the platform retrying, or one message reported twice) store nothing new:
    the unique (channel, platform_message_id) constraint is the final word.
    """
    return _delivery_ingest(channel=channel, parsed=parsed, raw_body=raw_body, channel_version=None)


def _delivery_ingest(
    *, channel: Channel, parsed: ParsedEvent, raw_body: str, channel_version: str | None
) -> IngestResult:
    """`channel_version` (the row's xmin when the channel came from the webhook's per-process copy)
    is checked in the writing statement or transaction; a mismatch writes nothing."""
    if _fast_path_fits(parsed):
        result = _customer_message_ingest_fast(
            channel=channel, parsed=parsed, raw_body=raw_body, channel_version=channel_version
        )
        if result is not None:
            return result
    return _message_ingest_atomic(channel=channel, parsed=parsed, raw_body=raw_body, channel_version=channel_version)


@transaction.atomic
def _message_ingest_atomic(
    *, channel: Channel, parsed: ParsedEvent, raw_body: str, channel_version: str | None = None
) -> IngestResult:
    if channel_version is not None:
        with connection.cursor() as cursor:
            # FOR SHARE: the secrets cannot change under this transaction once checked.
            cursor.execute(
                "SELECT 1 FROM inbox_channel WHERE id = %s AND xmin = %s::xid AND is_active FOR SHARE",
                [channel.pk, channel_version],
            )
            if cursor.fetchone() is None:
                raise _ChannelChanged(channel.pk)
    result = IngestResult(ignored=list(parsed.ignored))
    for normalized in parsed.messages:
        _message_store(channel=channel, normalized=normalized, result=result)
    for update in parsed.statuses:
        result.statuses_applied += _status_apply(channel=channel, update=update, result=result)
    event = WebhookEvent.objects.create(
        platform=channel.platform,
        channel=channel,
        body=raw_body,
        outcome=result.outcome,
        detail="; ".join(result.ignored)[:500],
        messages_stored=len(result.created),
        statuses_applied=result.statuses_applied,
    )
    result.event_id = event.pk
    messages_stored_announce(messages=result.stored)
    _ingested_log(channel=channel, result=result)
    return result


def _ingested_log(*, channel: Channel, result: IngestResult) -> None:
    logger.info(
        _log_ingested,
        channel.platform,
        channel.pk,
        len(result.created),
        result.duplicates,
        result.statuses_applied,
        len(result.ignored),
    )


@transaction.atomic
def message_push(*, channel: Channel, normalized: NormalizedMessage) -> tuple[Message, bool]:
    """Store one message pushed by an `api` channel client; returns (message, created)."""
    result = IngestResult()
    message = _message_store(channel=channel, normalized=normalized, result=result)
    messages_stored_announce(messages=result.stored)
    assert message is not None
    return message, bool(result.created)


def _message_store(*, channel: Channel, normalized: NormalizedMessage, result: IngestResult) -> Message | None:
    existing = Message.objects.filter(channel=channel, platform_message_id=normalized.platform_message_id).first()
    if existing is not None:
        if normalized.own_send_echo or existing.source == Message.Source.INBOX:
            _own_send_confirm(existing, result=result)
            result.matched_own_sends += 1
        else:
            result.duplicates += 1
        return existing

    contact, created = _contact_get_or_create(channel=channel, normalized=normalized)
    conversation = _conversation_lock(channel=channel, contact=contact, normalized=normalized)
    if not created:
        # After the conversation's lock, in the order the one-statement path takes them: updating
        # the contact first deadlocked with it when two deliveries of one customer raced.
        _contact_refresh(contact=contact, normalized=normalized)

    if normalized.own_send_echo:
        pending = _pending_own_send(conversation=conversation, normalized=normalized)
        if pending is not None:
            # The echo overtook the Send API's answer: this is the reply Balas is sending.
            pending.platform_message_id = normalized.platform_message_id
            pending.status = Message.Status.SENT
            pending.save(update_fields=["platform_message_id", "status", "updated_at"])
            result.matched_own_sends += 1
            result.note(pending, MessageChange.SENT)
            message_updated_publish(message=pending)
            return pending

    message = _message_build(channel=channel, normalized=normalized, conversation=conversation)
    try:
        with transaction.atomic():
            message.save(force_insert=True)
    except IntegrityError:
        # A concurrent delivery of the same message won the race.
        result.duplicates += 1
        return Message.objects.filter(channel=channel, platform_message_id=normalized.platform_message_id).first()

    conversation_note_message(conversation=conversation, message=message)
    result.created.append(message.pk)
    result.note(message, MessageChange.CREATED)
    message_events_publish(message=message, conversation=conversation)
    return message


def _message_build(
    *, channel: Channel, normalized: NormalizedMessage, conversation: Conversation | None = None
) -> Message:
    """The unsaved row for a normalized message (both ingest paths store exactly this)."""
    return Message(
        shop_id=channel.shop_id,
        channel=channel,
        conversation=conversation,
        platform_message_id=normalized.platform_message_id,
        direction=normalized.direction,
        source=normalized.source,
        kind=normalized.kind,
        text=normalized.text,
        attachments=[a.as_dict() for a in normalized.attachments],
        sent_at=normalized.sent_at,
        status=Message.Status.RECEIVED if normalized.direction == "in" else Message.Status.SENT,
        sender_label=normalized.sender_label[:200],
    )


def conversation_note_message(*, conversation: Conversation, message: Message) -> None:
    """Update the conversation's summary fields for a new message (caller holds the row lock).

    `waiting_since` follows the contract's waiting period: it starts at the first customer
    message after the shop's last human reply and ends at the next human reply, from any source.
    The one-statement path below states the same rules in SQL (tests/inbox/test_ingest_fast_path.py
    holds the two to identical rows).
    """
    fields = ["last_message", "last_message_at"]
    if conversation.last_message_at is None or message.sent_at >= conversation.last_message_at:
        conversation.last_message = message
        conversation.last_message_at = message.sent_at
    if message.is_customer_turn:
        conversation.unread_count += 1
        fields.append("unread_count")
        if conversation.last_inbound_at is None or message.sent_at > conversation.last_inbound_at:
            conversation.last_inbound_at = message.sent_at
            fields.append("last_inbound_at")
        replied_after = conversation.last_reply_at is not None and conversation.last_reply_at >= message.sent_at
        if not replied_after and (conversation.waiting_since is None or message.sent_at < conversation.waiting_since):
            conversation.waiting_since = message.sent_at
            fields.append("waiting_since")
        if conversation.status == Conversation.Status.CLOSED:
            conversation.status = Conversation.Status.OPEN
            fields.append("status")
    elif message.is_human_reply:
        if conversation.last_reply_at is None or message.sent_at > conversation.last_reply_at:
            conversation.last_reply_at = message.sent_at
            fields.append("last_reply_at")
        if conversation.waiting_since is not None and message.sent_at >= conversation.waiting_since:
            conversation.waiting_since = None
            fields.append("waiting_since")
        # Someone answered (here or on the phone): the customer's messages have been seen.
        conversation.unread_count = 0
        fields.append("unread_count")
    conversation.save(update_fields=fields)


def _contact_get_or_create(*, channel: Channel, normalized: NormalizedMessage) -> tuple[Contact, bool]:
    return Contact.objects.get_or_create(
        channel=channel,
        external_id=normalized.contact_external_id,
        defaults={
            "shop_id": channel.shop_id,
            "name": normalized.contact_name[:200],
            "extra": dict(normalized.contact_extra),
        },
    )


def _contact_refresh(*, contact: Contact, normalized: NormalizedMessage) -> None:
    """The name and details the platform sent now, where they changed."""
    changed = []
    if normalized.contact_name and normalized.contact_name[:200] != contact.name:
        contact.name = normalized.contact_name[:200]
        changed.append("name")
    if normalized.contact_extra and any(contact.extra.get(k) != v for k, v in normalized.contact_extra.items()):
        contact.extra = {**contact.extra, **normalized.contact_extra}
        changed.append("extra")
    if changed:
        contact.save(update_fields=changed)


def _conversation_lock(*, channel: Channel, contact: Contact, normalized: NormalizedMessage) -> Conversation:
    try:
        with transaction.atomic():
            conversation, _ = Conversation.objects.select_for_update().get_or_create(
                channel=channel,
                contact=contact,
                defaults={"shop_id": channel.shop_id, "platform_conversation_id": normalized.platform_conversation_id},
            )
    except IntegrityError:
        conversation = Conversation.objects.select_for_update().get(channel=channel, contact=contact)
    if (
        normalized.platform_conversation_id
        and conversation.platform_conversation_id != normalized.platform_conversation_id
    ):
        conversation.platform_conversation_id = normalized.platform_conversation_id
        conversation.save(update_fields=["platform_conversation_id"])
    return conversation


def _pending_own_send(*, conversation: Conversation, normalized: NormalizedMessage) -> Message | None:
    return (
        Message.objects.filter(
            conversation=conversation,
            source=Message.Source.INBOX,
            platform_message_id__isnull=True,
            status=Message.Status.PENDING,
            text=normalized.text,
            created_at__gte=normalized.sent_at - _OWN_ECHO_MATCH_WINDOW,
        )
        .order_by("created_at")
        .first()
    )


def _own_send_confirm(message: Message, *, result: IngestResult) -> None:
    """The platform reported our own reply (an echo, a retry of it): a pending or failed one was sent."""
    if message.status in (Message.Status.PENDING, Message.Status.FAILED):
        message.status = Message.Status.SENT
        message.error = ""
        message.save(update_fields=["status", "error", "updated_at"])
        result.note(message, MessageChange.SENT)
        message_updated_publish(message=message)


def _status_apply(*, channel: Channel, update: StatusUpdate, result: IngestResult) -> int:
    """Move the shop's messages forward to `update.status`; returns how many rows changed."""
    rows = Message.objects.filter(channel=channel, direction=Message.Direction.OUT)
    if update.platform_message_id and update.watermark is not None and update.contact_external_id:
        # Instagram "seen" names the last message seen: it and everything before it is read.
        rows = rows.filter(
            Q(platform_message_id=update.platform_message_id)
            | Q(conversation__contact__external_id=update.contact_external_id, sent_at__lte=update.watermark)
        )
    elif update.platform_message_id:
        rows = rows.filter(platform_message_id=update.platform_message_id)
    elif update.watermark is not None and update.contact_external_id:
        rows = rows.filter(conversation__contact__external_id=update.contact_external_id, sent_at__lte=update.watermark)
    else:
        return 0
    if update.status == Message.Status.FAILED:
        rows = rows.filter(status__in=[Message.Status.PENDING, Message.Status.SENT])
        changed = list(rows.select_related("conversation")[:500])
        rows.filter(pk__in=[m.pk for m in changed]).update(status=update.status, error=update.error[:500])
    else:
        rank = _STATUS_RANK[Message.Status(update.status)]
        lower = [status for status, r in _STATUS_RANK.items() if r < rank]
        rows = rows.filter(Q(status__in=lower))
        changed = list(rows.select_related("conversation")[:500])
        Message.objects.filter(pk__in=[m.pk for m in changed]).update(status=update.status)
    for message in changed:
        message.status = update.status
        result.note(message, MessageChange.STATUS)
        message_updated_publish(message=message)
    return len(changed)


# --- the common case in one statement ----------------------------------------------------------
#
# Nearly every delivery is one customer message from a customer Balas already knows. The general
# path above spends about ten round trips on it (savepoints, get_or_create, a duplicate check,
# the insert, the conversation update, the raw event); each costs about as much as a whole bare
# view (docs/benchmarks.md). Here one INSERT ... ON CONFLICT DO NOTHING with data-modifying CTEs
# does the same work as one atomic statement: the message (the unique constraint dedupes), the
# conversation's summary (waiting_since / unread, the same rules as `conversation_note_message`,
# evaluated on the row version the UPDATE locks), the contact's name, the raw event, and the
# parts other apps add (inbox.hooks.StatementPart: monitoring opens or joins the waiting period).
# A new customer, an echo of our own send, or anything unusual falls back to the general path.


def _fast_path_fits(parsed: ParsedEvent) -> bool:
    if len(parsed.messages) != 1 or parsed.statuses or parsed.errors:
        return False
    normalized = parsed.messages[0]
    return (
        normalized.direction == Message.Direction.IN
        and not normalized.own_send_echo
        and bool(normalized.platform_message_id)
        and connection.vendor == "postgresql"
    )


def _column(field: Any) -> str:
    # Concrete fields always have a column; the stubs type it as optional for virtual ones.
    column: str | None = field.column
    assert column is not None
    return column


def _insert_columns(model: type[Model]) -> Iterator[Any]:
    return (f for f in model._meta.concrete_fields if not f.primary_key)


def _insert_sql(model: type[Model], prefix: str, computed: Mapping[str, str]) -> tuple[str, str]:
    """(columns, SELECT list) inserting a `model` row: `computed` maps a column to its SQL, every other
    column is the named parameter `<prefix><column>`."""
    q = connection.ops.quote_name
    columns, exprs = [], []
    for f in _insert_columns(model):
        columns.append(q(_column(f)))
        # Typed placeholders: in INSERT ... SELECT a bare NULL or string would be text.
        exprs.append(computed.get(_column(f), f"%({prefix}{_column(f)})s::{f.cast_db_type(connection)}"))
    return ", ".join(columns), ", ".join(exprs)


def _insert_params(obj: Model, prefix: str, computed: Sequence[str]) -> dict[str, Any]:
    """The parameters of `_insert_sql(type(obj), prefix, ...)` for `obj`."""
    return {
        f"{prefix}{_column(f)}": f.get_db_prep_save(f.pre_save(obj, True), connection)
        for f in _insert_columns(type(obj))
        if _column(f) not in computed
    }


_MESSAGE_COMPUTED = {"conversation_id": "conv.conversation_id"}
_EVENT_COMPUTED = {
    "outcome": "CASE WHEN EXISTS (SELECT 1 FROM stored_message) THEN %(event_accepted)s ELSE %(event_duplicate)s END",
    "messages_stored": "(SELECT count(*) FROM stored_message)",
}


@functools.cache
def _fast_sql(extra_keys: int, part_names: tuple[str, ...]) -> str:
    """The statement's text (one per number of contact `extra` keys and set of parts), built once per
    process. Only column names from the models' metadata, the parts' own text and fixed text are
    formatted in; values are named parameters."""
    q = connection.ops.quote_name
    parts = [part for part in statement_parts() if part.name in part_names]
    m_cols, m_exprs = _insert_sql(Message, "m_", _MESSAGE_COMPUTED)
    e_cols, e_exprs = _insert_sql(WebhookEvent, "e_", _EVENT_COMPUTED)
    contact_cols = ", ".join(f"ct.{q(_column(f))}" for f in Contact._meta.concrete_fields)
    contact_out = ", ".join(f"conv.{q(_column(f))} AS ct__{_column(f)}" for f in Contact._meta.concrete_fields)
    conversation_out = ", ".join(
        f"stored_conversation.{q(_column(f))} AS cv__{_column(f)}" for f in Conversation._meta.concrete_fields
    )
    contact_changed = ["(%(contact_name)s <> '' AND t.name <> %(contact_name)s)"] + [
        f"(t.extra -> %(x_key_{i})s) IS DISTINCT FROM %(x_value_{i})s::jsonb" for i in range(extra_keys)
    ]
    part_ctes = "".join(f",\n        {part.ctes.strip()}" for part in parts)
    part_columns = "".join(
        f", {expression} AS {part.name}__{column}" for part in parts for column, expression in part.columns.items()
    )
    return f"""
        -- The channel as the caller verified it (its xmin), or no check for a fresh read (NULL).
        WITH chk AS (
            SELECT (%(channel_version)s::xid IS NULL OR EXISTS (SELECT 1 FROM inbox_channel ch
                WHERE ch.id = %(channel_id)s AND ch.xmin = %(channel_version)s::xid AND ch.is_active)) AS same
        ),
        conv AS (
            SELECT cv.id AS conversation_id, {contact_cols}
            FROM inbox_contact ct
            JOIN inbox_conversation cv ON cv.contact_id = ct.id AND cv.channel_id = ct.channel_id
            WHERE ct.channel_id = %(channel_id)s AND ct.external_id = %(contact_external_id)s
                AND (SELECT same FROM chk)
        ),
        stored_message AS (
            INSERT INTO inbox_message ({m_cols}) SELECT {m_exprs} FROM conv
            ON CONFLICT (channel_id, platform_message_id) WHERE platform_message_id IS NOT NULL DO NOTHING
            RETURNING id, conversation_id, sent_at
        ),
        stored_conversation AS (
            UPDATE inbox_conversation c SET
                last_message_id = CASE WHEN c.last_message_at IS NULL OR m.sent_at >= c.last_message_at
                    THEN m.id ELSE c.last_message_id END,
                last_message_at = CASE WHEN c.last_message_at IS NULL OR m.sent_at >= c.last_message_at
                    THEN m.sent_at ELSE c.last_message_at END,
                unread_count = c.unread_count + 1,
                last_inbound_at = CASE WHEN c.last_inbound_at IS NULL OR m.sent_at > c.last_inbound_at
                    THEN m.sent_at ELSE c.last_inbound_at END,
                waiting_since = CASE
                    WHEN NOT (c.last_reply_at IS NOT NULL AND c.last_reply_at >= m.sent_at)
                        AND (c.waiting_since IS NULL OR m.sent_at < c.waiting_since)
                    THEN m.sent_at ELSE c.waiting_since END,
                status = %(conversation_open)s,
                platform_conversation_id = CASE WHEN %(platform_conversation_id)s <> ''
                    THEN %(platform_conversation_id)s ELSE c.platform_conversation_id END
            FROM stored_message m WHERE c.id = m.conversation_id
            RETURNING c.*
        ),
        cu AS (
            UPDATE inbox_contact t SET
                name = CASE WHEN %(contact_name)s <> '' THEN %(contact_name)s ELSE t.name END,
                extra = t.extra || %(contact_extra)s::jsonb
            FROM conv WHERE t.id = conv.id AND ({" OR ".join(contact_changed)})
            RETURNING t.id
        ),
        e AS (
            INSERT INTO inbox_webhookevent ({e_cols}) SELECT {e_exprs} FROM conv
            RETURNING id
        ){part_ctes}
        SELECT (SELECT same FROM chk) AS channel_same, (SELECT id FROM e) AS event_id,
            (SELECT count(*) FROM cu) AS contact_changed, (SELECT id FROM stored_message) AS message_id,
            {contact_out}, {conversation_out}{part_columns}
        FROM (SELECT 1) AS one LEFT JOIN conv ON TRUE LEFT JOIN stored_conversation ON TRUE
    """  # noqa: S608


@dataclass(frozen=True)
class _FastRow:
    """The statement's one result row, by column name."""

    channel_same: bool
    event_id: int | None
    contact_changed: bool
    message_id: int | None
    contact: Contact | None  # None: a new customer (nothing was written)
    conversation: Conversation | None  # None: nothing inserted (a duplicate)
    parts: dict[str, dict[str, Any]]

    @classmethod
    def read(cls, names: Sequence[str], values: Sequence[Any]) -> _FastRow:
        row = dict(zip(names, values, strict=True))
        contact = _model_from(Contact, "ct__", row)
        conversation = _model_from(Conversation, "cv__", row)
        parts: dict[str, dict[str, Any]] = {}
        for name, value in row.items():
            part, sep, column = name.partition("__")
            if sep and part not in ("ct", "cv"):
                parts.setdefault(part, {})[column] = value
        return cls(
            channel_same=bool(row["channel_same"]),
            event_id=row["event_id"],
            contact_changed=bool(row["contact_changed"]),
            message_id=row["message_id"],
            contact=contact,
            conversation=conversation,
            parts=parts,
        )


def _model_from(model: type[M], prefix: str, row: Mapping[str, Any]) -> M | None:
    """A model instance from its prefixed raw columns, converted as the ORM converts them (JSON text to
    dicts); None when the row has no such instance (the primary key is NULL)."""
    fields = list(model._meta.concrete_fields)
    values = [row[f"{prefix}{_column(f)}"] for f in fields]
    if values[[f.primary_key for f in fields].index(True)] is None:
        return None
    converted = [
        f.from_db_value(v, None, connection) if hasattr(f, "from_db_value") else v
        for f, v in zip(fields, values, strict=True)
    ]
    return model.from_db(connection.alias, [f.attname for f in fields], converted)


def _customer_message_ingest_fast(
    *, channel: Channel, parsed: ParsedEvent, raw_body: str, channel_version: str | None = None
) -> IngestResult | None:
    """The delivery stored by one statement, or None (nothing written) when the customer is new."""
    normalized = parsed.messages[0]
    result = IngestResult(ignored=list(parsed.ignored))
    message = _message_build(channel=channel, normalized=normalized)
    event = WebhookEvent(
        platform=channel.platform,
        channel=channel,
        body=raw_body,
        outcome=WebhookEvent.Outcome.ACCEPTED,
        detail="; ".join(result.ignored)[:500],
        messages_stored=1,
        statuses_applied=0,
    )
    name = normalized.contact_name[:200]
    extra = dict(normalized.contact_extra)
    given = StatementInput(shop_id=channel.shop_id, channel_id=channel.pk, sent_at=normalized.sent_at)
    parts: list[tuple[StatementPart, Mapping[str, Any]]] = []
    for part in statement_parts():
        part_params = part.params(given)
        if part_params is not None:
            parts.append((part, part_params))
    params: dict[str, Any] = {
        "channel_version": channel_version,
        "channel_id": channel.pk,
        "contact_external_id": normalized.contact_external_id,
        "contact_name": name,
        "contact_extra": json.dumps(extra),
        "conversation_open": Conversation.Status.OPEN,
        "platform_conversation_id": normalized.platform_conversation_id,
        "event_accepted": WebhookEvent.Outcome.ACCEPTED,
        "event_duplicate": WebhookEvent.Outcome.DUPLICATE,
        **_insert_params(message, "m_", tuple(_MESSAGE_COMPUTED)),
        **_insert_params(event, "e_", tuple(_EVENT_COMPUTED)),
    }
    for i, (key, value) in enumerate(extra.items()):
        params[f"x_key_{i}"] = key
        params[f"x_value_{i}"] = json.dumps(value)
    for _part, part_params in parts:
        params.update(part_params)
    with prepared_cursor() as cursor:
        cursor.execute(_fast_sql(len(extra), tuple(part.name for part, _ in parts)), params)
        row = _FastRow.read([c.name for c in cursor.description], cursor.fetchone())
    if not row.channel_same:
        raise _ChannelChanged(channel.pk)
    if row.contact is None:
        return None  # a new customer: the general path creates the contact and conversation
    assert row.event_id is not None  # a known customer: the raw event is always inserted
    result.event_id = row.event_id
    contact = row.contact
    if row.contact_changed:
        if name:
            contact.name = name
        contact.extra = {**contact.extra, **extra}
    if row.message_id is None or row.conversation is None:
        # Already stored: the platform retried, or another delivery carried the same message.
        existing = Message.objects.filter(channel=channel, platform_message_id=normalized.platform_message_id).first()
        if existing is not None and existing.source == Message.Source.INBOX:
            with transaction.atomic():
                _own_send_confirm(existing, result=result)
                WebhookEvent.objects.filter(pk=result.event_id).update(outcome=WebhookEvent.Outcome.ACCEPTED)
                messages_stored_announce(messages=result.stored)
            result.matched_own_sends += 1
        else:
            result.duplicates += 1
    else:
        conversation = row.conversation
        message.pk = row.message_id
        message._state.adding = False
        message.conversation = conversation
        conversation.channel = channel
        conversation.contact = contact
        if conversation.last_message_id == message.pk:
            conversation.last_message = message
        result.created.append(message.pk)
        result.stored.append(StoredMessage.of(message, MessageChange.CREATED, statement=row.parts))
        # One statement, committed already: both run at once.
        message_events_publish(message=message, conversation=conversation)
        messages_stored_announce(messages=result.stored)
    _ingested_log(channel=channel, result=result)
    return result
