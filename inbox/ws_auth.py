"""WebSocket authentication: the browser session, or `?token=<member api token>`."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async

from inbox.auth import member_for_token


@database_sync_to_async
def _member_from_token(token: str) -> Any:
    member = member_for_token(token)
    return member.user if member is not None else None


class _QueryTokenMiddleware:
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        token = parse_qs(scope.get("query_string", b"").decode()).get("token", [""])[0]
        if token:
            user = await _member_from_token(token)
            if user is not None:
                scope = {**scope, "user": user}
        return await self.inner(scope, receive, send)


def TokenOrSessionAuthMiddleware(inner: Any) -> Any:  # noqa: N802 - reads like the channels stacks
    return AuthMiddlewareStack(_QueryTokenMiddleware(inner))
