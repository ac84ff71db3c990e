"""Balas's terse-reply judge: is an admin's reply curt, cold or brushing the customer off?

    from monitoring.tone import judge, ToneVerdict
    verdict = judge(customer=["Kak, serum ini ready?", "ongkir ke Bandung berapa?"], reply="iya")

Pure Python at run time, no network: rules plus a small learned layer whose weights ship as
data/learned.json (trained on the dev split by `python -m monitoring.tone.train`); see docs/tone.md.
"""

from monitoring.tone.core import ToneVerdict, judge
from monitoring.tone.suggest import SuggestContext

__all__ = ["SuggestContext", "ToneVerdict", "judge"]
