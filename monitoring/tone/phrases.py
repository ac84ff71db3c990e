"""Phrase regexes with a word prefilter derived from the pattern itself.

The cold-phrase and template regexes are long alternations, and `re` tries every alternative at every
word boundary of the text: most of a judgement's regex time is spent proving that an ordinary reply
contains none of them. Every alternative, however, needs at least one whole word of its own ("salah",
"deskripsi", "terserah"). `trigger_words` reads those words out of the parsed pattern, so a text whose
tokens include none of them is answered without running the regex, and the answer is the same as the
regex's by construction: no word list is kept by hand beside the pattern to drift from it.

Texts searched here are canonical: tokens of `[a-z0-9]` joined by single spaces (`normalize`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence, Set

# `re._parser` is the stdlib's own parser (`sre_parse` before 3.11). It is read only here, once per
# pattern at import; anything it returns that this module does not understand means "no prefilter",
# never a wrong one.
from re import _parser as sre  # type: ignore[attr-defined]
from typing import Any, Final

_SPACE: Final = ord(" ")
_WORD_CHARS: Final = frozenset(map(ord, "abcdefghijklmnopqrstuvwxyz0123456789"))
_BOUNDARIES: Final = frozenset(
    {sre.AT_BOUNDARY, sre.AT_BEGINNING, sre.AT_END, sre.AT_BEGINNING_STRING, sre.AT_END_STRING}
)
# Words so frequent in replies that an alternative anchored on one of them would rarely be skipped: when
# an alternative offers another anchor, the other is taken.
_COMMON: Final = frozenset(
    "kak ya yang sudah tidak di ke ada aja saja kami saya itu ini iya oke dulu lagi dan untuk bisa mau kan "
    "you i the we".split()
)

_Item = tuple[Any, Any]


def _is_space(item: _Item) -> bool:
    return item[0] is sre.LITERAL and item[1] == _SPACE


def _is_boundary(item: _Item) -> bool:
    return item[0] is sre.AT and item[1] in _BOUNDARIES


def _alternatives(item: _Item) -> list[list[_Item]] | None:
    """The alternatives of a group or alternation, or None for anything else."""
    op, av = item
    if op is sre.BRANCH:
        return [list(alt) for alt in av[1]]
    if op is sre.SUBPATTERN:
        return [list(av[-1])]
    return None


def _ends_with_space(seq: Sequence[_Item]) -> bool:
    """Whether every text `seq` matches ends with a space ("(?:kami |saya )")."""
    if not seq:
        return False
    last = seq[-1]
    if _is_space(last):
        return True
    alts = _alternatives(last)
    return alts is not None and all(_ends_with_space(alt) for alt in alts)


def _starts_with_space(seq: Sequence[_Item]) -> bool:
    """Whether every text `seq` matches starts with a space ("(?: sendiri| saja)")."""
    if not seq:
        return False
    first = seq[0]
    if _is_space(first):
        return True
    alts = _alternatives(first)
    return alts is not None and all(_starts_with_space(alt) for alt in alts)


def _ends_at_boundary(seq: Sequence[_Item], i: int, edge: bool) -> bool:
    """Whether the text just before item `i` of `seq` is a word boundary (`edge`: before the sequence)."""
    if i == 0:
        return edge
    prev = seq[i - 1]
    if _is_boundary(prev) or _ends_with_space([prev]):
        return True
    if prev[0] is sre.MAX_REPEAT:
        lo, _hi, body = prev[1]
        if _ends_with_space(list(body)):
            return lo >= 1 or _ends_at_boundary(seq, i - 1, edge)
    return False


def _starts_at_boundary(seq: Sequence[_Item], j: int, edge: bool) -> bool:
    """Whether the text from item `j` of `seq` on starts at a word boundary (`edge`: after the sequence)."""
    if j == len(seq):
        return edge
    nxt = seq[j]
    if _is_boundary(nxt) or _starts_with_space([nxt]):
        return True
    if nxt[0] is sre.MAX_REPEAT:
        lo, _hi, body = nxt[1]
        if _starts_with_space(list(body)):
            return lo >= 1 or _starts_at_boundary(seq, j + 1, edge)
    return False


def _cost(words: frozenset[str]) -> tuple[int, int]:
    # Fewest common words, then fewest words, then (among uncommon ones) the longest shortest word:
    # long words are rarer. Ties keep the pattern's order.
    common = len(words & _COMMON)
    return (len(words) + 100 * common, 0 if common else -min(map(len, words)))


def _required(seq: Sequence[_Item], left: bool, right: bool) -> frozenset[str] | None:
    """Words one of which every match of `seq` contains as a whole token; None if none can be shown.

    `left`/`right`: whether the sequence is known to start/end at a word boundary.
    """
    candidates: list[frozenset[str]] = []
    i = 0
    while i < len(seq):
        op, av = seq[i]
        if op is sre.LITERAL and av in _WORD_CHARS:
            j = i
            while j < len(seq) and seq[j][0] is sre.LITERAL and seq[j][1] in _WORD_CHARS:
                j += 1
            if _ends_at_boundary(seq, i, left) and _starts_at_boundary(seq, j, right):
                candidates.append(frozenset({"".join(chr(c) for _, c in seq[i:j])}))
            i = j
            continue
        alts = _alternatives(seq[i])
        if alts is not None:
            inner_left = _ends_at_boundary(seq, i, left)
            inner_right = _starts_at_boundary(seq, i + 1, right)
            words: set[str] = set()
            for alt in alts:
                got = _required(alt, inner_left, inner_right)
                if got is None:
                    break
                words |= got
            else:
                candidates.append(frozenset(words))
        i += 1
    return min(candidates, key=_cost) if candidates else None


def trigger_words(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Words one of which every match of `pattern` contains as a token, or None if that cannot be shown."""
    try:
        parsed = list(sre.parse(pattern.pattern, pattern.flags))
    except Exception:  # noqa: BLE001 - an unreadable pattern only loses its prefilter
        return None
    if pattern.flags & re.IGNORECASE:
        return None
    return _required(parsed, False, False)


class Phrases:
    """A compiled phrase regex that skips texts containing none of its trigger words."""

    __slots__ = ("regex", "triggers")

    def __init__(self, pattern: str) -> None:
        self.regex: Final = re.compile(pattern)
        self.triggers: Final = trigger_words(self.regex)

    def search(self, text: str, tokens: Set[str] | None = None) -> bool:
        """Whether `text` contains a phrase. `tokens`: the text's tokens, when the caller has them."""
        triggers = self.triggers
        if triggers is not None:
            if tokens is None:
                tokens = frozenset(text.split())
            if triggers.isdisjoint(tokens):
                return False
        return self.regex.search(text) is not None


def triggers_of(phrases: Iterable[Phrases]) -> frozenset[str] | None:
    """Words one of which a text needs for any of `phrases` to match; None if one of them has none."""
    words: set[str] = set()
    for p in phrases:
        if p.triggers is None:
            return None
        words |= p.triggers
    return frozenset(words)


class PhraseGroup:
    """Several phrase regexes asked together: one set test answers for all of them on most texts."""

    __slots__ = ("phrases", "triggers")

    def __init__(self, *phrases: Phrases) -> None:
        self.phrases: Final = phrases
        self.triggers: Final = triggers_of(phrases)

    def could_match(self, tokens: Set[str]) -> bool:
        return self.triggers is None or not self.triggers.isdisjoint(tokens)

    def search(self, text: str, tokens: Set[str]) -> bool:
        """Whether any of the phrases is in `text` (canonical, with its `tokens`)."""
        if not self.could_match(tokens):
            return False
        return any(p.search(text, tokens) for p in self.phrases)
