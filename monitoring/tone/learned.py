"""The learned layer: a logistic regression over the rules' findings and the reply's words.

The rules (core.py) say what they see: reason codes, warmth, questions left open. This layer weighs
those findings together with features the rules have no phrase list for (character n-grams of the
reply's words, and a few context flags such as "the customer reports a defect and the reply
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
    "kecewa komplain telat kurang salah dibatalkan jatuh kebuka bolong robek penyok lecet berjamur "
    "broken cracked crack leaking leak damaged defective dead stopped burned burn missing wrong late "
    "crushed separated smells sticking torn ripped broke refund twice never disappointed waiting "
    "cancelled canceled complain complaint weird ruined soaked scratched dented faulty"
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
    """The shipped model: a bias, and the weights of the dense flags and of the character n-grams."""

    __slots__ = ("_codes", "_token_cache", "bias", "dense", "grams", "meta", "tables")

    def __init__(self, data: dict[str, object]) -> None:
        if data.get("feature_version") != FEATURE_VERSION:
            raise ValueError(f"learned.json has feature version {data.get('feature_version')}, not {FEATURE_VERSION}")
        self.bias = float(data["bias"])  # type: ignore[arg-type]
        self.dense: dict[str, float] = dict(data["dense"])  # type: ignore[call-overload]
        self.grams: dict[str, float] = dict(data["grams"])  # type: ignore[call-overload]
        self.meta: dict[str, object] = dict(data.get("meta", {}))  # type: ignore[call-overload]
        self._token_cache: dict[str, float] = {}
        self._codes: dict[str, float] = {}
        get = self.dense.get
        # The dense weights laid out for `dense_sum`, which reads them by position instead of by name.
        self.tables: tuple[tuple[float, ...], ...] = tuple(
            tuple(get(name, 0.0) for name in names) for names in _DENSE_TABLES
        )

    def code_weight(self, code: str) -> float:
        w = self._codes.get(code)
        if w is None:
            key = "code:" + (code.split(":", 1)[0] if code.startswith("question_unanswered") else code)
            w = self._codes[code] = self.dense.get(key, 0.0)
        return w

    def token_score(self, token: str) -> float:
        """The sum of the weights of the token's character n-grams, memoized per token."""
        cached = self._token_cache.get(token)
        if cached is not None:
            return cached
        grams = self.grams
        total = 0.0
        for g in token_grams(token):
            w = grams.get(g)
            if w is not None:
                total += w
        if len(self._token_cache) < _TOKEN_CACHE_MAX:
            self._token_cache[token] = total
        return total


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


def is_wrapped(info: CustomerInfo, reply: ReplyInfo, unanswered: int) -> bool:
    """A greeting template around a full answer to the customer's questions ("Halo kak, terima kasih sudah
    menghubungi kami 😊 Serumnya ready ..."): the layer reads only the answer. Around a complaint, or
    with a question left open, the template is part of what the customer reads as a brush-off."""
    return (
        reply.template
        and reply.content_count > 2
        and bool(info.questions)
        and not unanswered
        and not info.complaint
        and info.tokens.isdisjoint(DEFECT)
    )


def reading(info: CustomerInfo, reply: ReplyInfo, unanswered: int) -> tuple[str, ...]:
    """The words whose character n-grams the layer reads."""
    return reply.answer_seq if reply.template and is_wrapped(info, reply, unanswered) else reply.norm.tokens


def dense_flags(info: CustomerInfo, reply: ReplyInfo, codes: Sequence[str], unanswered: int) -> list[str]:
    """The named yes/no features. Every name is a key of Weights.dense (absent keys weigh 0)."""
    flags = ["code:" + (c.split(":", 1)[0] if c.startswith("question_unanswered") else c) for c in codes]
    add = flags.append
    rt = reply.tokens
    ct = info.tokens
    n = reply.n_words
    wrapped = is_wrapped(info, reply, unanswered)
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
    if reply.greeting and not wrapped:
        add("greet")
    if reply.thanks and not wrapped:
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
    if reply.template and not wrapped:
        # A greeting template around a real answer is only a greeting: the layer reads the answer.
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


# Names in the order `dense_sum` reads them: the bucket tables, then the yes/no flags.
_FLAGS: Final = (
    "honor", "greet", "thanks", "apology", "empathy", "invite", "soft", "femoji", "cemoji", "template",
    "step", "formulaic", "you", "redirect", "reply_asks", "c_closing", "c_complaint", "c_defect", "c_safety",
    "c_thanks", "warm", "q&cold", "all_unanswered", "all_unanswered&nocontent",
    "q&short&warm", "q&short&cold", "c_greeting&warm", "c_greeting&cold",
    "closing&warm", "closing&bare", "closing&mirror",
)  # fmt: skip
_DEFECT_FLAGS: Final = ("defect&empathy&step", "defect&empathy&nostep", "defect&cold&step", "defect&cold&nostep")
_DENSE_TABLES: Final = (_RW, _CW, _Q, _UN, _WARMTH, _CONTENT, _SAFETY_RW, _FLAGS, _DEFECT_FLAGS)


def dense_sum(weights: Weights, info: CustomerInfo, reply: ReplyInfo, codes: Sequence[str], unanswered: int) -> float:
    """The sum of the weights of `dense_flags(...)`, read by position: the run-time path.

    It must name the same flags as `dense_flags`; tests/monitoring/test_tone_learned.py checks the two agree
    on every dev pair.
    """
    rw, cw, q_w, un_w, warmth_w, content_w, safety_w, f, defect_w = weights.tables
    # One unpacking instead of some thirty attribute reads: this runs on every reply.
    (
        norm, rt, n, honorific, lazy, greeting, thanks, apology, invitation, softener,
        friendly, cold_emoji, warmth, _answer, content, _leading, template, _seq,
    ) = reply  # fmt: skip
    wrapped = template and is_wrapped(info, reply, unanswered)
    _messages, qs, closing, complaint, c_words, _salam, ct = info
    total = 0.0
    if codes:
        known = weights._codes
        for c in codes:
            w = known.get(c)
            total += weights.code_weight(c) if w is None else w
    warm = warmth > 0 or (softener and n >= 4)
    defect = not ct.isdisjoint(DEFECT)
    safety = not ct.isdisjoint(SAFETY)
    empathy = apology or not rt.isdisjoint(EMPATHY)
    step = not rt.isdisjoint(NEXT_STEP)
    questions = len(qs)
    total += (
        rw[n if n < 36 else 36]
        + cw[c_words if c_words < 21 else 21]
        + q_w[questions if questions < 3 else 3]
        + un_w[unanswered if unanswered < 2 else 2]
        + warmth_w[warmth if warmth < 3 else 3]
        + content_w[content if content < 9 else 9]
    )
    if honorific and not lazy:
        total += f[0]
    if greeting and not wrapped:
        total += f[1]
    if thanks and not wrapped:
        total += f[2]
    if apology:
        total += f[3]
    if empathy:
        total += f[4]
    if invitation:
        total += f[5]
    if softener:
        total += f[6]
    if friendly:
        total += f[7]
    if cold_emoji:
        total += f[8]
    if template and not wrapped:
        total += f[9]
    if step:
        total += f[10]
    if not rt.isdisjoint(FORMULAIC):
        total += f[11]
    if not rt.isdisjoint(YOU):
        total += f[12]
    if n <= 12 and not rt.isdisjoint(REDIRECT_PLACES) and not rt.isdisjoint(REDIRECT_VERBS):
        total += f[13]
    for clause in norm.clauses:
        if clause.asks:
            total += f[14]
            break
    if closing:
        total += f[15]
        if warm or friendly:
            total += f[28]
        else:
            total += f[29] if "bare_ack" in codes else f[30]
    if complaint:
        total += f[16]
    if defect:
        total += f[17]
    if safety:
        total += f[18]
        if questions:
            total += safety_w[n if n < 9 else 9]
    if not ct.isdisjoint(_CUSTOMER_THANKS):
        total += f[19]
    if warm:
        total += f[20]
    if defect or complaint:
        total += defect_w[(0 if empathy else 2) + (0 if step else 1)]
    if not questions and not closing and c_words <= 3 and not ct.isdisjoint(GREETING_WORDS):
        total += f[26] if warm else f[27]
    if questions:
        if not warm:
            total += f[21]
        if unanswered >= questions:
            total += f[23] if content <= 2 else f[22]
        if n <= 3:
            total += f[24] if warm else f[25]
    return total


def features(info: CustomerInfo, reply: ReplyInfo, codes: Sequence[str], unanswered: int) -> dict[str, float]:
    """All features of one pair as a sparse dict (the training side; `logit` is the same sum).

    A word counts as often as it occurs, so the run-time sum needs no de-duplication.
    """
    out: dict[str, float] = {}
    for f in dense_flags(info, reply, codes, unanswered):
        key = f"d:{f}"  # a flag can repeat: two unanswered questions are two "code:question_unanswered"
        out[key] = out.get(key, 0.0) + DENSE_SCALE
    for t in reading(info, reply, unanswered):
        for g in token_grams(t):
            key = f"g:{g}"
            out[key] = out.get(key, 0.0) + 1.0
    return out


def logit(weights: Weights, info: CustomerInfo, reply: ReplyInfo, codes: Sequence[str], unanswered: int) -> float:
    """bias + the weights of the pair's features, in a fixed order (the same sum in every process)."""
    total = weights.bias + dense_sum(weights, info, reply, codes, unanswered)
    cache = weights._token_cache
    for t in reading(info, reply, unanswered):
        w = cache.get(t)
        total += weights.token_score(t) if w is None else w
    return total


def probability(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)
