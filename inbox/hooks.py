"""What inbox tells the apps built on it, once its writes are committed, and how they join its one statement.

inbox is the lower floor: it stores messages and knows nothing of who measures them. Whenever a
transaction stores messages or changes them in a way that can matter to someone else (a new
message from a webhook, an API push or a reply typed in Balas, a reply the platform accepted, a
status, an edit, a duplicate row merged away), inbox announces it here, and every subscriber is
called with the batch once the transaction commits (at once outside a transaction). Monitoring
subscribes in its `AppConfig.ready()` (monitoring/apps.py).

Why a small registry and not a Django signal: the announcement is typed (a frozen dataclass that
mypy checks against each subscriber), it fires only after the commit (a signal fires where it is
sent, inside the transaction), each subscriber's failure is contained and logged with a stable
event name, and the house rule keeps business logic out of signals. See docs/architecture.md.

The webhook stores a known customer's message with one SQL statement (inbox.services.ingest),
because each round trip costs about as much as a whole bare request. An app that would otherwise
queue a task for every such message may add a part to that statement (`statement_part_register`):
SQL of its own that reads the message just inserted, whose result columns reach its subscriber in
the announcement (`StoredMessage.statement`). Monitoring's part opens or joins the waiting period
(monitoring.services.waiting). inbox runs the part's text; it never knows what it means.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from django.db import transaction

from inbox.models import Message, is_customer_turn, is_human_reply

logger = logging.getLogger("balas.hooks")


class MessageChange(StrEnum):
    CREATED = "created"  # a new message row (webhook, API push, reply typed in Balas, echo)
    SENT = "sent"  # a reply typed in Balas was accepted by the platform (it now counts as sent)
    STATUS = "status"  # delivery, read or failure news about the shop's own message
    EDITED = "edited"  # the platform reported a new text for the message
    REMOVED = "removed"  # the row was deleted (a duplicate of another row, merged into it)


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """The committed state of one message, as the subscriber would read it from its row."""

    id: int
    shop_id: int
    conversation_id: int
    direction: str
    source: str
    kind: str
    status: str
    sent_at: datetime
    change: MessageChange
    # The result columns of each statement part (by part name) that ran with this message.
    statement: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @classmethod
    def of(
        cls, message: Message, change: MessageChange, statement: Mapping[str, Mapping[str, Any]] | None = None
    ) -> StoredMessage:
        return cls(
            id=message.pk,
            shop_id=message.shop_id,
            conversation_id=message.conversation_id,
            direction=message.direction,
            source=message.source,
            kind=message.kind,
            status=message.status,
            sent_at=message.sent_at,
            change=change,
            statement=statement or {},
        )

    @property
    def is_customer_turn(self) -> bool:
        return is_customer_turn(direction=self.direction, kind=self.kind)

    @property
    def is_human_reply(self) -> bool:
        return is_human_reply(direction=self.direction, source=self.source, status=self.status, kind=self.kind)


MessagesSubscriber = Callable[[Sequence[StoredMessage]], None]

_subscribers: list[MessagesSubscriber] = []


def messages_stored_subscribe(subscriber: MessagesSubscriber) -> None:
    """Call `subscriber` with every committed batch from now on (once, however often this is called)."""
    if subscriber not in _subscribers:
        _subscribers.append(subscriber)


def messages_stored_unsubscribe(subscriber: MessagesSubscriber) -> None:
    if subscriber in _subscribers:
        _subscribers.remove(subscriber)


def messages_stored_announce(*, messages: Sequence[StoredMessage]) -> None:
    """Hand `messages` to every subscriber after the current transaction commits.

    A rolled-back transaction announces nothing. A subscriber that raises is logged and skipped:
    the rows are committed whatever a subscriber does, and the monitoring sweep finds any message
    its subscriber could not handle.
    """
    if not messages or not _subscribers:
        return
    batch = tuple(messages)
    transaction.on_commit(lambda: _deliver(batch))


def _deliver(batch: tuple[StoredMessage, ...]) -> None:
    for subscriber in tuple(_subscribers):
        try:
            subscriber(batch)
        except Exception:
            logger.exception(
                "hooks.subscriber_failed subscriber=%s messages=%s",
                getattr(subscriber, "__qualname__", repr(subscriber)),
                ",".join(str(m.id) for m in batch[:20]),
            )


# --- parts of the webhook's one statement -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatementInput:
    """What a part may know before the statement runs: the shop, and the new message's time."""

    shop_id: int
    channel_id: int
    sent_at: datetime


@dataclass(frozen=True)
class StatementPart:
    """SQL an app adds to the webhook's one statement for a known customer's message.

    `ctes`: common table expressions (each `name AS (...)`, comma-separated, names starting with
    the part's name) that may read `stored_message (id, conversation_id, sent_at)`, the message row
    this statement inserted (empty for a duplicate), and `stored_conversation`, its conversation
    row as updated (and locked) by this statement, and lock or write the app's own rows. A part
    that must see the conversation locked first reads `stored_conversation`: PostgreSQL runs a
    data-modifying CTE before anything that reads it, and no other order is promised.
    `columns`: output name -> SQL expression of the statement's result row. `params(input)`: the
    named parameters the text uses (each `%(<name>_...)s`), or None when the part cannot take part
    for this message; the statement then runs without it. The text must not change between calls:
    the statement is prepared once per connection.
    """

    name: str
    ctes: str
    columns: Mapping[str, str]
    params: Callable[[StatementInput], Mapping[str, Any] | None]


_parts: list[StatementPart] = []


def statement_part_register(part: StatementPart) -> None:
    """Add `part` to the webhook's one statement from now on (once per name)."""
    if any(known.name == part.name for known in _parts):
        return
    _parts.append(part)


def statement_part_unregister(name: str) -> None:
    _parts[:] = [part for part in _parts if part.name != name]


def statement_parts() -> tuple[StatementPart, ...]:
    return tuple(_parts)
