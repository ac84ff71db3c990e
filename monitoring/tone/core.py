"""The decision: features -> rule flags -> verdict (terse, score, codes, reasons, suggestion)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class ToneVerdict:
    """Result of `judge`. `codes` are stable identifiers; `reasons` are the same findings in words."""

    terse: bool
    score: float
    reasons: tuple[str, ...]
    suggestion: str
    codes: tuple[str, ...]

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
            elif not ok and not q.wh and pool:
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


def judge(
    *,
    customer: str | Sequence[str] | None,
    reply: str,
    language: str = "id",
    context: SuggestContext | None = None,
) -> ToneVerdict:
    """Judge whether `reply` reads as curt, cold or brushing off, given what the customer wrote.

    Pure and deterministic: no I/O, no randomness, no global state beyond a token cache.
    """
    if not isinstance(reply, str):
        raise TypeError("reply must be a string")
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {sorted(LANGUAGES)}, not {language!r}")
    info: CustomerInfo = analyze_customer(_customer_tuple(customer))
    rep = analyze_reply(reply)
    codes: list[str] = []
    parts = len(info.questions)

    if not rep.norm.tokens and not rep.norm.emojis:
        codes.append("empty_reply")
    codes.extend(_cold_codes(rep))

    warm = rep.warmth_kinds > 0 or (rep.softener and rep.n_words >= 4)
    if not rep.norm.tokens and rep.norm.emojis:
        if not (info.closing and rep.friendly_emoji):
            codes.append("emoji_only")
    elif rep.norm.tokens and not info.closing:
        only_acks = rep.tokens <= lx.BARE_ACK
        if only_acks and not rep.friendly_emoji and not rep.greeting and not rep.thanks and not rep.apology:
            codes.append("bare_ack")
        elif not warm and rep.n_words <= 5:
            codes.extend(("no_warmth", "too_short"))
        elif rep.n_words <= 2 and info.n_words >= 15 and info.questions:
            codes.append("too_short")

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

    hard = [c for c in codes if c not in ("no_warmth", "too_short") or "too_short" in codes]
    terse = bool(hard)
    if terse:
        total = 0.0
        for c in codes:
            total += _WEIGHTS.get(c, 0.0)
        if unanswered:
            total += 0.6 * len(unanswered) / max(1, parts)
        total -= 0.03 * rep.warmth_kinds
        score = round(min(1.0, max(THRESHOLD + 0.05, total)), 3)
    else:
        score = 0.3 - 0.07 * rep.warmth_kinds + (0.1 if rep.n_words < 4 else 0.0) + (0.0 if warm else 0.12)
        score = round(min(THRESHOLD - 0.05, max(0.0, score)), 3)
        codes = []

    ack_text = " ".join(reply.split())[:24].lower() if "bare_ack" in codes else ""
    reasons = tuple([reason(c, language, ack=ack_text, parts=parts) for c in codes])
    text = ""
    if terse:
        text = suggestion(
            reply=reply,
            info=info,
            codes=tuple(codes),
            answered=tuple(by_ack),
            unanswered=tuple(unanswered),
            language=language,
            context=context,
        )
    return ToneVerdict(terse=terse, score=score, reasons=reasons, suggestion=text, codes=tuple(codes))
