"""Features of the customer's turn (questions, topics, closing, complaint) and of the reply.

Internal records are NamedTuples: they are built on every call and a frozen dataclass costs several
times more to construct.
"""

from __future__ import annotations

from typing import NamedTuple

from monitoring.tone import lexicon as lx
from monitoring.tone.normalize import NormText, normalize


class Question(NamedTuple):
    topic: str  # one of lexicon.TOPICS, or "general"
    wh: bool  # an open question ("berapa", "apa", "how") rather than yes/no
    why: bool
    cost: bool  # asks an amount ("ongkir berapa", "how much")
    content: frozenset[str]  # content words, to recognise an answer that echoes the question


class CustomerInfo(NamedTuple):
    messages: tuple[str, ...]
    questions: tuple[Question, ...]
    closing: bool  # a plain "ok makasih" that needs little back
    complaint: bool
    n_words: int
    salam: bool
    tokens: frozenset[str]  # every token the customer wrote (the learned layer reads them)


class ReplyInfo(NamedTuple):
    norm: NormText
    tokens: frozenset[str]
    n_words: int
    honorific: bool
    lazy_honorific_only: bool
    greeting: bool
    thanks: bool
    apology: bool
    invitation: bool
    softener: bool
    friendly_emoji: bool
    cold_emoji: bool
    warmth_kinds: int
    answer_tokens: frozenset[str]  # tokens outside template sentences
    content_count: int
    leading_acks: tuple[str, ...]
    template: bool
    answer_seq: tuple[str, ...]  # the tokens outside template sentences, in order


def _is_question(tokens: tuple[str, ...], toks: frozenset[str], asks: bool) -> tuple[bool, bool]:
    """(is a question, is an open wh-question)."""
    wh = not toks.isdisjoint(lx.WH_WORDS)
    if asks or wh:
        return True, wh
    for t in tokens:
        if t not in lx.CLAUSE_LEADERS:
            if t in lx.YN_OPENERS:
                return True, False
            break
    else:
        return False, False
    end = len(tokens)
    while end > 0 and tokens[end - 1] in lx.QUESTION_TRAILERS:
        end -= 1
    if end > 1 and tokens[end - 1] in lx.YN_TAGS:
        return True, False
    return False, False


def _topic_of(tokens: tuple[str, ...], toks: frozenset[str], wh: bool) -> str:
    if not toks.isdisjoint(lx.WHY_WORDS):
        return "general"
    found = (
        [t for t in lx.TOPICS if not toks.isdisjoint(lx.TOPIC_QUESTION_WORDS[t])]
        if not toks.isdisjoint(lx.ANY_TOPIC_QUESTION_WORD)
        else []
    )
    if "how" in toks:
        idx = tokens.index("how")
        nxt = tokens[idx + 1] if idx + 1 < len(tokens) else ""
        if nxt == "much" and not found:
            return "price"
        if nxt in {"long", "soon"}:
            return "delivery"
        if nxt in {"often", "to", "do", "should", "can"} and (nxt == "often" or not toks.isdisjoint(lx.HOWTO_VERBS)):
            return "howto"
    if "gimana" in toks and not toks.isdisjoint(lx.HOWTO_VERBS):
        return "howto"
    if "shipping" in found or "delivery" in found:
        costly = "ongkir" in toks or "ongkos" in toks
        timed = not toks.isdisjoint(lx.TIME_WORDS)
        if timed and not costly and not toks.isdisjoint(lx.SHIP_NOT_COST):
            return "delivery"
        if "shipping" in found and not (timed and "delivery" in found):
            return "shipping"
        if "delivery" in found and not costly:
            return "delivery"
    if "berapa" in toks and not found:
        return "general" if not toks.isdisjoint(lx.NOT_PRICE_BERAPA) else "price"
    if "ada" in toks and not found and not wh:
        return "stock"
    return found[0] if found else "general"


_EMPTY: frozenset[str] = frozenset()


def _questions(norm: NormText) -> list[Question]:
    out: list[Question] = []
    for clause in norm.clauses:
        toks = clause.tokset
        is_q, wh = _is_question(clause.tokens, toks, clause.asks)
        if not is_q:
            continue
        why = not toks.isdisjoint(lx.WHY_WORDS)
        topic = _topic_of(clause.tokens, toks, wh)
        # Content words only matter for untyped questions, answered by echoing them.
        content = frozenset({t for t in toks if len(t) > 2 and t not in lx.STOPWORDS}) if topic == "general" else _EMPTY
        out.append(Question(topic, wh or why, why, not toks.isdisjoint(lx.COST_WORDS), content))
    return out


def _merge(questions: list[Question]) -> tuple[Question, ...]:
    """One entry per topic; a bare "sama yang 50ml?" stays separate because it is a second item."""
    if len(questions) < 2:
        return tuple(questions)
    merged: list[Question] = []
    index: dict[str, int] = {}
    for q in questions:
        at = index.get(q.topic) if q.topic != "general" else None
        if at is not None:
            prev = merged[at]
            merged[at] = Question(
                q.topic, prev.wh or q.wh, prev.why or q.why, prev.cost or q.cost, prev.content | q.content
            )
            continue
        index[q.topic] = len(merged)
        merged.append(q)
    # A trailing "ok?" / "ya?" that only asks for confirmation is not a separate question.
    return tuple(q for q in merged if q.topic != "general" or q.content or q.wh or len(merged) == 1)


_THANKS_WORDS = frozenset({"makasih", "thanks", "kasih"})


def analyze_customer(messages: tuple[str, ...]) -> CustomerInfo:
    questions: list[Question] = []
    n_words = 0
    complaint = salam = closing = False
    last_norm: NormText | None = None
    last_qs: list[Question] = []
    seen: set[str] = set()
    for message in messages:
        if not message or message.isspace():
            continue
        norm = normalize(message)
        last_norm = norm
        last_qs = _questions(norm)
        questions.extend(last_qs)
        n_words += len(norm.tokens)
        seen.update(norm.tokens)
        if not complaint:
            complaint = not lx.COMPLAINT_WORDS.isdisjoint(norm.tokens)
        if not salam:
            salam = "assalamualaikum" in norm.tokens
    if last_norm is not None:
        toks = last_norm.tokens
        if not last_qs and 0 < len(toks) <= 6:
            lead = next((t for t in toks if t not in lx.HONORIFICS), "")
            closing = not _THANKS_WORDS.isdisjoint(toks) or lead in lx.CLOSING_OPENERS
        elif not toks and last_norm.emojis:
            closing = True
        if closing:
            # Earlier questions are settled once the customer closes the conversation.
            questions = []
    return CustomerInfo(
        messages=messages,
        questions=_merge(questions),
        closing=closing,
        complaint=complaint and bool(questions or n_words > 3),
        n_words=n_words,
        salam=salam,
        tokens=frozenset(seen),
    )


def analyze_reply(text: str) -> ReplyInfo:
    norm = normalize(text)
    toks = frozenset(norm.tokens)
    template = lx.TEMPLATE.search(norm.text, toks)
    answer: set[str] | frozenset[str] = toks
    if template:
        answer = set()
    leading: list[str] = []
    seq: list[str] = []
    for clause in norm.clauses:
        if template:
            if lx.TEMPLATE.search(" ".join(clause.tokens), clause.tokset):
                continue
            answer.update(clause.tokens)  # type: ignore[union-attr]
            seq.extend(clause.tokens)
        for t in clause.tokens:
            if t in lx.GREETINGS or t in lx.HONORIFICS:
                continue
            if t in lx.ANSWER_ACKS:
                leading.append(t)
            break
    honor = toks & lx.HONORIFICS
    emojis = norm.emojis
    friendly = cold = False
    for e in emojis:
        if e in lx.FRIENDLY_EMOJI or e in lx.FRIENDLY_EMOTICONS:
            friendly = True
        elif e in lx.COLD_EMOJI:
            cold = True
    text_n = norm.text
    thanks = not toks.isdisjoint(lx.THANKS_TOKENS) or "terima kasih" in text_n or "sama sama" in text_n
    lazy = bool(honor) and honor <= lx.LAZY_HONORIFICS
    greeting = not toks.isdisjoint(lx.GREETINGS)
    apology = not toks.isdisjoint(lx.APOLOGY)
    invitation = not toks.isdisjoint(lx.INVITATION)
    warmth = (bool(honor) and not lazy) + greeting + thanks + apology + invitation + friendly
    return ReplyInfo(
        norm=norm,
        tokens=toks,
        n_words=len(norm.tokens),
        honorific=bool(honor),
        lazy_honorific_only=lazy,
        greeting=greeting,
        thanks=thanks,
        apology=apology,
        invitation=invitation,
        softener=not toks.isdisjoint(lx.SOFTENERS),
        friendly_emoji=friendly,
        cold_emoji=cold,
        warmth_kinds=warmth,
        answer_tokens=frozenset(answer),
        content_count=len(answer.difference(lx.NON_CONTENT)),
        leading_acks=tuple(leading),
        template=template,
        answer_seq=tuple(seq) if template else norm.tokens,
    )


def has_price(tokens: frozenset[str]) -> bool:
    if not tokens.isdisjoint(lx.TOPIC_EVIDENCE["price"]):
        return True
    for t in tokens:
        if (t[0].isdigit() or t.startswith(("rp", "idr"))) and lx.PRICE_NUMBER_RE.match(t):
            if not t.isdigit() or (len(t) >= 4 and t[0] != "0"):
                return True
    return False


def has_digit(tokens: frozenset[str]) -> bool:
    return any(lx.DIGIT_RE.search(t) for t in tokens)


def has_plain_number(tokens: frozenset[str]) -> bool:
    """A number that is not an amount of money (days, hours, a tracking number)."""
    money_context = not tokens.isdisjoint(lx.MONEY_WORDS)
    for t in tokens:
        if not lx.DIGIT_RE.search(t) or lx.PRICE_MARKED_RE.match(t):
            continue
        if money_context and t.isdigit() and len(t) >= 4:
            continue
        return True
    return False
