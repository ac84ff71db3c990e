"""Balas's terse-reply judge: is an admin's reply curt, cold or brushing the customer off?

    from monitoring.tone import judge, ToneVerdict
    verdict = judge(customer=["Kak, serum ini ready?", "ongkir ke Bandung berapa?"], reply="iya")

Pure Python, no network, no model; see docs/tone.md.
"""

from monitoring.tone.core import ToneVerdict, judge
from monitoring.tone.suggest import SuggestContext

__all__ = ["SuggestContext", "ToneVerdict", "judge"]
