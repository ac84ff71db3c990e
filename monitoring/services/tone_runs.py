"""A reply's tone is judged with the follow-ups that complete it.

Admins often answer in several short messages: "iya ready kak" and, 20 seconds later, "ongkir ke
Bandung 15rb ya 😊". Judged alone the first reads as half an answer. So the shop's consecutive human
replies within `BALAS_TONE_FOLLOWUP_S` (default 90 s) of the reply that ended a wait (the run, cut
at the customer's next message) are judged together against the customer's whole unanswered
burst, and the measurement keeps that verdict.

A terse verdict is not raised as an alert while the window is open: a task at the window's end
(`reply_tone_settle`) judges the run again and raises only if it is still terse. The delay costs an
owner at most the window on an alert that is about wording, not about a customer waiting, and it
spares them the alert that the admin's next message would make wrong. A follow-up that arrives
later (a platform delivering it late) settles the run again at once and withdraws an alert it
answers.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from inbox.models import Conversation, Message
from monitoring.models import ReplyMeasurement
from monitoring.scheduling import task_queue_on_commit
from monitoring.services.alerts import terse_alert_record, terse_alerts_withdraw
from monitoring.services.calibration import verdict_calibrate
from monitoring.services.rollups import MeasurementSnapshot, RollupChanges, rollup_apply
from monitoring.services.waiting import turns_order
from monitoring.tone import SuggestContext, ToneVerdict, judge

logger = logging.getLogger("balas.monitoring")

# A shop that answered within this long needn't greet again ("Halo kak" mid-conversation reads canned).
GREETING_GAP = timedelta(hours=12)


def followup_window() -> timedelta:
    return timedelta(seconds=float(getattr(settings, "BALAS_TONE_FOLLOWUP_S", 90.0)))


def reply_run(*, reply: Message) -> list[Message]:
    """The reply and the shop's human replies that follow it within the window, before the customer writes again."""
    end = reply.sent_at + followup_window()
    next_customer = (
        Message.objects.filter(
            Message.customer_turn_q(), conversation_id=reply.conversation_id, sent_at__gt=reply.sent_at
        )
        .order_by("sent_at", "id")
        .values_list("sent_at", flat=True)
        .first()
    )
    if next_customer is not None and next_customer < end:
        end = next_customer - timedelta(microseconds=1)
    rows = Message.objects.filter(
        Message.human_reply_q(), conversation_id=reply.conversation_id, sent_at__gte=reply.sent_at, sent_at__lte=end
    ).select_related("sent_by__user")
    ordered = list(rows.order_by(*turns_order()))
    # Replies sent in the same second as this one but ordered before it belong to an earlier run.
    start = next((i for i, m in enumerate(ordered) if m.pk == reply.pk), None)
    return ordered[start:] if start is not None else [reply]


def greeting_owed(*, conversation_id: int, before: datetime) -> bool:
    """Whether the shop has not spoken to this customer lately (a greeting is still expected)."""
    return not Message.objects.filter(
        Message.human_reply_q(),
        conversation_id=conversation_id,
        sent_at__lt=before,
        sent_at__gte=before - GREETING_GAP,
    ).exists()


def suggest_context(*, conversation: Conversation, before: datetime) -> SuggestContext:
    """What the conversation tells a suggestion written at `before`: the customer's name, and whether a
    greeting is still owed (their order and product are read from the messages the judge gets)."""
    return SuggestContext(
        name=conversation.contact.name or "",
        greeting_owed=greeting_owed(conversation_id=conversation.pk, before=before),
    )


def run_judge(
    *, customer: list[str], run: list[Message], conversation: Conversation, started_at: datetime
) -> ToneVerdict | None:
    """The run's verdict, or None for a run without text (photos) or a judge failure."""
    text = "\n".join(m.text.strip() for m in run if m.text.strip())
    if not text:
        return None
    context = suggest_context(conversation=conversation, before=started_at)
    try:
        verdict = judge(customer=customer, reply=text, language="id", context=context)
    except Exception:
        # A judge bug must never lose the latency measurement.
        logger.exception("tone.judge_failed")
        return None
    return verdict_calibrate(verdict=verdict, shop_id=conversation.shop_id)


def tone_outcome(
    *, conversation: Conversation, reply: Message, run: list[Message], verdict: ToneVerdict | None
) -> None:
    """Raise, hold or withdraw the terse alert of a judged run (the caller holds the conversation's lock)."""
    if verdict is None or not verdict.terse:
        terse_alerts_withdraw(conversation=conversation, message_ids=[m.pk for m in run])
        return
    window_end = reply.sent_at + followup_window()
    if timezone.now() < window_end:
        task_queue_on_commit("monitoring.tasks.reply_tone_settle", [reply.pk], eta=window_end)
        return
    terse_alert_record(conversation=conversation, reply=reply, verdict=verdict)


@transaction.atomic
def reply_tone_settle(*, message_id: int) -> None:
    """Judge a measured reply's run again (its window closed, or a follow-up arrived) and raise or
    withdraw its terse alert. Idempotent."""
    measurement = (
        ReplyMeasurement.objects.filter(message_id=message_id).select_related("message", "waiting_period").first()
    )
    if measurement is None or measurement.waiting_period is None:
        return
    conversation = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("contact")
        .get(pk=measurement.conversation_id)
    )
    period = measurement.waiting_period
    reply = measurement.message
    customer = list(
        Message.objects.filter(
            Message.customer_turn_q(),
            conversation_id=conversation.pk,
            sent_at__gte=period.started_at,
            sent_at__lte=reply.sent_at,
        )
        .exclude(text="")
        .order_by(*turns_order())
        .values_list("text", flat=True)
    )
    run = reply_run(reply=reply)
    verdict = run_judge(customer=customer, run=run, conversation=conversation, started_at=period.started_at)
    old = MeasurementSnapshot.of(measurement)
    if verdict is not None:
        values = {
            "terse": bool(verdict.terse),
            "terse_score": float(verdict.score),
            "terse_reasons": list(verdict.reasons),
        }
        changed = [name for name, value in values.items() if getattr(measurement, name) != value]
        for name in changed:
            setattr(measurement, name, values[name])
        if changed:
            measurement.save(update_fields=[*changed, "updated_at"])
            changes = RollupChanges()
            changes.changed(old=old, new=MeasurementSnapshot.of(measurement))
            rollup_apply(old=changes.old, new=changes.new)
            logger.info("tone.settled message=%s terse=%s run=%d", reply.pk, measurement.terse, len(run))
    tone_outcome(conversation=conversation, reply=reply, run=run, verdict=verdict)


def followups_settle(*, message: Message) -> None:
    """A human reply that follows a measured one within the window: settle that one's run again."""
    if not message.is_human_reply:
        return
    earlier = (
        ReplyMeasurement.objects.filter(
            conversation_id=message.conversation_id,
            replied_at__lte=message.sent_at,
            replied_at__gte=message.sent_at - followup_window(),
        )
        .exclude(message_id=message.pk)
        .order_by("-replied_at")
        .values_list("message_id", flat=True)
        .first()
    )
    if earlier is not None:
        reply_tone_settle(message_id=earlier)
