"""Catching up after an outage: the unmeasured backlog measured many messages per transaction.

While the worker or Redis is down, webhooks keep being stored (PostgreSQL is all they need) but no
`message_measure` task is queued; when they return, thousands of messages wait. Measuring them one
by one (one transaction and some twenty statements each, 500 per 30-second sweep) took minutes.
Here a batch of messages is measured in one transaction with a fixed number of statements per
batch for the reads: the conversations are locked together, their anchors (the last human reply
before each conversation's earliest unmeasured message), their messages and their periods are
read in one statement each, every conversation is recomputed with the same code as one message's
task (`monitoring.services.periods.conversation_periods_recompute`), and the rollups, the
conversations' state and the messages' marks are written once for the batch. Then the batch raises
the slow alerts that became due, in the deadline tasks' batches.

Why one recompute per conversation equals measuring each message: a message's measurement
recomputes everything after the last human reply before it; the earliest unmeasured message of a
conversation has the earliest such anchor, so its recompute covers what each later message's would
(the bursts after a later anchor are the same either way). tests/monitoring/test_catch_up.py runs
one scenario (out-of-order messages, replies before questions, late replies) both ways and
compares every row.

Locks: conversations are locked with SKIP LOCKED, in id order, before any other row; a conversation
someone else holds (a webhook, a task, another batch) is left out and its messages are queued as
ordinary measuring tasks, which wait in the usual order. A transaction that never waits for a
conversation and then takes the rollup rows in their global order cannot close a cycle with the
measuring tasks (the deadlock the per-message sweep once had).
"""

from __future__ import annotations

import functools
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from inbox.models import Conversation, Message
from monitoring.models import Alert, MessageTrack, ReplyMeasurement, ShopPolicy, WaitingPeriod
from monitoring.scheduling import measure_queue
from monitoring.services.alerts import SLOW_KINDS
from monitoring.services.deadlines import deadline_arm, deadline_bucket_end, warning_arm
from monitoring.services.overdue import DEADLINE_BATCH, due_slow_alerts_raise
from monitoring.services.periods import (
    RowsAhead,
    conversation_periods_recompute,
    conversation_waits_store,
    messages_tracked_store,
)
from monitoring.services.policy import policy_for_shop
from monitoring.services.rollups import RollupChanges, rollup_apply
from monitoring.services.tone_runs import followups_settle
from monitoring.services.waiting import turns_order

logger = logging.getLogger("balas.monitoring")

# Messages per transaction: enough that the statements per batch cost little per message, few enough
# that the conversations it holds (webhooks for them wait) are held well under a second or two.
CATCH_UP_BATCH = 400
# Alert batches (of DEADLINE_BATCH) a catch-up step raises at most; the next step and the sweep go on.
_ALERT_BATCHES = 20
# A conversation held elsewhere is tried again this many times in all, after 0.3 s, then 0.6 s more.
_ATTEMPTS = 3
_RETRY_PAUSE_S = 0.3


@dataclass(frozen=True)
class UnmeasuredRow:
    pk: int
    conversation_id: int
    sent_at: datetime


@dataclass
class CatchUpResult:
    measured: int = 0  # messages marked measured by the batch
    conversations: int = 0  # conversations recomputed
    queued: list[int] = field(default_factory=list)  # messages of conversations held elsewhere: queued as tasks
    alerts_raised: int = 0
    seconds: float = 0.0


def unmeasured_rows(*, after_id: int, limit: int = CATCH_UP_BATCH) -> list[UnmeasuredRow]:
    """The first `limit` messages after `after_id` nobody measured, older than the sweep's grace period.

    Younger ones are left to their own task (and to the next pass): a message stored this instant
    may still have its task on the way.
    """
    grace_edge = timezone.now() - timedelta(seconds=settings.BALAS_SWEEP_MEASURE_GRACE_S)
    rows = (
        Message.objects.filter(pk__gt=after_id, monitoring_track__isnull=True)
        .order_by("pk")
        .values_list("pk", "conversation_id", "sent_at", "created_at")[:limit]
    )
    found: list[UnmeasuredRow] = []
    for pk, conversation_id, sent_at, created_at in rows:
        if created_at > grace_edge:
            break
        found.append(UnmeasuredRow(pk=pk, conversation_id=conversation_id, sent_at=sent_at))
    return found


def messages_catch_up(*, rows: Sequence[UnmeasuredRow]) -> CatchUpResult:
    """Measure these messages together (see the module's docstring); then raise what became due.

    A conversation held elsewhere is tried again a moment later (usually a neighbouring batch of the
    same chain, which commits within a second); what is still held after that goes to ordinary
    measuring tasks.
    """
    started = time.perf_counter()
    result = CatchUpResult()
    pending = list(rows)
    for attempt in range(_ATTEMPTS):
        if not pending:
            break
        if attempt:
            time.sleep(_RETRY_PAUSE_S * attempt)
            still = set(
                Message.objects.filter(pk__in=[r.pk for r in pending], monitoring_track__isnull=True).values_list(
                    "pk", flat=True
                )
            )
            pending = [r for r in pending if r.pk in still]
        if not pending:
            break
        measured, conversations, pending = _batch_measure(rows=pending)
        result.measured += measured
        result.conversations += conversations
    result.queued = [r.pk for r in pending]
    # Outside the transaction: each waits for its conversation, as every measuring task does.
    measure_queue(message_ids=result.queued, new=True)
    if result.measured:
        result.alerts_raised = due_alerts_raise()
    result.seconds = time.perf_counter() - started
    if rows:
        logger.info(
            "catch_up.batch measured=%d conversations=%d queued=%d raised=%d ms=%.0f",
            result.measured,
            result.conversations,
            len(result.queued),
            result.alerts_raised,
            result.seconds * 1000,
        )
    return result


def _batch_measure(*, rows: Sequence[UnmeasuredRow]) -> tuple[int, int, list[UnmeasuredRow]]:
    """One transaction: (messages measured, conversations recomputed, rows whose conversation was held)."""
    by_conversation: dict[int, list[UnmeasuredRow]] = defaultdict(list)
    for row in rows:
        by_conversation[row.conversation_id].append(row)
    try:
        with transaction.atomic():
            held = _conversations_lock(ids=list(by_conversation))
            tracked: list[int] = []
            if held:
                arms = _conversations_recompute(conversations=held, rows=by_conversation)
                tracked = [row.pk for c in held for row in by_conversation[c.pk]]
                messages_tracked_store(message_ids=tracked)
                transaction.on_commit(functools.partial(_arms_apply, arms=arms))
    except Exception:
        # One bad row (or a transient database error) must not stall the whole backlog: the
        # batch's messages go to their own tasks, which retry and fail alone.
        logger.exception("catch_up.batch_failed messages=%d", len(rows))
        return 0, 0, list(rows)
    mine = {c.pk for c in held}
    return len(tracked), len(held), [r for r in rows if r.conversation_id not in mine]


def due_alerts_raise(*, batches: int = _ALERT_BATCHES) -> int:
    """The slow alerts of every period due by now, in the deadline tasks' batches.

    Periods with a reply not measured yet are left out by the batch (the reply's measurement decides
    them), and so are periods someone holds; the sweep's one-by-one pass settles both.
    """
    raised = 0
    for _ in range(batches):
        batch = due_slow_alerts_raise(limit=DEADLINE_BATCH)
        raised += len(batch.alerts)
        if batch.locked < DEADLINE_BATCH:
            break
    return raised


def _conversations_lock(*, ids: list[int]) -> list[Conversation]:
    # NO KEY UPDATE conflicts with every writer of a conversation's monitoring rows (the measuring
    # task's FOR UPDATE, the in-order statement's UPDATE, the deadline batch's lock) while letting
    # inserts that only refer to the row (a new message's foreign key) through.
    return list(
        Conversation.objects.filter(pk__in=ids)
        .select_related("contact")
        .order_by("pk")
        .select_for_update(of=("self",), no_key=True, skip_locked=True)
    )


def _conversations_recompute(
    *, conversations: list[Conversation], rows: dict[int, list[UnmeasuredRow]]
) -> list[tuple[int, datetime, datetime | None]]:
    """Recompute each locked conversation from its earliest unmeasured message's anchor; returns the
    deadlines and warnings to arm."""
    earliest = [min(rows[c.pk], key=lambda r: (r.sent_at, r.pk)).pk for c in conversations]
    reply_before = Message.objects.filter(
        Message.human_reply_q(), conversation_id=OuterRef("conversation_id"), sent_at__lt=OuterRef("sent_at")
    ).order_by("-sent_at", "-id")
    anchors: dict[int, datetime | None] = dict(
        Message.objects.filter(pk__in=earliest)
        .annotate(anchor_at=Subquery(reply_before.values("sent_at")[:1]))
        .values_list("conversation_id", "anchor_at")
    )
    from_start = [cid for cid, at in anchors.items() if at is None]
    messages_q = Q(conversation_id__in=from_start)
    periods_q = Q(conversation_id__in=from_start)
    for cid, at in anchors.items():
        if at is not None:
            messages_q |= Q(conversation_id=cid, sent_at__gt=at)
            periods_q |= Q(conversation_id=cid, started_at__gt=at)
    ordered: dict[int, list[Message]] = defaultdict(list)
    for message in (
        Message.objects.filter(Message.customer_turn_q() | Message.human_reply_q())
        .filter(messages_q)
        .select_related("sent_by")
        .order_by("conversation_id", *turns_order())
    ):
        ordered[message.conversation_id].append(message)
    existing: dict[int, list[WaitingPeriod]] = defaultdict(list)
    for period in (
        WaitingPeriod.objects.filter(periods_q)
        .order_by("conversation_id", "started_at", "id")
        .select_for_update(of=("self",))
    ):
        existing[period.conversation_id].append(period)
    replies = [m.pk for messages in ordered.values() for m in messages if m.is_human_reply]
    stale_q = Q(message_id__in=replies)
    for cid, at in anchors.items():
        stale_q |= Q(conversation_id=cid, replied_at__gt=at) if at is not None else Q(conversation_id=cid)
    period_ids = [p.pk for periods in existing.values() for p in periods]
    ahead = RowsAhead(
        measurements={m.message_id: m for m in ReplyMeasurement.objects.filter(stale_q)},
        alerted=set(
            Alert.objects.filter(waiting_period_id__in=period_ids, kind__in=SLOW_KINDS).values_list(
                "waiting_period_id", flat=True
            )
        ),
    )
    policies: dict[int, ShopPolicy] = {}
    changes = RollupChanges()
    arms: list[WaitingPeriod] = []
    waits = []
    for conversation in conversations:
        shop_id = conversation.shop_id
        if shop_id not in policies:
            policies[shop_id] = policy_for_shop(shop_id=shop_id)
        waits.append(
            conversation_periods_recompute(
                conversation=conversation,
                policy=policies[shop_id],
                anchor_at=anchors[conversation.pk],
                ordered=ordered[conversation.pk],
                existing=existing[conversation.pk],
                changes=changes,
                arms=arms,
                ahead=ahead,
            )
        )
    ahead.flush()
    rollup_apply(old=changes.old, new=changes.new)
    conversation_waits_store(waits=waits)
    # Every message a recompute went through is measured now, also those of a neighbouring batch
    # (theirs would only wait for this batch's locks and find nothing to change).
    MessageTrack.objects.bulk_create(
        [MessageTrack(message_id=m.pk) for messages in ordered.values() for m in messages], ignore_conflicts=True
    )
    # A reply of the backlog may complete (or spoil) the one before it: as the per-message task does.
    unmeasured = {row.pk for held in rows.values() for row in held}
    for messages in ordered.values():
        for message in messages:
            if message.pk in unmeasured and message.is_human_reply:
                followups_settle(message=message)
    return [(period.pk, period.deadline_at, period.warn_at) for period in arms]


def _arms_apply(*, arms: list[tuple[int, datetime, datetime | None]]) -> None:
    """Arm the deadlines and warnings still ahead (one task per half-second bucket); the deadlines
    already past are raised by `due_alerts_raise` right after the batch instead of one task each, and
    past warnings are settled by the sweep (`due_warnings_settle`)."""
    now = timezone.now()
    for period_id, deadline_at, warn_at in arms:
        if deadline_bucket_end(deadline_at) > now:
            deadline_arm(period_id=period_id, deadline_at=deadline_at)
        if warn_at is not None and deadline_bucket_end(warn_at) > now:
            warning_arm(period_id=period_id, warn_at=warn_at)
