"""Storing what platforms and API clients send: one transaction per delivery."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Model, Q
from django.utils import timezone

from inbox.adapters.base import NormalizedMessage, ParsedEvent, StatusUpdate
from inbox.models import Channel, Contact, Conversation, Message, WebhookEvent
from inbox.services.events import (
    message_events_publish,
    message_followups_enqueue,
    message_updated_publish,
    period_deadline_arm_enqueue,
)

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

    @property
    def outcome(self) -> str:
        if self.created or self.statuses_applied or self.matched_own_sends:
            return WebhookEvent.Outcome.ACCEPTED
        if self.duplicates:
            return WebhookEvent.Outcome.DUPLICATE
        return WebhookEvent.Outcome.IGNORED


class ChannelChangedError(Exception):
    """The channel row changed since the caller read it (secrets, deactivated, deleted): nothing
    was written; verify the delivery again against a fresh read."""


# Deadlock and serialization failure: PostgreSQL rolled the transaction back, and running it again can
# succeed.
_RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
_INGEST_ATTEMPTS = 3


def deliveries_ingest(*, deliveries: Sequence[tuple[Channel, ParsedEvent]], raw_body: str) -> list[IngestResult]:
    """Store one webhook's deliveries (one per verified channel, nearly always one), all or nothing.

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
                    message_ingest(
                        channel=channel,
                        parsed=event,
                        raw_body=raw_body,
                        channel_version=getattr(channel, "row_version", None),
                    )
                    for channel, event in deliveries
                ]
        except OperationalError as exc:
            sqlstate = getattr(exc.__cause__, "sqlstate", None)
            if sqlstate not in _RETRYABLE_SQLSTATES or attempt == _INGEST_ATTEMPTS or connection.in_atomic_block:
                raise
            logger.warning("webhook.ingest_retried attempt=%d sqlstate=%s", attempt, sqlstate)
    raise AssertionError("unreachable: the last attempt returns or raises")


def message_ingest(
    *, channel: Channel, parsed: ParsedEvent, raw_body: str, channel_version: str | None = None
) -> IngestResult:
    """Store one verified delivery: the raw event, new messages and status news.

    Duplicates (the platform retrying, or one message reported twice) store nothing new:
    the unique (channel, platform_message_id) constraint is the final word. Follow-up work and
    live events are queued only after the commit, so a 200 always means the rows exist.
    `channel_version` (the row's xmin when the channel came from the webhook's per-process copy)
    is checked in the writing statement or transaction; a mismatch raises ChannelChangedError.
    """
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
                raise ChannelChangedError(channel.pk)
    result = IngestResult(ignored=list(parsed.ignored))
    for normalized in parsed.messages:
        _message_store(channel=channel, normalized=normalized, result=result)
    for update in parsed.statuses:
        result.statuses_applied += _status_apply(channel=channel, update=update)
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
    if result.created:
        message_followups_enqueue(message_ids=result.created)
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
    if result.created:
        message_followups_enqueue(message_ids=result.created)
    assert message is not None
    return message, bool(result.created)


def _message_store(*, channel: Channel, normalized: NormalizedMessage, result: IngestResult) -> Message | None:
    existing = Message.objects.filter(channel=channel, platform_message_id=normalized.platform_message_id).first()
    if existing is not None:
        if normalized.own_send_echo or existing.source == Message.Source.INBOX:
            _own_send_confirm(existing)
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
    """
    fields = ["last_message", "last_message_at"]
    if conversation.last_message_at is None or message.sent_at >= conversation.last_message_at:
        conversation.last_message = message
        conversation.last_message_at = message.sent_at
    if message.direction == Message.Direction.IN:
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
    elif message.source != Message.Source.AUTO:
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


def _own_send_confirm(message: Message) -> None:
    if message.status in (Message.Status.PENDING, Message.Status.FAILED):
        message.status = Message.Status.SENT
        message.error = ""
        message.save(update_fields=["status", "error", "updated_at"])
        message_updated_publish(message=message)


def _status_apply(*, channel: Channel, update: StatusUpdate) -> int:
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
# evaluated on the row version the UPDATE locks), the contact's name, and the raw event. A new
# customer, an echo of our own send, or anything unusual falls back to the general path.


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


def _columns(model: type[Model], alias: str) -> tuple[list[Any], str]:
    fields = list(model._meta.concrete_fields)
    return fields, ", ".join(f"{alias}.{connection.ops.quote_name(_column(f))}" for f in fields)


def _column(field: Any) -> str:
    # Concrete fields always have a column; the stubs type it as optional for virtual ones.
    column: str | None = field.column
    assert column is not None
    return column


def _from_row(model: type[M], fields: list[Any], values: Sequence[Any]) -> M:
    """A model instance from raw columns, converted as the ORM converts them (JSON text to dicts)."""
    converted = [
        f.from_db_value(v, None, connection) if hasattr(f, "from_db_value") else v
        for f, v in zip(fields, values, strict=True)
    ]
    return model.from_db(connection.alias, [f.attname for f in fields], converted)


def _insert_sql(model: type[Model], computed: dict[str, str]) -> tuple[str, str]:
    """(columns, SELECT list) inserting a `model` row; `computed` maps a column to its SQL."""
    columns, exprs = [], []
    for f in model._meta.concrete_fields:
        if f.primary_key:
            continue
        columns.append(connection.ops.quote_name(_column(f)))
        # Typed placeholders: in INSERT ... SELECT a bare NULL or string would be text.
        exprs.append(computed.get(_column(f), f"%s::{f.cast_db_type(connection)}"))
    return ", ".join(columns), ", ".join(exprs)


def _insert_params(obj: Model, computed: dict[str, list[Any]]) -> list[Any]:
    """The parameters of `_insert_sql(type(obj), ...)` for `obj`, in the same column order."""
    params: list[Any] = []
    for f in obj._meta.concrete_fields:
        if f.primary_key:
            continue
        if f.column in computed:
            params += computed[f.column]
        else:
            params.append(f.get_db_prep_save(f.pre_save(obj, True), connection))
    return params


_EVENT_OUTCOME_SQL = "CASE WHEN EXISTS (SELECT 1 FROM m) THEN %s ELSE %s END"


@functools.cache
def _fast_sql(extra_keys: int) -> str:
    """The statement's text (one per number of contact `extra` keys), built once per process.

    Only column names from the models' metadata and fixed text are formatted in; values are parameters.
    """
    from monitoring.models import MessageTrack, ShopPolicy, WaitingPeriod

    q = connection.ops.quote_name
    m_cols, m_exprs = _insert_sql(Message, {"conversation_id": "conv.conversation_id"})
    e_cols, e_exprs = _insert_sql(
        WebhookEvent, {"outcome": _EVENT_OUTCOME_SQL, "messages_stored": "(SELECT count(*) FROM m)"}
    )
    contact_fields, contact_cols = _columns(Contact, "ct")
    conversation_fields, conversation_cols = _columns(Conversation, "c")
    contact_changed = ["(%s <> '' AND t.name <> %s)"] + ["(t.extra -> %s) IS DISTINCT FROM %s::jsonb"] * extra_keys
    contact_out = ", ".join(f"conv.{q(_column(f))}" for f in contact_fields)
    conversation_out = ", ".join(f"u.{q(_column(f))}" for f in conversation_fields)
    conversations, periods = q(Conversation._meta.db_table), q(WaitingPeriod._meta.db_table)
    policies, tracks = q(ShopPolicy._meta.db_table), q(MessageTrack._meta.db_table)
    return f"""
        -- The channel as the caller verified it (its xmin), or no check for a fresh read (NULL).
        WITH chk AS (
            SELECT (%s::xid IS NULL OR EXISTS (SELECT 1 FROM inbox_channel ch
                WHERE ch.id = %s AND ch.xmin = %s::xid AND ch.is_active)) AS same
        ),
        conv AS (
            SELECT cv.id AS conversation_id, {contact_cols}
            FROM inbox_contact ct
            JOIN inbox_conversation cv ON cv.contact_id = ct.id AND cv.channel_id = ct.channel_id
            WHERE ct.channel_id = %s AND ct.external_id = %s AND (SELECT same FROM chk)
        ),
        m AS (
            INSERT INTO inbox_message ({m_cols}) SELECT {m_exprs} FROM conv
            ON CONFLICT (channel_id, platform_message_id) WHERE platform_message_id IS NOT NULL DO NOTHING
            RETURNING id, conversation_id, sent_at
        ),
        -- The conversation's monitoring state as of now: FOR UPDATE waits for a measuring task that
        -- holds the row and then reads the row it committed, not this statement's older snapshot.
        cl AS (
            SELECT c.id, c.open_period_since, c.measured_reply_at FROM {conversations} c
            WHERE c.id = (SELECT conversation_id FROM m) FOR UPDATE
        ),
        pol AS (
            SELECT 1 AS same FROM {policies}
            WHERE shop_id = %s AND first_reply_target_s = %s AND reply_target_s = %s
                AND timezone = %s AND business_hours = %s::jsonb
        ),
        d AS (
            SELECT m.id AS message_id, m.conversation_id, m.sent_at,
                (cl.open_period_since IS NOT NULL AND m.sent_at >= cl.open_period_since) AS joins,
                (cl.open_period_since IS NULL
                    AND (cl.measured_reply_at IS NULL OR m.sent_at > cl.measured_reply_at)
                    AND EXISTS (SELECT 1 FROM pol)) AS opens,
                cl.measured_reply_at IS NULL AS is_first
            FROM m JOIN cl ON cl.id = m.conversation_id
        ),
        wp AS (
            INSERT INTO {periods} (shop_id, conversation_id, first_message_id, kind, started_at,
                target_seconds, deadline_at, created_at, updated_at)
            SELECT %s, d.conversation_id, d.message_id,
                CASE WHEN d.is_first THEN %s ELSE %s END, d.sent_at,
                CASE WHEN d.is_first THEN %s::integer ELSE %s::integer END,
                CASE WHEN d.is_first THEN %s::timestamptz ELSE %s::timestamptz END,
                %s::timestamptz, %s::timestamptz
            FROM d WHERE d.opens
            ON CONFLICT (conversation_id) WHERE ended_at IS NULL DO NOTHING
            RETURNING id, kind, deadline_at
        ),
        tr AS (
            INSERT INTO {tracks} (message_id, measured_at)
            SELECT d.message_id, %s::timestamptz FROM d WHERE d.joins OR EXISTS (SELECT 1 FROM wp)
            RETURNING message_id
        ),
        u AS (
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
                status = %s,
                platform_conversation_id = CASE WHEN %s <> '' THEN %s ELSE c.platform_conversation_id END,
                open_period_since = CASE WHEN EXISTS (SELECT 1 FROM wp) THEN m.sent_at
                    ELSE c.open_period_since END
            FROM m WHERE c.id = m.conversation_id
            RETURNING {conversation_cols}
        ),
        cu AS (
            UPDATE inbox_contact t SET
                name = CASE WHEN %s <> '' THEN %s ELSE t.name END,
                extra = t.extra || %s::jsonb
            FROM conv WHERE t.id = conv.id AND ({" OR ".join(contact_changed)})
            RETURNING t.id
        ),
        e AS (
            INSERT INTO inbox_webhookevent ({e_cols}) SELECT {e_exprs} FROM conv
            RETURNING id
        )
        SELECT (SELECT id FROM e), (SELECT count(*) FROM cu), (SELECT id FROM m),
            (SELECT count(*) FROM tr), (SELECT id FROM wp), (SELECT deadline_at FROM wp),
            (SELECT count(*) FROM pol), (SELECT same FROM chk), {contact_out}, {conversation_out}
        FROM (SELECT 1) AS one LEFT JOIN conv ON TRUE LEFT JOIN u ON TRUE
    """  # noqa: S608


@functools.cache
def _prepared_cursor_class() -> type:
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparedCursor(ServerBindingCursor):  # type: ignore[misc, valid-type]
        """Parameters sent apart from the text, and the statement prepared on the connection.

        Parsing and planning this statement cost PostgreSQL about 0.5 ms per message, more than
        running it (EXPLAIN ANALYZE: planning 0.55 ms, execution 0.35 ms); prepared once per
        connection, each message only executes it. Django leaves psycopg's automatic preparing
        off, so it is asked for here.
        """

        def execute(
            self, query: Any, params: Any = None, *, prepare: bool | None = True, binary: bool | None = None
        ) -> Any:
            return super().execute(query, params, prepare=prepare, binary=binary)  # type: ignore[misc]

    return PreparedCursor


def _prepared_cursor() -> Any:
    """Django's cursor wrapper (query logging, error wrapping) around a preparing psycopg cursor."""
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        # Django opens connections with preparing off (None refuses even prepare=True). Its own
        # cursors bind client-side and never prepare, so this enables it for this cursor alone.
        raw.prepare_threshold = 5
    with connection.wrap_database_errors:
        # _prepare_cursor is how Django wraps every cursor it creates (debug logging, thread checks).
        return connection._prepare_cursor(_prepared_cursor_class()(raw))  # type: ignore[attr-defined]


_FAST_HEAD = 8  # the values before the contact's and conversation's columns in the statement's row


def _customer_message_ingest_fast(
    *, channel: Channel, parsed: ParsedEvent, raw_body: str, channel_version: str | None = None
) -> IngestResult | None:
    """The delivery stored (and usually measured) by one statement, or None (nothing written) when the
    customer is new."""
    from monitoring.models import WaitingPeriod
    from monitoring.services.inbound import inbound_plan, inbound_policy_forget

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
    contact_params: list[Any] = [name, name]
    for key, value in extra.items():
        contact_params += [key, json.dumps(value)]
    plan = inbound_plan(shop_id=channel.shop_id, sent_at=normalized.sent_at)
    if plan is not None:
        policy = plan.policy
        policy_params: list[Any] = [
            channel.shop_id,
            policy.first_reply_target_s,
            policy.reply_target_s,
            policy.timezone,
            policy.business_hours_json,
        ]
        first_target, reply_target = policy.first_reply_target_s, policy.reply_target_s
        first_deadline, reply_deadline = plan.first_deadline, plan.reply_deadline
    else:
        # No policy yet: nothing matches, so a period is left to the task (which creates the policy).
        policy_params = [channel.shop_id, 0, 0, "", "null"]
        first_target = reply_target = 0
        first_deadline = reply_deadline = normalized.sent_at
    now = timezone.now()
    pcid = normalized.platform_conversation_id
    params: list[Any] = [
        channel_version,
        channel.pk,
        channel_version,
        channel.pk,
        normalized.contact_external_id,
        *_insert_params(message, {"conversation_id": []}),
        *policy_params,
        channel.shop_id,
        WaitingPeriod.Kind.FIRST,
        WaitingPeriod.Kind.REPLY,
        first_target,
        reply_target,
        first_deadline,
        reply_deadline,
        now,
        now,
        now,
        Conversation.Status.OPEN,
        pcid,
        pcid,
        name,
        name,
        json.dumps(extra),
        *contact_params,
        *_insert_params(
            event,
            {
                "outcome": [WebhookEvent.Outcome.ACCEPTED, WebhookEvent.Outcome.DUPLICATE],
                "messages_stored": [],
            },
        ),
    ]
    with _prepared_cursor() as cursor:
        cursor.execute(_fast_sql(len(extra)), params)
        row = cursor.fetchone()
    assert row is not None  # the statement always answers one row
    if not row[7]:
        raise ChannelChangedError(channel.pk)
    if row[_FAST_HEAD] is None:
        return None  # a new customer: the general path creates the contact and conversation
    result.event_id = row[0]
    contact_fields = list(Contact._meta.concrete_fields)
    conversation_fields = list(Conversation._meta.concrete_fields)
    contact = _from_row(Contact, contact_fields, row[_FAST_HEAD : _FAST_HEAD + len(contact_fields)])
    if row[1]:
        if name:
            contact.name = name
        contact.extra = {**contact.extra, **extra}
    conversation_values = row[_FAST_HEAD + len(contact_fields) :]
    if row[2] is None:
        # Already stored: the platform retried, or another delivery carried the same message.
        existing = Message.objects.filter(channel=channel, platform_message_id=normalized.platform_message_id).first()
        if existing is not None and existing.source == Message.Source.INBOX:
            with transaction.atomic():
                _own_send_confirm(existing)
                WebhookEvent.objects.filter(pk=result.event_id).update(outcome=WebhookEvent.Outcome.ACCEPTED)
            result.matched_own_sends += 1
        else:
            result.duplicates += 1
    else:
        conversation = _from_row(Conversation, conversation_fields, conversation_values)
        message.pk = row[2]
        message._state.adding = False
        message.conversation = conversation
        conversation.channel = channel
        conversation.contact = contact
        if conversation.last_message_id == message.pk:
            conversation.last_message = message
        result.created.append(message.pk)
        message_events_publish(message=message, conversation=conversation)
        measured, period_id, deadline_at, policy_same = row[3], row[4], row[5], row[6]
        if period_id is not None:
            period_deadline_arm_enqueue(period_id=period_id, deadline_at=deadline_at)
        if not measured:
            if plan is not None and not policy_same:
                inbound_policy_forget(shop_id=channel.shop_id)
            message_followups_enqueue(message_ids=result.created)
    _ingested_log(channel=channel, result=result)
    return result
