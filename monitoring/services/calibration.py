"""Per-shop calibration of the terse judge from its owners' verdicts ("bukan ketus" / "memang ketus").

The judge flags a reply when its rules fire, and its score says how sure it is (terse verdicts score
from 0.55 up). A shop whose owner keeps answering "bukan ketus" has a judge that is too eager for
that shop's voice: its own threshold rises, so the weakest of its terse verdicts are no longer
alerts. The rule, kept simple enough to explain on the dashboard:

- nothing moves until the shop has `MIN_VERDICTS` verdicts on its terse alerts;
- the threshold is the lowest value in [`DEFAULT`, `DEFAULT + MAX_SHIFT`] (steps of 0.01) at which
  at least `TARGET_PRECISION` of the rated alerts scoring at or above it were confirmed "memang
  ketus"; if none reaches it, the upper bound;
- "memang ketus" on low-scoring replies therefore pulls it back down.

It only ever raises the bar (never flags what the rules did not), within the bounds, and reads only
the shop's own verdicts: no shop's feedback changes another's judge.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitoring.models import Alert, AlertFeedback, ReplyMeasurement
from monitoring.tone import ToneVerdict
from monitoring.tone.core import THRESHOLD

DEFAULT = THRESHOLD
MAX_SHIFT = 0.15
MIN_VERDICTS = 5
TARGET_PRECISION = 0.8


@dataclass(frozen=True)
class ToneThreshold:
    value: float
    default: float
    verdicts: int
    confirmed: int

    @property
    def moved(self) -> bool:
        return self.value != self.default


def tone_threshold(*, shop_id: int) -> ToneThreshold:
    rated = list(
        AlertFeedback.objects.filter(alert__shop_id=shop_id, alert__kind=Alert.Kind.TERSE_REPLY).values_list(
            "verdict", "alert__message_id"
        )
    )
    confirmed = sum(1 for verdict, _ in rated if verdict == AlertFeedback.Verdict.TERSE)
    if len(rated) < MIN_VERDICTS:
        return ToneThreshold(value=DEFAULT, default=DEFAULT, verdicts=len(rated), confirmed=confirmed)
    scores = dict(
        ReplyMeasurement.objects.filter(message_id__in={m for _, m in rated if m is not None}).values_list(
            "message_id", "terse_score"
        )
    )
    points: list[tuple[float, bool]] = []
    for verdict, message_id in rated:
        score = scores.get(message_id)
        if score is not None:
            points.append((float(score), verdict == AlertFeedback.Verdict.TERSE))
    value = round(DEFAULT + MAX_SHIFT, 2)
    for step in range(round(MAX_SHIFT * 100) + 1):
        candidate = round(DEFAULT + step / 100, 2)
        above = [ok for score, ok in points if score >= candidate]
        if not above or sum(above) >= TARGET_PRECISION * len(above):
            value = candidate
            break
    return ToneThreshold(value=value, default=DEFAULT, verdicts=len(rated), confirmed=confirmed)


def verdict_calibrate(*, verdict: ToneVerdict, shop_id: int) -> ToneVerdict:
    """The verdict as this shop's threshold reads it: a terse verdict below it is not an alert."""
    if not verdict.terse:
        return verdict
    threshold = tone_threshold(shop_id=shop_id)
    if verdict.score >= threshold.value:
        return verdict
    return verdict.replaced(terse=False, reasons=(), suggestion="", codes=())
