"""What the webhook needs to measure a customer message itself, in its one statement.

Most customer messages either join the waiting period that is already open or open a new one
after the shop's last reply. Both are decided on the conversation's locked row in the webhook's
statement (inbox/services/ingest.py), which then needs only the two possible deadlines of a new
period. Everything else (out-of-order messages, replies, a policy changed since it was read here)
is left to the `message_measure` task, as before.

The policy is kept per process. The statement only uses it when the stored policy still has the
same targets, time zone and hours, so a stale copy can never produce a wrong deadline: it sends
the message to the task and is dropped here.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitoring.business_hours import business_deadline
from monitoring.models import ShopPolicy, WaitingPeriod


@dataclass(frozen=True)
class PolicyCopy:
    first_reply_target_s: int
    reply_target_s: int
    timezone: str
    business_hours: dict[str, Any]
    business_hours_json: str


@dataclass(frozen=True)
class InboundPlan:
    """Parameters of the statement's monitoring part for one customer message."""

    policy: PolicyCopy
    first_deadline: datetime
    reply_deadline: datetime

    def period_values(self, kind: str) -> tuple[int, datetime]:
        if kind == WaitingPeriod.Kind.FIRST:
            return self.policy.first_reply_target_s, self.first_deadline
        return self.policy.reply_target_s, self.reply_deadline


_policies: dict[int, PolicyCopy | None] = {}
_lock = threading.Lock()


def inbound_plan(*, shop_id: int, sent_at: datetime) -> InboundPlan | None:
    """The two deadlines a period opened by this message would have, or None (no policy yet)."""
    policy = _policy(shop_id)
    if policy is None:
        return None
    return InboundPlan(
        policy=policy,
        first_deadline=business_deadline(sent_at, policy.first_reply_target_s, policy.business_hours, policy.timezone),
        reply_deadline=business_deadline(sent_at, policy.reply_target_s, policy.business_hours, policy.timezone),
    )


def inbound_policy_forget(*, shop_id: int) -> None:
    """The statement found the stored policy different from this process's copy: read it again."""
    with _lock:
        _policies.pop(shop_id, None)


def _policy(shop_id: int) -> PolicyCopy | None:
    with _lock:
        if shop_id in _policies:
            return _policies[shop_id]
    row = (
        ShopPolicy.objects.filter(shop_id=shop_id)
        .values_list("first_reply_target_s", "reply_target_s", "timezone", "business_hours")
        .first()
    )
    # A shop without a policy row yet: its first message's task creates it; no copy until then.
    copy = (
        PolicyCopy(
            first_reply_target_s=row[0],
            reply_target_s=row[1],
            timezone=row[2],
            business_hours=row[3],
            business_hours_json=json.dumps(row[3]),
        )
        if row is not None
        else None
    )
    if copy is not None:
        with _lock:
            _policies[shop_id] = copy
    return copy
