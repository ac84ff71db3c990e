"""The decision: features -> rule flags -> verdict (terse, score, codes, reasons, suggestion)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from monitoring.tone import learned as ln
from monitoring.tone import lexicon as lx
from monitoring.tone.explain import reason
from monitoring.tone.features import (
    CustomerInfo,
    Question,
    ReplyInfo,
    analyze_customer,
    analyze_reply,
    has_digit,
    has_plain_number,
    has_price,
)
from monitoring.tone.suggest import SuggestContext, suggestion

LANGUAGES = frozenset({"id", "en"})
THRESHOLD = 0.5

_WEIGHTS: dict[str, float] = {
    "empty_reply": 0.9,
    "blames_customer": 0.75,
    "lecturing": 0.65,
    "dismissive": 0.6,
    "cold_emoji": 0.5,
    "emoji_only": 0.6,
    "bare_ack": 0.6,
    "no_warmth": 0.3,
    "too_short": 0.25,
    "half_answered": 0.25,
    "template_ignores_question": 0.1,
    "greeting_only": 0.05,
}


class ToneVerdict:
    """Result of `judge`. `codes` are stable identifiers; `reasons` are the same findings in words.

    Immutable. The suggestion is written when first read: most verdicts are stored as a measurement
    and never shown, and writing one costs about a fifth of a judgement.
    """

    __slots__ = ("_suggest", "_suggestion", "codes", "reasons", "score", "terse")

    terse: bool
    score: float
    reasons: tuple[str, ...]
    codes: tuple[str, ...]
    _suggestion: str | None
    _suggest: Callable[[], str] | None

    def __init__(
        self,
        *,
        terse: bool,
        score: float,
        reasons: tuple[str, ...],
        codes: tuple[str, ...],
        suggestion: str | None = None,
        suggest: Callable[[], str] | None = None,
    ) -> None:
        for name, value in (("terse", terse), ("score", score), ("reasons", reasons), ("codes", codes)):
            object.__setattr__(self, name, value)
        object.__setattr__(self, "_suggestion", suggestion if suggestion is not None or suggest else "")
        object.__setattr__(self, "_suggest", suggest)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"ToneVerdict is immutable: cannot set {name}")

    @property
    def suggestion(self) -> str:
        if self._suggestion is None:
            text = self._suggest() if self._suggest is not None else ""
            object.__setattr__(self, "_suggestion", text)
            object.__setattr__(self, "_suggest", None)
        return str(self._suggestion)

    def replaced(self, **changes: Any) -> ToneVerdict:
        """A copy with `changes` (terse, score, reasons, codes, suggestion)."""
        values: dict[str, Any] = {
            "terse": self.terse,
            "score": self.score,
            "reasons": self.reasons,
            "codes": self.codes,
            "suggestion": self.suggestion,
        }
        values.update(changes)
        return ToneVerdict(**values)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ToneVerdict):
            return NotImplemented
        return self.as_dict() == other.as_dict()

    def __hash__(self) -> int:
        return hash((self.terse, self.score, self.reasons, self.codes))

    def __repr__(self) -> str:
        return (
            f"ToneVerdict(terse={self.terse!r}, score={self.score!r}, reasons={self.reasons!r}, "
            f"suggestion={self.suggestion!r}, codes={self.codes!r})"
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "terse": self.terse,
            "score": self.score,
            "reasons": list(self.reasons),
            "suggestion": self.suggestion,
            "codes": list(self.codes),
        }


def _match_answers(
    questions: tuple[Question, ...], reply: ReplyInfo
) -> tuple[list[Question], list[tuple[Question, str]], int]:
    """(unanswered, answered only by a bare ack with that ack, answered count)."""
    toks = reply.answer_tokens
    pool = list(reply.leading_acks)
    content = reply.content_count
    unanswered: list[Question] = []
    by_ack: list[tuple[Question, str]] = []
    answered = 0
    defers: bool | None = None  # computed only if some question looks unanswered
    for q in questions:
        ok = False
        if q.topic == "general":
            if q.why:
                ok = content >= 3 or (content >= 2 and reply.n_words >= 5)
            elif q.wh:
                ok = content >= 3 or has_digit(toks) or bool(q.content & toks)
            elif pool:
                pool.pop(0)
                ok = True
            else:
                ok = bool(q.content & toks) or content >= 3
        else:
            evidence = toks & lx.TOPIC_EVIDENCE[q.topic]
            if q.topic == "howto":
                # A how-to answer is an explanation; its verbs are too many to list.
                ok = bool(evidence) or content >= 4
            elif q.topic == "price" or (q.topic == "shipping" and q.wh and q.cost):
                ok = has_price(toks)
            elif q.topic == "shipping" and q.wh:
                ok = bool(evidence) or content >= 2
            elif q.topic == "delivery":
                ok = bool(evidence) or has_plain_number(toks)
            elif q.topic == "size" and q.cost:
                ok = has_digit(toks)  # "lingkar dadanya berapa?" wants a number
            elif q.topic in ("size", "discount"):
                ok = bool(evidence) or has_digit(toks)
            else:
                ok = bool(evidence)
            if ok and evidence and evidence <= set(pool) and not (q.topic == "price" or has_digit(toks)):
                # The only evidence is a word that also opened the reply as its yes/no answer
                # ("ready kak"): it answers this question and cannot answer another one.
                for ack in pool:
                    if ack in evidence:
                        pool.remove(ack)
                        break
            elif not q.wh and pool:
                # A yes/no question answered by its evidence takes the reply's opening "ready"/"bisa"
                # with it: "Ready size 40 kak" to "ready size 40? bisa cod?" leaves COD open.
                pool.pop(0)
                ok = True
        if ok and content == 0 and reply.leading_acks and (q, reply.leading_acks[0]) not in by_ack:
            # "blm", "ready kak": the whole answer is one word; the suggestion spells it out.
            by_ack.append((q, reply.leading_acks[0]))
        if not ok and reply.warmth_kinds:
            if defers is None:
                defers = lx.DEFER.search(reply.norm.text, reply.tokens)
            ok = defers
        if ok:
            answered += 1
        else:
            unanswered.append(q)
    return unanswered, by_ack, answered


def _cold_codes(reply: ReplyInfo) -> list[str]:
    # Most replies hold none of the cold phrases' words: one set test skips all their regexes.
    codes = _cold_phrase_codes(reply) if lx.COLD.could_match(reply.tokens) else []
    if reply.cold_emoji:
        codes.append("cold_emoji")
    return codes


def _cold_phrase_codes(reply: ReplyInfo) -> list[str]:
    text = reply.norm.text
    toks = reply.tokens
    codes: list[str] = []
    if lx.BLAME.search(text, toks):
        codes.append("blames_customer")
    if lx.LECTURE.search(text, toks):
        codes.append("lecturing")
    dismissive = lx.DISMISS.search(text, toks)
    if not dismissive and lx.PATIENCE.search(text, toks):
        # "sabar" with neither apology nor "kak" reads as "stop bothering me"
        dismissive = not reply.apology and not (reply.honorific and not reply.lazy_honorific_only)
    if not dismissive and lx.DONT_KNOW.search(text, toks):
        dismissive = reply.answer_tokens.isdisjoint(lx.FOLLOW_UP)
    if dismissive:
        codes.append("dismissive")
    return codes


def _customer_tuple(customer: str | Sequence[str] | None) -> tuple[str, ...]:
    if customer is None:
        return ()
    if isinstance(customer, str):
        return (customer,)
    out = tuple(customer)
    for item in out:
        if not isinstance(item, str):
            raise TypeError("customer must be a string or a sequence of strings")
    return out


class RuleFindings(NamedTuple):
    """What the rules see in one pair: the learned layer's input and the verdict's reasons."""

    info: CustomerInfo
    reply: ReplyInfo
    codes: list[str]
    unanswered: list[Question]
    by_ack: list[tuple[Question, str]]


# A closing made only of these ("ok sip kak") is answered in kind by a bare "sip"; a closing that thanks,
# praises or says "I'm paying now" is not.
_MIRROR_CLOSING = lx.BARE_ACK | lx.HONORIFICS | lx.SOFTENERS | frozenset({"oke", "sip", "siap", "noted", "deh"})
_REDIRECT_OPENERS = ln.REDIRECT_VERBS | ln.REDIRECT_PLACES | frozenset({"info", "tabel", "please"})


def _opening_word(reply: ReplyInfo) -> str:
    for t in reply.norm.tokens:
        if t not in lx.GREETINGS and t not in lx.HONORIFICS:
            return t
    return ""


def rule_findings(customer: str | Sequence[str] | None, reply: str) -> RuleFindings:
    """The rule pass of `judge`: reason codes and the matched questions, before the learned layer."""
    info: CustomerInfo = analyze_customer(_customer_tuple(customer))
    rep = analyze_reply(reply)
    codes: list[str] = []

    if not rep.norm.tokens and not rep.norm.emojis:
        codes.append("empty_reply")
    codes.extend(_cold_codes(rep))

    warm = rep.warmth_kinds > 0 or (rep.softener and rep.n_words >= 4)
    only_acks = rep.tokens <= lx.BARE_ACK
    cold_ack = only_acks and not rep.friendly_emoji and not rep.greeting and not rep.thanks and not rep.apology
    if not rep.norm.tokens and rep.norm.emojis:
        if not (info.closing and rep.friendly_emoji):
            codes.append("emoji_only")
    elif rep.norm.tokens and not info.closing:
        if cold_ack:
            codes.append("bare_ack")
        elif not warm and rep.n_words <= 5:
            codes.extend(("no_warmth", "too_short"))
        elif rep.n_words <= 2 and info.n_words >= 15 and info.questions:
            codes.append("too_short")
    elif rep.norm.tokens and cold_ack and not info.tokens <= _MIRROR_CLOSING:
        # "ok" to "makasih kak" or to "aku transfer sekarang ya": the customer gave something, got nothing.
        codes.append("bare_ack")

    unanswered: list[Question] = []
    by_ack: list[tuple[Question, str]] = []
    if info.questions and rep.norm.tokens and "empty_reply" not in codes:
        unanswered, by_ack, answered = _match_answers(info.questions, rep)
        if unanswered:
            for q in unanswered:
                code = f"question_unanswered:{q.topic}"
                if code not in codes:
                    codes.append(code)
            if answered:
                codes.append("half_answered")
            elif rep.template:
                codes.append("template_ignores_question")
            elif rep.content_count == 0 and (rep.greeting or rep.thanks) and "bare_ack" not in codes:
                codes.append("greeting_only")
    elif info.questions and "emoji_only" in codes:
        unanswered = list(info.questions)

    rt = rep.tokens
    if (info.questions or info.complaint) and rep.n_words <= 12 and _opening_word(rep) in _REDIRECT_OPENERS:
        if not rt.isdisjoint(ln.REDIRECT_PLACES) and not rep.apology:
            codes.append("redirect_only")
    defect = info.complaint or not info.tokens.isdisjoint(ln.DEFECT)
    if defect and not info.closing and rep.norm.tokens and not rep.apology and rt.isdisjoint(ln.EMPATHY):
        codes.append("complaint_no_apology")
    if info.questions and rep.n_words <= 4 and not info.tokens.isdisjoint(ln.SAFETY):
        codes.append("safety_flat")

    return RuleFindings(info, rep, codes, unanswered, by_ack)


def rules_say_terse(codes: list[str]) -> bool:
    """The first judge's decision, from the rules alone (used when no learned weights are shipped)."""
    return "too_short" in codes or any(c in _HARD or c.startswith("question_unanswered") for c in codes)


# Codes the rules have always decided on by themselves (the first judge); the newer ones are evidence
# for the learned layer only.
_HARD = frozenset(_WEIGHTS) - {"no_warmth", "too_short"}


def _rule_score(f: RuleFindings) -> float:
    """The first judge's score, used when no learned weights are shipped."""
    rep, codes = f.reply, f.codes
    if rules_say_terse(codes):
        total = 0.0
        for c in codes:
            total += _WEIGHTS.get(c, 0.0)
        if f.unanswered:
            total += 0.6 * len(f.unanswered) / max(1, len(f.info.questions))
        total -= 0.03 * rep.warmth_kinds
        return round(min(1.0, max(THRESHOLD + 0.05, total)), 3)
    warm = rep.warmth_kinds > 0 or (rep.softener and rep.n_words >= 4)
    score = 0.3 - 0.07 * rep.warmth_kinds + (0.1 if rep.n_words < 4 else 0.0) + (0.0 if warm else 0.12)
    return round(min(THRESHOLD - 0.05, max(0.0, score)), 3)


def _learned_code(f: RuleFindings) -> str:
    """A reason for a reply the learned layer finds curt where no rule fired."""
    for code in ("complaint_no_apology", "redirect_only", "safety_flat"):
        if code in f.codes:
            return code
    return "cold_tone"


# The rule's categorical cases stay terse whatever the learned layer says: a cold, defensive or
# lecturing phrase "at any length", and a question of a kind whose answer the rules can check (a price
# needs an amount) left wholly unanswered, unless the layer is all but sure the reply is fine.
_FLOOR_CODES = frozenset({"blames_customer", "lecturing", "dismissive", "cold_emoji", "empty_reply", "emoji_only"})
_FLOOR_TOPICS = frozenset({"price", "shipping", "payment", "howto", "general", "size"})
UNANSWERED_FLOOR = 0.1


def _floored(f: RuleFindings, score: float) -> bool:
    if not _FLOOR_CODES.isdisjoint(f.codes):
        return True
    questions = f.info.questions
    return (
        score >= UNANSWERED_FLOOR
        and bool(questions)
        and len(f.unanswered) == len(questions)
        and all(q.topic in _FLOOR_TOPICS for q in f.unanswered)
    )


def decide(f: RuleFindings, probability: float) -> tuple[float, bool]:
    """(score, terse) from the learned layer's probability and the rules' categorical cases."""
    score = round(probability, 3)
    if score >= THRESHOLD:
        return score, True
    if _floored(f, score):
        return max(score, THRESHOLD + 0.05), True
    return score, False


def _load_layer() -> ln.Weights | None:
    try:
        return ln.load_weights()
    except FileNotFoundError:
        return None


LAYER: ln.Weights | None = _load_layer()


def judge(
    *,
    customer: str | Sequence[str] | None,
    reply: str,
    language: str = "id",
    context: SuggestContext | None = None,
) -> ToneVerdict:
    """Judge whether `reply` reads as curt, cold or brushing off, given what the customer wrote.

    Pure and deterministic: no I/O, no randomness, no global state beyond token caches.
    """
    if not isinstance(reply, str):
        raise TypeError("reply must be a string")
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {sorted(LANGUAGES)}, not {language!r}")
    f = rule_findings(customer, reply)
    codes = f.codes
    layer = LAYER
    if layer is None:
        score = _rule_score(f)
        terse = rules_say_terse(codes)
    elif not _FLOOR_CODES.isdisjoint(codes):
        # Terse whatever the layer says (see _floored); the rules' own score says how curt.
        score, terse = _rule_score(f), True
    else:
        score, terse = decide(f, ln.probability(ln.logit(layer, f.info, f.reply, codes, len(f.unanswered))))
    if not terse:
        return ToneVerdict(terse=False, score=score, reasons=(), suggestion="", codes=())
    # "no_warmth" only ever comes with "too_short"; a verdict of the learned layer alone gets its own code.
    shown = tuple(codes) or (_learned_code(f),)
    parts = len(f.info.questions)
    ack_text = " ".join(reply.split())[:24].lower() if "bare_ack" in shown else ""
    reasons = tuple([reason(c, language, ack=ack_text, parts=parts) for c in shown])
    def suggest() -> str:
        return suggestion(
            reply=reply,
            info=f.info,
            codes=shown,
            answered=tuple(f.by_ack),
            unanswered=tuple(f.unanswered),
            language=language,
            context=context,
        )

    return ToneVerdict(terse=True, score=score, reasons=reasons, codes=shown, suggest=suggest)
