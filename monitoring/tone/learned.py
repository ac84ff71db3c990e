"""The learned layer: a logistic regression over the rules' findings and the reply's words.

The rules (core.py) say what they see: reason codes, warmth, questions left open. This layer weighs
those findings together with features the rules have no phrase list for (character n-grams of the
reply's words, word pairs, and a few context flags such as "the customer reports a defect and the reply
carries no apology"), and gives the probability that the reply reads curt.

The weights are fitted on the dev split only by `python -m monitoring.tone.train` (scikit-learn, at
training time only) and shipped in data/learned.json; this module reads that file by hand and needs
nothing beyond the standard library. The features are computed by the same functions at training and
at run time, so the run-time sum equals the trained model's decision function.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path
from typing import Final

from monitoring.tone.features import CustomerInfo, ReplyInfo

WEIGHTS_PATH: Final = Path(__file__).resolve().parent / "data" / "learned.json"
FEATURE_VERSION: Final = 1
NGRAM_SIZES: Final = (3, 4, 5)
_TOKEN_CACHE_MAX: Final = 50_000
# The dense flags enter training at this value, so regularisation shrinks them less than the many
# n-grams; the shipped dense weights are the fitted coefficients times this value (a flag's value is 1).
DENSE_SCALE: Final = 8.0


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Customer words that report something wrong with the goods or the service (wider than the rules'
# COMPLAINT_WORDS, which also decide what a question is).
DEFECT: Final = _words(
    "rusak pecah retak bocor luntur sobek lepas copot mengelupas ngelupas jamur jamuran basi expired "
    "kedaluwarsa macet mati bergaris cacat noda kotor hilang tumpah embun bootloop breakout gatal "
    "kecewa komplain telat kurang salah dibatalkan jatuh kebuka "
    "broken cracked crack leaking leak damaged defective dead stopped burned burn missing wrong late "
    "crushed separated smells sticking torn ripped broke refund twice never disappointed waiting "
    "cancelled canceled complain complaint weird"
)
SAFETY: Final = _words(
    "alergi alergy allergic allergy allergies hamil bumil menyusui busui pregnant pregnancy breastfeeding "
    "nursing sensitif sensitive iritasi irritation irritated balita bayi konslet eczema gluten kacang nut "
    "nuts peanut peanuts seafood udang telur egg eggs retinol aman safe"
)
EMPATHY: Final = _words(
    "maaf sorry aduh waduh mohon ampun tenang khawatir sedih ketidaknyamanan apologies apologize "
    "understand paham mengerti worries sayang oh"
)
NEXT_STEP: Final = _words(
    "kirim dikirim kirimkan ganti diganti pengganti tukar refund retur cek dicek kabari kabarin proses "
    "diproses bantu jemput dijemput potongan klaim datang send resend replace replacement exchange check "
    "arrange fix refunded waived claim swap ship ships come"
)
FORMULAIC: Final = _words(
    "kebijakan prosedur sop standar ketentuan prioritas evaluasi berkomitmen tanggung jawab kendali "
    "menghargai masukan ulasan policy procedure procedures standard terms priority outside control "
    "understanding appreciate feedback inspection subject"
)
REDIRECT_VERBS: Final = _words("lihat liat cek baca dibaca refer see check read google ukur silakan kunjungi visit dm")
REDIRECT_PLACES: Final = _words(
    "chart deskripsi description foto photo etalase aplikasi app ulasan review reviews guide katalog "
    "bio website spesifikasi tabel panduan keterangan story highlight caption judul keranjang receipt "
    "pricelist kompatibilitas sizing"
)
YOU: Final = _words("kakak kamu anda you your ibu bapak")
GREETING_WORDS: Final = _words("halo hai hi hello hey pagi siang sore malam morning assalamualaikum permisi p")


class Weights:
    """The shipped model: a bias, and weights of dense flags, character n-grams and word pairs."""

    __slots__ = ("_follows", "_token_cache", "bias", "bigrams", "dense", "grams", "meta")

    def __init__(self, data: dict[str, object]) -> None:
        if data.get("feature_version") != FEATURE_VERSION:
            raise ValueError(f"learned.json has feature version {data.get('feature_version')}, not {FEATURE_VERSION}")
        self.bias = float(data["bias"])  # type: ignore[arg-type]
        self.dense: dict[str, float] = dict(data["dense"])  # type: ignore[call-overload]
        self.grams: dict[str, float] = dict(data["grams"])  # type: ignore[call-overload]
        self.bigrams: dict[str, float] = dict(data["bigrams"])  # type: ignore[call-overload]
        self.meta: dict[str, object] = dict(data.get("meta", {}))  # type: ignore[call-overload]
        # "a b" -> w, regrouped as a -> {b: w} so the run-time loop builds no strings.
        self._follows: dict[str, dict[str, float]] = {}
        for pair, w in self.bigrams.items():
            first, second = pair.split(" ", 1)
            self._follows.setdefault(first, {})[second] = w
        self._token_cache: dict[str, tuple[float, dict[str, float] | None]] = {}

    def token_entry(self, token: str) -> tuple[float, dict[str, float] | None]:
        """(the sum of the token's character n-gram weights, the weights of word pairs it opens).

        Memoized per token: a reply's words and word pairs cost one dict look-up per word.
        """
        cached = self._token_cache.get(token)
        if cached is not None:
            return cached
        grams = self.grams
        total = 0.0
        for g in token_grams(token):
            w = grams.get(g)
            if w is not None:
                total += w
        entry = (total, self._follows.get(token))
        if len(self._token_cache) < _TOKEN_CACHE_MAX:
            self._token_cache[token] = entry
        return entry


def load_weights(path: Path = WEIGHTS_PATH) -> Weights:
    with path.open(encoding="utf-8") as fh:
        return Weights(json.load(fh))


def token_grams(token: str) -> list[str]:
    """Character n-grams of one word, with its edges marked: "<iya>" -> "<iy", "iya", "ya>", ..."""
    text = f"<{token}>"
    n = len(text)
    return [text[i : i + size] for size in NGRAM_SIZES for i in range(n - size + 1)]


def _bucket(n: int, edges: tuple[int, ...]) -> int:
    for edge in edges:
        if n <= edge:
            return edge
    return edges[-1] + 1


def _bucket_names(prefix: str, edges: tuple[int, ...], top: int) -> tuple[str, ...]:
    """Feature names by value, worked out once: _RW[n] is the reply-length bucket's name."""
    return tuple(f"{prefix}:{_bucket(n, edges)}" for n in range(top + 1))


_RW: Final = _bucket_names("rw", (0, 1, 2, 3, 5, 8, 12, 20, 35), 36)
_CW: Final = _bucket_names("cw", (0, 2, 5, 10, 20), 21)
_CONTENT: Final = _bucket_names("content", (0, 1, 2, 4, 8), 9)
_SAFETY_RW: Final = _bucket_names("safety&rw", (2, 4, 8), 9)
_Q: Final = ("q:0", "q:1", "q:2", "q:3")
_UN: Final = ("un:0", "un:1", "un:2")
_WARMTH: Final = ("warmth:0", "warmth:1", "warmth:2", "warmth:3")
_CUSTOMER_THANKS: Final = _words("makasih thanks kasih")


def dense_flags(info: CustomerInfo, reply: ReplyInfo, codes: Sequence[str], unanswered: int) -> list[str]:
    """The named yes/no features. Every name is a key of Weights.dense (absent keys weigh 0)."""
    flags = ["code:" + (c.split(":", 1)[0] if c.startswith("question_unanswered") else c) for c in codes]
    add = flags.append
    rt = reply.tokens
    ct = info.tokens
    n = reply.n_words
    warm = reply.warmth_kinds > 0 or (reply.softener and n >= 4)
    defect = not ct.isdisjoint(DEFECT)
    safety = not ct.isdisjoint(SAFETY)
    empathy = reply.apology or not rt.isdisjoint(EMPATHY)
    step = not rt.isdisjoint(NEXT_STEP)
    questions = len(info.questions)
    add(_RW[min(n, 36)])
    add(_CW[min(info.n_words, 21)])
    add(_Q[min(questions, 3)])
    add(_UN[min(unanswered, 2)])
    add(_WARMTH[min(reply.warmth_kinds, 3)])
    add(_CONTENT[min(reply.content_count, 9)])
    if reply.honorific and not reply.lazy_honorific_only:
        add("honor")
    if reply.greeting:
        add("greet")
    if reply.thanks:
        add("thanks")
    if reply.apology:
        add("apology")
    if empathy:
        add("empathy")
    if reply.invitation:
        add("invite")
    if reply.softener:
        add("soft")
    if reply.friendly_emoji:
        add("femoji")
    if reply.cold_emoji:
        add("cemoji")
    if reply.template:
        add("template")
    if step:
        add("step")
    if not rt.isdisjoint(FORMULAIC):
        add("formulaic")
    if not rt.isdisjoint(YOU):
        add("you")
    if n <= 12 and not rt.isdisjoint(REDIRECT_PLACES) and not rt.isdisjoint(REDIRECT_VERBS):
        add("redirect")
    for clause in reply.norm.clauses:
        if clause.asks:
            add("reply_asks")
            break
    if info.closing:
        add("c_closing")
    if info.complaint:
        add("c_complaint")
    if defect:
        add("c_defect")
    if safety:
        add("c_safety")
    if not ct.isdisjoint(_CUSTOMER_THANKS):
        add("c_thanks")
    if warm:
        add("warm")
    if defect or info.complaint:
        add("defect&" + ("empathy" if empathy else "cold") + ("&step" if step else "&nostep"))
    if info.closing:
        add("closing&" + ("warm" if warm or reply.friendly_emoji else "bare" if "bare_ack" in codes else "mirror"))
    if not questions and not info.closing and info.n_words <= 3 and not ct.isdisjoint(GREETING_WORDS):
        add("c_greeting&warm" if warm else "c_greeting&cold")
    if safety and questions:
        add(_SAFETY_RW[min(n, 9)])
    if questions and not warm:
        add("q&cold")
    if questions and unanswered >= questions:
        add("all_unanswered&nocontent" if reply.content_count <= 2 else "all_unanswered")
    if questions and n <= 3:
        add("q&short&warm" if warm else "q&short&cold")
    return flags


def word_pairs(reply: ReplyInfo) -> list[str]:
    toks = reply.norm.tokens
    return [f"{a} {b}" for a, b in pairwise(toks)]


def features(info: CustomerInfo, reply: ReplyInfo, codes: Sequence[str], unanswered: int) -> dict[str, float]:
    """All features of one pair as a sparse dict (the training side; `logit` is the same sum).

    Words and word pairs count as often as they occur, so the run-time sum needs no de-duplication.
    """
    out: dict[str, float] = {f"d:{f}": DENSE_SCALE for f in dense_flags(info, reply, codes, unanswered)}
    for t in reply.norm.tokens:
        for g in token_grams(t):
            key = f"g:{g}"
            out[key] = out.get(key, 0.0) + 1.0
    for p in word_pairs(reply):
        key = f"b:{p}"
        out[key] = out.get(key, 0.0) + 1.0
    return out


def logit(weights: Weights, info: CustomerInfo, reply: ReplyInfo, codes: Sequence[str], unanswered: int) -> float:
    """bias + the weights of the pair's features, in a fixed order (the same sum in every process)."""
    total = weights.bias
    dense = weights.dense
    for f in dense_flags(info, reply, codes, unanswered):
        w = dense.get(f)
        if w is not None:
            total += w
    cache = weights._token_cache
    follows: dict[str, float] | None = None
    for t in reply.norm.tokens:
        entry = cache.get(t)
        if entry is None:
            entry = weights.token_entry(t)
        total += entry[0]
        if follows is not None:
            w = follows.get(t)
            if w is not None:
                total += w
        follows = entry[1]
    return total


def probability(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)
