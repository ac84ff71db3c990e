"""The phrase prefilter: trigger words read out of a regex must be in every text the regex matches.

If they were not, the judge would silently miss a cold or template phrase. Each lexicon regex is checked
against texts generated from its own parsed pattern (every branch, optional part and repeat taken at
random), so a trigger word that some match can do without fails here.
"""

from __future__ import annotations

import random
import re
from re import _parser as sre  # type: ignore[attr-defined]
from typing import Any

import pytest

from monitoring.tone import lexicon as lx
from monitoring.tone.evaluate import load
from monitoring.tone.normalize import normalize
from monitoring.tone.phrases import PhraseGroup, Phrases, trigger_words

PHRASES = {
    name: getattr(lx, name) for name in ("BLAME", "LECTURE", "DISMISS", "DEFER", "TEMPLATE", "PATIENCE", "DONT_KNOW")
}
_FILLER = "kak ya iya ready harga ongkir berapa stok ada warna hitam 45000 besok sudah".split()


def _generate(items: Any, rng: random.Random, out: list[str]) -> None:
    """Append to `out` one random text the parsed `items` match (boundaries are left to the caller)."""
    for op, av in items:
        if op is sre.LITERAL:
            out.append(chr(av))
        elif op is sre.BRANCH:
            _generate(rng.choice(av[1]), rng, out)
        elif op is sre.SUBPATTERN:
            _generate(av[-1], rng, out)
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            lo, hi, body = av
            for _ in range(rng.randint(lo, min(hi, lo + 3))):
                _generate(body, rng, out)
        elif op is sre.IN:
            # Only `\w` classes appear in the lexicon's phrases; a word character stands for them.
            out.append(rng.choice("abcdefghijklmnopqrstuvwxyz"))
        elif op is sre.AT:
            continue
        else:
            raise AssertionError(f"the generator does not know {op}")


def _examples(phrases: Phrases, n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    parsed = sre.parse(phrases.regex.pattern)
    found: list[str] = []
    for _ in range(n):
        out: list[str] = []
        _generate(parsed, rng, out)
        phrase = "".join(out)
        before = " ".join(rng.choices(_FILLER, k=rng.randint(0, 3)))
        after = " ".join(rng.choices(_FILLER, k=rng.randint(0, 3)))
        text = " ".join(part for part in (before, phrase, after) if part)
        if phrases.regex.search(text):  # a generated `\w` next to a `\b` can spoil a few
            found.append(text)
    return found


@pytest.mark.parametrize("name", sorted(PHRASES))
def test_every_lexicon_phrase_regex_has_trigger_words(name: str) -> None:
    # An alternative with no whole word of its own would turn the prefilter off for the whole regex.
    assert PHRASES[name].triggers, f"{name}: an alternative has no whole word; spell it out (see phrases.py)"


@pytest.mark.parametrize("name", sorted(PHRASES))
def test_every_generated_match_contains_a_trigger_word(name: str) -> None:
    phrases = PHRASES[name]
    examples = _examples(phrases, 4000, seed=len(name))
    assert len(examples) > 3000
    for text in examples:
        tokens = frozenset(text.split())
        assert not phrases.triggers.isdisjoint(tokens), f"{name} matches {text!r} with none of its trigger words"
        assert phrases.search(text, tokens)


def test_prefiltered_search_agrees_with_the_regex_on_the_dev_set() -> None:
    texts = [normalize(t).text for row in load() for t in (*row["customer"], row["reply"])]
    for name, phrases in PHRASES.items():
        for text in texts:
            assert phrases.search(text) == bool(phrases.regex.search(text)), (name, text)
    group = PhraseGroup(lx.BLAME, lx.LECTURE)
    for text in texts:
        tokens = frozenset(text.split())
        assert group.search(text, tokens) == bool(lx.BLAME.regex.search(text) or lx.LECTURE.regex.search(text))


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"\b(?:salah (?:kak|kamu))\b", {"salah"}),
        (r"\b(?:kak|kamu) salah\b", {"salah"}),
        # The words after an optional group ending in a space start a word whichever way it goes.
        (r"\bada yang bisa (?:kami |saya )?(?:bantu|dibantu)\b", {"bantu", "dibantu"}),
        (r"\bterserah\b|\bwhatever\b", {"terserah", "whatever"}),
        # Every alternative must give a word, or none is required.
        (r"\bterserah\b|\bauto ?reply\b", None),
        # A word with an optional prefix or an open suffix is not a whole literal word.
        (r"\b(?:di)?bilang\b", None),
        (r"\bpenyimpanan\w*\b", None),
        (r"\bpenyimpanan\w* salah\b", {"salah"}),
        # Without a boundary a literal may be part of a longer token.
        (r"salah", None),
        (r"(?i)\bsalah\b", None),
        (r"\bsebelum order(?: ya)?$", {"sebelum"}),
    ],
)
def test_trigger_words_of_small_patterns(pattern: str, expected: set[str] | None) -> None:
    got = trigger_words(re.compile(pattern))
    assert (set(got) if got is not None else None) == expected


def test_a_text_without_trigger_words_is_not_searched() -> None:
    phrases = Phrases(r"\bsalah (?:kak|kamu)\b")
    # A regex that would match is never asked when the tokens say it cannot: proof the filter is in use.
    assert not phrases.search("salah kak", frozenset({"benar"}))
    assert phrases.search("salah kak", frozenset({"salah", "kak"}))
    assert phrases.search("itu salah kamu")
