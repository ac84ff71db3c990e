"""A database cursor that prepares its statements, for the few hot statements written by hand."""

from __future__ import annotations

import functools
from typing import Any

from django.db import connection


@functools.cache
def _prepared_cursor_class() -> type:
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparedCursor(ServerBindingCursor):  # type: ignore[misc, valid-type]
        """Parameters sent apart from the text, and the statement prepared on the connection.

        Parsing and planning the webhook's statement cost PostgreSQL about 0.5 ms per message, more
        than running it (EXPLAIN ANALYZE: planning 0.55 ms, execution 0.35 ms); prepared once per
        connection, each message only executes it. Django leaves psycopg's automatic preparing
        off, so it is asked for here.
        """

        def execute(
            self, query: Any, params: Any = None, *, prepare: bool | None = True, binary: bool | None = None
        ) -> Any:
            return super().execute(query, params, prepare=prepare, binary=binary)  # type: ignore[misc]

    return PreparedCursor


def prepared_cursor() -> Any:
    """Django's cursor wrapper (query logging, error wrapping) around a preparing psycopg cursor.

    PostgreSQL only: callers check `connection.vendor` first.
    """
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        # Django opens connections with preparing off (None refuses even prepare=True). Its own
        # cursors bind client-side and never prepare, so this enables it for this cursor alone.
        raw.prepare_threshold = 5
    with connection.wrap_database_errors:
        # _prepare_cursor is how Django wraps every cursor it creates (debug logging, thread checks).
        return connection._prepare_cursor(_prepared_cursor_class()(raw))  # type: ignore[attr-defined]
