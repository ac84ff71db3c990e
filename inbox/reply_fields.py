"""Fields in a reply's text: `[[label]]` marks what a suggestion could not fill (a price, a date).

A suggestion may carry fields; a reply may not. The reply box moves the cursor from field to field
and keeps Kirim disabled while one is left, and `reply_send` refuses such text, so a half-written
suggestion never reaches a customer. The syntax is doubled brackets because shop replies do use
single ones ("[PROMO] diskon 10%").
"""

from __future__ import annotations

import re
from typing import Final

FIELD_RE: Final = re.compile(r"\[\[([^\[\]\n]{1,80})\]\]")


def field_mark(label: str) -> str:
    """The field for `label` as it stands in a suggestion."""
    return f"[[{label}]]"


def fields_unfilled(text: str) -> list[str]:
    """Every field still in `text`, as written (`[[harga]]`), in order."""
    return [m.group(0) for m in FIELD_RE.finditer(text)]
