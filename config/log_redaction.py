"""A logging filter that blanks query-string values in log lines (API tokens, verify tokens).

uvicorn logs every WebSocket handshake on its main logger, `uvicorn.error`, as
`<client> - "WebSocket /ws/inbox/?token=<api token>" [accepted]`, so `--no-access-log` is not
enough; the access log prints webhook handshakes' `hub.verify_token` the same way. The filter
goes on the handlers of the ws command's log config (config/uvicorn-log.json), so it holds for
every logger those handlers print, whatever Django configures later.
"""

from __future__ import annotations

import logging
import re

# A query string inside a logged path: from "?" to the next space or quote.
_QUERY = re.compile(r"\?[^\s\"']*")
_VALUE = re.compile(r"=[^&;#]*")

REDACTED = "[redacted]"


def redact_query_values(text: str) -> str:
    """`/ws/inbox/?token=abc&x=1` → `/ws/inbox/?token=[redacted]&x=[redacted]`; names stay."""
    if "?" not in text:
        return text
    return _QUERY.sub(lambda match: _VALUE.sub("=" + REDACTED, match.group(0)), text)


class QueryStringRedactor(logging.Filter):
    """Rewrites the record's message and string arguments; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_query_values(record.msg)
        args = record.args
        if isinstance(args, tuple):
            record.args = tuple(redact_query_values(a) if isinstance(a, str) else a for a in args)
        elif isinstance(args, dict):
            record.args = {k: redact_query_values(v) if isinstance(v, str) else v for k, v in args.items()}
        return True
