"""A stored reason, shown in the reader's language.

Reasons are stored as the judge worded them (in Indonesian, as the workers judge), and a reader of
the dashboard, the API or an e-mail may read English. Every reason comes from one of
`explain`'s templates, so a stored text is matched back to its template and its values (the
acknowledgement quoted, the number of parts, the topic) and worded again in the other language.
Built from explain's own tables: a reason added there is covered here without a change. A text no
template matches (an older wording) is shown as stored.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

from monitoring.tone.explain import _FIXED, _PARTS, _TEXT, TOPIC_NAMES, reason

_LANGUAGES: Final = tuple(_TEXT)


@lru_cache(maxsize=1)
def _fixed_index() -> dict[str, str]:
    """Each fixed wording, in any language -> its code."""
    return {text: code for language in _LANGUAGES for code, text in _FIXED[language].items()}


@lru_cache(maxsize=1)
def _patterns() -> list[tuple[re.Pattern[str], str, str]]:
    """(pattern, code, language) for every template with a value in it."""
    out: list[tuple[re.Pattern[str], str, str]] = []
    for language in _LANGUAGES:
        for code in ("bare_ack_multi", "bare_ack"):
            template = _TEXT[language][code]
            pattern = re.escape(template).replace(re.escape("{ack}"), "(?P<ack>.*)")
            pattern = pattern.replace(re.escape("{parts}"), r"(?P<parts>\S+)")
            out.append((re.compile(f"^{pattern}$", re.DOTALL), code, language))
    return out


def reason_in(text: str, language: str) -> str:
    """`text`, a reason the judge wrote in any language, worded in `language`."""
    if language not in _TEXT:
        return text
    code = _fixed_index().get(text)
    if code is not None:
        return _FIXED[language].get(code, text)
    for pattern, code, source in _patterns():
        m = pattern.match(text)
        if m is None:
            continue
        ack = m.group("ack")
        if code == "bare_ack_multi":
            words = {word: n for n, word in _PARTS[source].items()}
            raw = m.group("parts")
            parts = words.get(raw) or (int(raw) if raw.isdigit() else 2)
            return reason("bare_ack", language, ack=ack, parts=parts)
        return reason("bare_ack", language, ack=ack)
    return text


def reasons_in(reasons: object, language: str) -> list[str]:
    """A stored list of reasons (or one reason), each worded in `language`."""
    if not reasons:
        return []
    items = reasons if isinstance(reasons, list | tuple) else [reasons]
    return [reason_in(str(r), language) for r in items]


__all__ = ["TOPIC_NAMES", "reason_in", "reasons_in"]
