"""Text normalization: lower case, emoji extraction, slang and repeated letters, clause splitting.

The output is canonical tokens so every later rule matches one spelling ("iyaaa", "iy", "iyh" -> "iya";
"brp" -> "berapa"; "ga", "gak", "nggak" -> "tidak"). Token canonicalization is memoized in a bounded dict
because chat vocabulary is small and repetitive; this is what keeps the judge fast.
"""

from __future__ import annotations

import re
from itertools import chain
from typing import Final, NamedTuple

from monitoring.tone.lexicon import SLANG, VOCAB

# Emoji: pictographs, dingbats, symbols; variation selectors, joiners and skin tones are dropped below.
_PICTOGRAPH: Final = (
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff\u3030\u303d\u3297\u3299\u2190-\u21ff]"
)
_EMOJI_RE: Final = re.compile(_PICTOGRAPH + r"|(?<![\w:/])(?:[:;=]-?[)(dp3]|<3)(?![\w])")
# Without ":", ";", "=" or "<3" no emoticon can match, and the emoticon branch's look-behind at every
# position costs most of the scan: such texts take the pictographs alone.
_PICTOGRAPH_RE: Final = re.compile(_PICTOGRAPH)
_EMOJI_MODIFIERS: Final = frozenset("\ufe0f\u200d") | frozenset(chr(c) for c in range(0x1F3FB, 0x1F400))
_NUMBER_SEPARATOR_RE: Final = re.compile(r"(?<=\d)[.,](?=\d)")
_SEPARATOR_BEFORE_DIGIT_RE: Final = re.compile(r"[.,](?=\d)")  # cheaper to rule out than to substitute
_APOSTROPHE_RE: Final = re.compile(r"['’`]")
_AMPERSAND_RE: Final = re.compile(r"\bj\s*&\s*t\b")
_TOKEN_RE: Final = re.compile(r"[a-z0-9]+")
_TRIPLE_RE: Final = re.compile(r"([a-z])\1{2,}")
_DOUBLE_RE: Final = re.compile(r"([a-z])\1+")
_LAUGH_RE: Final = re.compile(r"^(?:(?:wk)+w?|(?:ha)+h?|(?:he)+h?|(?:hi)+h?|(?:xi)+)$")
_REDUP_RE: Final = re.compile(r"^([a-z]{2,})2$")

_CACHE: dict[str, tuple[str, ...]] = {}
_CACHE_LIMIT: Final = 50_000


def _lookup(word: str) -> tuple[str, ...] | None:
    hit = SLANG.get(word)
    if hit is not None:
        return hit
    if word in VOCAB:
        return (word,)
    if len(word) > 5 and word.endswith("nya"):
        stem = word[:-3]
        hit = SLANG.get(stem)
        if hit is not None:
            return hit
        if stem in VOCAB:
            return (stem,)
    if len(word) > 5 and word.endswith(("kah", "lah")) and word[:-3] in VOCAB:
        return (word[:-3],)
    return None


def _canon_uncached(token: str) -> tuple[str, ...]:
    if token.isdigit():
        return (token,)
    redup = _REDUP_RE.match(token)
    if redup is not None:
        hit = SLANG.get(token)
        if hit is not None:
            return hit
        base = canon(redup.group(1))
        return base + base
    if _LAUGH_RE.match(token) and len(token) >= 4:
        return ("hehe",)
    hit = _lookup(token)
    if hit is not None:
        return hit
    squeezed = _TRIPLE_RE.sub(r"\1\1", token)
    if squeezed != token:
        hit = _lookup(squeezed)
        if hit is not None:
            return hit
    single = _DOUBLE_RE.sub(r"\1", squeezed)
    if single != squeezed:
        hit = _lookup(single)
        if hit is not None:
            return hit
        if _LAUGH_RE.match(single) and len(single) >= 4:
            return ("hehe",)
    return (squeezed,)


def canon(token: str) -> tuple[str, ...]:
    """Canonical form(s) of one lower-case token ("iyaaa" -> ("iya",), "gatau" -> ("tidak", "tahu"))."""
    hit = _CACHE.get(token)
    if hit is None:
        hit = _canon_uncached(token)
        # `normalize` takes any cache hit for a word, so nothing else may be cached (a stray "." would
        # stop ending clauses).
        if token.isascii() and token.isalnum():
            if len(_CACHE) >= _CACHE_LIMIT:
                _CACHE.clear()
            _CACHE[token] = hit
    return hit


class Clause(NamedTuple):
    tokens: tuple[str, ...]
    asks: bool  # ended with a question mark
    tokset: frozenset[str]


class NormText(NamedTuple):
    clauses: tuple[Clause, ...]
    tokens: tuple[str, ...]
    emojis: tuple[str, ...]
    text: str  # canonical tokens joined by single spaces


# One pass over the text yields both words and the punctuation that ends a clause.
_SCAN_RE: Final = re.compile(r"[a-z0-9]+|[.!?\n;,:()]+")
_DELIMS: Final = frozenset(".!?\n;,:()")


def tokens_of(text: str) -> list[str]:
    out: list[str] = []
    cache = _CACHE
    for raw in _TOKEN_RE.findall(text):
        hit = cache.get(raw)
        out.extend(hit if hit is not None else canon(raw))
    return out


def normalize(text: str) -> NormText:
    """Split `text` into canonical tokens, clauses and emoji."""
    lowered = text.lower()
    emojis: list[str] = []
    emoticons = ":" in lowered or ";" in lowered or "<3" in lowered or "=" in lowered
    if emoticons or not lowered.isascii():

        def _swap(m: re.Match[str]) -> str:
            e = m.group(0)
            if e not in _EMOJI_MODIFIERS:
                emojis.append(e)
            # An emoji ends a sentence as surely as a full stop does ("Halo kak 😊 Iya, ...").
            return "."

        lowered = (_EMOJI_RE if emoticons else _PICTOGRAPH_RE).sub(_swap, lowered)
    if ("." in lowered or "," in lowered) and _SEPARATOR_BEFORE_DIGIT_RE.search(lowered):
        lowered = _NUMBER_SEPARATOR_RE.sub("", lowered)
    if "'" in lowered or "’" in lowered or "`" in lowered:
        lowered = _APOSTROPHE_RE.sub("", lowered)
    if "&" in lowered:
        lowered = _AMPERSAND_RE.sub("jnt", lowered)
    clauses: list[Clause] = []
    current: list[str] = []
    cached = _CACHE.get
    for piece in _SCAN_RE.findall(lowered):
        # Only words are ever cached, so a hit is a word; a miss is a delimiter or a new word.
        hit = cached(piece)
        if hit is None:
            if piece[0] not in _DELIMS:
                current += canon(piece)
                continue
            if current:
                tup = tuple(current)
                clauses.append(Clause(tup, "?" in piece, frozenset(tup)))
                current = []
            elif "?" in piece and clauses and not clauses[-1].asks:
                # "halo??" split from its word: the question mark belongs to the previous clause.
                last = clauses[-1]
                clauses[-1] = Clause(last.tokens, True, last.tokset)
            continue
        current += hit
    if current:
        tup = tuple(current)
        clauses.append(Clause(tup, False, frozenset(tup)))
    tokens = clauses[0].tokens if len(clauses) == 1 else tuple(chain.from_iterable([c.tokens for c in clauses]))
    return NormText(tuple(clauses), tokens, tuple(emojis), " ".join(tokens))
