"""What monitoring does when inbox announces committed messages (inbox.hooks; subscribed in apps.py).

A known customer's message that arrives in order was measured by the webhook's own statement (the
in-order part, monitoring.services.waiting): here its deadline is armed, and no task is queued for
the common case. Everything else that can move a waiting period (a new reply, a reply the platform
accepted, an edit, a customer message the statement could not decide) is measured by a
`message_measure` task. A row
inbox deleted takes its measurement out of the rollups. Status news changes no period.

This runs in the process that committed (a webhook's request, a worker), after the commit: any
failure here is logged and left to the sweep, which measures every message never measured.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.db import transaction

from inbox.hooks import MessageChange, StoredMessage
from inbox.models import Message
from monitoring.scheduling import measure_queue
from monitoring.services.deadlines import deadline_arm, warning_arm
from monitoring.services.rollups import reply_measurements_delete
from monitoring.services.waiting import InOrderResult, policy_copy_forget

logger = logging.getLogger("balas.monitoring")

_MEASURED_CHANGES = (MessageChange.CREATED, MessageChange.SENT, MessageChange.EDITED)


def messages_stored(messages: Sequence[StoredMessage]) -> None:
    removed = [m.id for m in messages if m.change is MessageChange.REMOVED]
    if removed:
        with transaction.atomic():
            reply_measurements_delete(message_ids=removed)
    measured = [m for m in messages if _needs_task(m)]
    measure_queue(message_ids=[m.id for m in measured if m.change is MessageChange.CREATED], new=True)
    measure_queue(message_ids=[m.id for m in measured if m.change is not MessageChange.CREATED])


def _needs_task(message: StoredMessage) -> bool:
    if message.change not in _MEASURED_CHANGES:
        return False
    if message.change is MessageChange.CREATED:
        # A reply typed in Balas is stored pending before the platform call: it is announced again
        # once sent (and answers nobody if it fails).
        if message.status == Message.Status.PENDING:
            return False
        return not _measured_in_order(message)
    return True


def _measured_in_order(message: StoredMessage) -> bool:
    """Whether the webhook's statement measured this new message (its in-order part); arms the period
    it opened."""
    result = InOrderResult.of(message)
    if result is None:
        return False
    if not result.policy_same:
        # This process's copy of the policy is stale: read it again for the next message.
        policy_copy_forget(shop_id=message.shop_id)
    if not result.measured:
        return False
    if result.period_id is not None and result.deadline_at is not None:
        deadline_arm(period_id=result.period_id, deadline_at=result.deadline_at)
        if result.warn_at is not None:
            warning_arm(period_id=result.period_id, warn_at=result.warn_at)
    return True
