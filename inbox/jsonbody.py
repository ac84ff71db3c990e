"""The one JSON decoder for request bodies: webhooks, the DRF API, JSON nested inside a payload.

Two things Python's `json` accepts or trips over that PostgreSQL and the rest of Balas cannot take:

- `NaN`, `Infinity`, `-Infinity`: not JSON (RFC 8259), yet Python's decoder reads them as floats
  and PostgreSQL's jsonb refuses them, so a signed webhook holding one was a 500, and platforms
  retry a 5xx for days. A platform's body is decoded with them as `null` (the delivery is stored,
  answered 200 and the count recorded); a member's body is refused with a 400 naming the token.
- Deep nesting: the decoder recurses (a RecursionError, a 500) and so does everything that walks
  the value afterwards. Bodies nested deeper than `settings.BALAS_JSON_MAX_DEPTH` are refused
  with a 400 naming the limit.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any, Literal

from django.conf import settings

NonFinite = Literal["null", "reject"]


class JsonBodyError(ValueError):
    """The text is not JSON Balas accepts; the message says what is wrong, to follow "body is"."""


@dataclass(frozen=True)
class JsonBody:
    value: Any
    # How many NaN / Infinity / -Infinity were read as null (0 with nonfinite="reject").
    nonfinite_replaced: int = 0


def json_max_depth() -> int:
    return int(getattr(settings, "BALAS_JSON_MAX_DEPTH", 64))


class _Counts(threading.local):
    replaced = 0


_counts = _Counts()


def _as_null(name: str) -> None:
    _counts.replaced += 1
    return None


def _refuse(name: str) -> None:
    raise JsonBodyError(f"{name} is not a JSON number (RFC 8259); send null or a finite number")


# Built once: json.loads() with parse_constant builds (and compiles) a new decoder every call,
# which cost more than the rest of this function on a webhook-sized body.
_DECODERS = {"null": json.JSONDecoder(parse_constant=_as_null), "reject": json.JSONDecoder(parse_constant=_refuse)}


def json_body_parse(text: str, *, nonfinite: NonFinite) -> JsonBody:
    """Decode `text`; JsonBodyError (a ValueError) for anything that is not acceptable JSON."""
    limit = json_max_depth()
    # decode() runs without awaiting, so a per-thread count is this call's count.
    _counts.replaced = 0
    try:
        value = _DECODERS[nonfinite].decode(text)
    except JsonBodyError:
        raise
    except RecursionError:
        raise JsonBodyError(f"nested deeper than the limit of {limit} levels") from None
    except ValueError as exc:  # JSONDecodeError, or an integer longer than Python converts
        raise JsonBodyError(f"not valid JSON: {exc}") from None
    # Nesting needs an opening bracket per level: fewer brackets than the limit cannot be too deep,
    # and counting them (in C) spares the walk for nearly every body.
    if text.count("[") + text.count("{") > limit and json_depth(value, stop_above=limit) > limit:
        raise JsonBodyError(f"nested deeper than the limit of {limit} levels")
    return JsonBody(value=value, nonfinite_replaced=_counts.replaced)


def json_depth(value: Any, *, stop_above: int) -> int:
    """How deep arrays and objects nest in `value` (a scalar is 0), counted without recursion.

    Stops counting once past `stop_above`: the caller only needs to know it is too deep.
    """
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        level += 1
        if level > deepest:
            deepest = level
            if deepest > stop_above:
                return deepest
        stack.extend((child, level) for child in children if isinstance(child, dict | list))
    return deepest
