"""Which message opens, joins or ends a waiting period: the one home of that rule.

A waiting period starts at the first customer message after the shop's last human reply; a burst of
customer messages counts once, from its first message; it ends at the next human reply, whatever
its source. Which messages count at all is inbox's definition of a conversation's turns
(`Message.is_customer_turn`, `Message.is_human_reply`: auto-replies and unsent replies never answer).

The rule is applied in two ways, which must always agree:

- `bursts_compute` (Python): the general case. Messages can arrive out of order (a late webhook),
  so the measuring task (monitoring.services.periods) recomputes the part of the conversation a
  message can affect, from the last human reply before it, and reconciles the stored periods.
- `IN_ORDER_PART` (SQL, part of the webhook's one statement, see inbox.hooks.StatementPart): the
  common case of a known customer's message that arrives in order, decided on the conversation's
  locked row from the state the task keeps (`ConversationWait`): a message at or after the open
  period's start joins it; with no open period and after the last counted reply it opens one (the
  first reply of the conversation when no reply was ever counted). Anything else (an earlier
  message, a shop whose policy changed since this process read it, a conversation never measured)
  is left to the task, which decides it the general way. tests/monitoring/test_inbound.py drives
  the same scenarios through both and requires identical rows.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection
from django.utils import timezone

from inbox.hooks import StatementInput, StatementPart, StoredMessage
from inbox.models import Message
from monitoring.business_hours import business_deadline, warning_moment
from monitoring.models import ConversationWait, MessageTrack, ShopPolicy, WaitingPeriod


@dataclass
class Burst:
    """Customer messages answered together by one reply (or still waiting, reply None)."""

    messages: list[Message] = field(default_factory=list)
    reply: Message | None = None


def bursts_compute(messages: Iterable[Message]) -> list[Burst]:
    """Split messages (ordered by sent_at; at equal times customer messages first) into bursts.

    Pure: a reply at time r answers every customer message sent at or before r; replies with
    no customer message since the previous reply (follow-ups) answer nothing.
    """
    bursts: list[Burst] = []
    current = Burst()
    for message in messages:
        if message.is_customer_turn:
            current.messages.append(message)
        elif message.is_human_reply and current.messages:
            current.reply = message
            bursts.append(current)
            current = Burst()
    if current.messages:
        bursts.append(current)
    return bursts


def period_kind(*, index: int, replied_before: bool) -> str:
    """A conversation's first burst, with no human reply before it, waits for the first reply."""
    return WaitingPeriod.Kind.FIRST if index == 0 and not replied_before else WaitingPeriod.Kind.REPLY


def turns_order() -> tuple[str, ...]:
    # "in" sorts before "out": a customer message and a reply in the same second count as answered.
    return ("sent_at", "direction", "id")


# --- the in-order part of the webhook's statement ---------------------------------------------


@dataclass(frozen=True)
class PolicyCopy:
    """This process's copy of a shop's policy: the statement uses it only while the stored row matches."""

    first_reply_target_s: int
    reply_target_s: int
    warn_at_pct: int
    timezone: str
    business_hours: dict[str, Any]
    business_hours_json: str


@dataclass(frozen=True)
class InOrderResult:
    """What the statement's part did with one customer message."""

    measured: bool  # joined the open period or opened one: no measuring task needed
    period_id: int | None  # the period it opened
    deadline_at: datetime | None
    warn_at: datetime | None
    policy_same: bool  # the stored policy matched this process's copy

    @classmethod
    def of(cls, message: StoredMessage) -> InOrderResult | None:
        """The part's result for a message the webhook's statement stored, or None (it did not take part)."""
        row = message.statement.get(PART_NAME)
        if row is None:
            return None
        return cls(
            measured=bool(row["measured"]),
            period_id=row["period_id"],
            deadline_at=row["deadline_at"],
            warn_at=row["warn_at"],
            policy_same=bool(row["policy_same"]),
        )


_policies: dict[int, PolicyCopy] = {}
_policies_lock = threading.Lock()


def policy_copy(*, shop_id: int) -> PolicyCopy | None:
    """This process's copy of the shop's stored policy, or None when the shop has none yet (its first
    measuring task creates it)."""
    with _policies_lock:
        if shop_id in _policies:
            return _policies[shop_id]
    row = (
        ShopPolicy.objects.filter(shop_id=shop_id)
        .values_list("first_reply_target_s", "reply_target_s", "warn_at_pct", "timezone", "business_hours")
        .first()
    )
    if row is None:
        return None
    copy = PolicyCopy(
        first_reply_target_s=row[0],
        reply_target_s=row[1],
        warn_at_pct=row[2],
        timezone=row[3],
        business_hours=row[4],
        business_hours_json=json.dumps(row[4]),
    )
    with _policies_lock:
        _policies[shop_id] = copy
    return copy


def policy_copy_forget(*, shop_id: int) -> None:
    """The statement found the stored policy different from this process's copy: read it again."""
    with _policies_lock:
        _policies.pop(shop_id, None)


PART_NAME = "wait"


def _q(model: type[Any]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _part_ctes() -> str:
    # Only table names from the models' metadata are formatted in; values are named parameters.
    return f"""
        -- Monitoring's state of the conversation, read after inbox's UPDATE has locked the conversation
        -- (reading stored_conversation makes that run first): a measuring task holds the conversation
        -- while it writes this state, so by then it has committed, and FOR UPDATE reads the newest
        -- version of the row, not this statement's older snapshot. Conversation, then state: the
        -- order the task takes them in.
        wait_cl AS (
            SELECT w.open_period_since, w.measured_reply_at
            FROM stored_conversation c JOIN {_q(ConversationWait)} w ON w.conversation_id = c.id
            FOR UPDATE OF w
        ),
        wait_pol AS (
            SELECT 1 FROM {_q(ShopPolicy)}
            WHERE shop_id = %(wait_shop_id)s AND first_reply_target_s = %(wait_first_target)s
                AND reply_target_s = %(wait_reply_target)s AND warn_at_pct = %(wait_warn_pct)s
                AND timezone = %(wait_timezone)s
                AND business_hours = %(wait_business_hours)s::jsonb
        ),
        wait_d AS (
            SELECT m.id AS message_id, m.conversation_id, m.sent_at,
                (cl.open_period_since IS NOT NULL AND m.sent_at >= cl.open_period_since) AS joins,
                (cl.open_period_since IS NULL
                    AND (cl.measured_reply_at IS NULL OR m.sent_at > cl.measured_reply_at)
                    AND EXISTS (SELECT 1 FROM wait_pol)) AS opens,
                cl.measured_reply_at IS NULL AS is_first
            FROM stored_message m CROSS JOIN wait_cl cl
        ),
        wait_wp AS (
            INSERT INTO {_q(WaitingPeriod)} (shop_id, conversation_id, first_message_id, kind, started_at,
                target_seconds, deadline_at, warn_at, created_at, updated_at)
            SELECT %(wait_shop_id)s, d.conversation_id, d.message_id,
                CASE WHEN d.is_first THEN %(wait_first_kind)s ELSE %(wait_reply_kind)s END, d.sent_at,
                CASE WHEN d.is_first THEN %(wait_first_target)s::integer ELSE %(wait_reply_target)s::integer END,
                CASE WHEN d.is_first THEN %(wait_first_deadline)s::timestamptz
                    ELSE %(wait_reply_deadline)s::timestamptz END,
                CASE WHEN d.is_first THEN %(wait_first_warn)s::timestamptz ELSE %(wait_reply_warn)s::timestamptz END,
                %(wait_now)s::timestamptz, %(wait_now)s::timestamptz
            FROM wait_d d WHERE d.opens
            ON CONFLICT (conversation_id) WHERE ended_at IS NULL DO NOTHING
            RETURNING id, deadline_at, warn_at
        ),
        wait_tr AS (
            INSERT INTO {_q(MessageTrack)} (message_id, measured_at)
            SELECT d.message_id, %(wait_now)s::timestamptz FROM wait_d d
            WHERE d.joins OR EXISTS (SELECT 1 FROM wait_wp)
            RETURNING message_id
        ),
        wait_st AS (
            UPDATE {_q(ConversationWait)} w SET open_period_since = d.sent_at
            FROM wait_d d WHERE w.conversation_id = d.conversation_id AND EXISTS (SELECT 1 FROM wait_wp)
            RETURNING w.conversation_id
        )
    """  # noqa: S608


def _part_params(given: StatementInput) -> Mapping[str, Any] | None:
    policy = policy_copy(shop_id=given.shop_id)
    if policy is None:
        return None  # no policy yet: the task creates it and measures the message
    now = timezone.now()
    sent_at = given.sent_at
    first_deadline = business_deadline(sent_at, policy.first_reply_target_s, policy.business_hours, policy.timezone)
    reply_deadline = business_deadline(sent_at, policy.reply_target_s, policy.business_hours, policy.timezone)
    return {
        "wait_shop_id": given.shop_id,
        "wait_first_target": policy.first_reply_target_s,
        "wait_reply_target": policy.reply_target_s,
        "wait_warn_pct": policy.warn_at_pct,
        "wait_timezone": policy.timezone,
        "wait_business_hours": policy.business_hours_json,
        "wait_first_kind": WaitingPeriod.Kind.FIRST.value,
        "wait_reply_kind": WaitingPeriod.Kind.REPLY.value,
        "wait_first_deadline": first_deadline,
        "wait_reply_deadline": reply_deadline,
        "wait_first_warn": warning_moment(
            sent_at,
            policy.first_reply_target_s,
            policy.warn_at_pct,
            first_deadline,
            policy.business_hours,
            policy.timezone,
        ),
        "wait_reply_warn": warning_moment(
            sent_at, policy.reply_target_s, policy.warn_at_pct, reply_deadline, policy.business_hours, policy.timezone
        ),
        "wait_now": now,
    }


def in_order_part() -> StatementPart:
    """Monitoring's part of the webhook's one statement (registered in monitoring/apps.py)."""
    return StatementPart(
        name=PART_NAME,
        ctes=_part_ctes(),
        columns={
            "measured": "EXISTS (SELECT 1 FROM wait_tr)",
            "period_id": "(SELECT id FROM wait_wp)",
            "deadline_at": "(SELECT deadline_at FROM wait_wp)",
            "warn_at": "(SELECT warn_at FROM wait_wp)",
            "policy_same": "EXISTS (SELECT 1 FROM wait_pol)",
        },
        params=_part_params,
    )
