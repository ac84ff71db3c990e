"""Owners' judgement of terse alerts, and the judge's precision for a shop read from it."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from inbox.models import Member
from monitoring.models import Alert, AlertFeedback
from monitoring.selectors import judge_feedback_counts

logger = logging.getLogger("balas.monitoring")


class FeedbackError(ValueError):
    """Field errors, shaped like DRF's: {field: [message, ...]}."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


@transaction.atomic
def alert_feedback_record(*, alert_id: int, member: Member, verdict: object) -> AlertFeedback:
    """The owner's verdict on one terse alert of their shop; a later verdict replaces theirs."""
    if verdict not in AlertFeedback.Verdict.values:
        raise FeedbackError(
            {"verdict": [f"verdict must be one of {', '.join(AlertFeedback.Verdict.values)}, got {verdict!r}."]}
        )
    alert = Alert.objects.get(pk=alert_id, shop_id=member.shop_id)
    if alert.kind != Alert.Kind.TERSE_REPLY:
        raise FeedbackError({"alert": [f"Only terse_reply alerts take feedback; this one is {alert.kind}."]})
    feedback, created = AlertFeedback.objects.update_or_create(
        alert=alert, member=member, defaults={"verdict": str(verdict), "created_at": timezone.now()}
    )
    logger.info("alert.feedback alert=%s member=%s verdict=%s replaced=%s", alert.pk, member.pk, verdict, not created)
    return feedback


@dataclass(frozen=True)
class JudgePrecision:
    """Of the terse alerts an owner judged: how many were really terse (memang) or not (bukan)."""

    terse: int
    not_terse: int

    @property
    def judged(self) -> int:
        return self.terse + self.not_terse

    @property
    def precision(self) -> float | None:
        return self.terse / self.judged if self.judged else None


def judge_precision(*, shop_id: int) -> JudgePrecision:
    terse, not_terse = judge_feedback_counts(shop_id=shop_id)
    return JudgePrecision(terse=terse, not_terse=not_terse)
