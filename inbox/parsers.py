"""DRF's JSON parser with Balas' decoder (inbox.jsonbody): a depth limit, no NaN / Infinity."""

from __future__ import annotations

from typing import IO, Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from inbox.jsonbody import JsonBodyError, json_body_parse


class BoundedJSONParser(JSONParser):
    """400 naming the problem for deep nesting (was a RecursionError, a 500) and non-finite numbers."""

    def parse(self, stream: IO[bytes] | None, media_type: str | None = None, parser_context: Any = None) -> Any:
        encoding = (parser_context or {}).get("encoding") or "utf-8"
        raw = stream.read() if stream is not None else b""
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError(f"JSON parse error - body is not {encoding}: {exc}") from None
        try:
            return json_body_parse(text, nonfinite="reject").value
        except JsonBodyError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
