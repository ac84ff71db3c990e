"""WebSocket authentication: `scope["member"]` from `?token=<member api token>` or the browser session.

The Origin check guards the session: a page on another site could open a socket with the
member's cookies, and its browser always sends that page's Origin. A client without an Origin
header is not a browser (a server following the contract's `?token=`): it is let through the
origin check, and only its token counts, never a cookie it sends.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.security.websocket import AllowedHostsOriginValidator

from inbox.models import Member
from inbox.selectors import member_for_token, member_for_user
from inbox.throttling import token_failure_record, token_failures_wait


@database_sync_to_async
def _scope_member(token: str, user: Any, address: str) -> Member | None:
    member = None
    if token:
        # The same wrong-token count as the API's: a limited address's tokens are not looked up.
        if token_failures_wait(address=address):
            return None
        member = member_for_token(token=token)
        if member is None:
            token_failure_record(address=address)
    # A token that names no active member leaves the session to decide, as it always has here.
    return member if member is not None else member_for_user(user=user)


def _scope_address(scope: dict[str, Any]) -> str:
    # uvicorn has applied BALAS_TRUSTED_PROXIES (--forwarded-allow-ips) to the client already.
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class MemberScopeMiddleware:
    """Sets `scope["member"]`: the member of the query's token, else of the session's user, else None.

    The consumer decides in `connect` (and refuses None); nothing here refuses a socket.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        token = parse_qs(scope.get("query_string", b"").decode()).get("token", [""])[0]
        # Without an Origin the cookies were not checked against a page: the session does not count.
        user = None if scope.get("origin_absent") else scope.get("user")
        member = await _scope_member(token, user, _scope_address(scope))
        return await self.inner({**scope, "member": member}, receive, send)


def TokenOrSessionAuthMiddleware(inner: Any) -> Any:  # noqa: N802 - reads like the channels stacks
    return AuthMiddlewareStack(MemberScopeMiddleware(inner))


def _has_origin(scope: dict[str, Any]) -> bool:
    return any(name == b"origin" for name, _ in scope.get("headers", ()))


class OriginCheckedWhenPresent:
    """Channels' AllowedHostsOriginValidator for sockets that send an Origin; the rest go on marked
    `scope["origin_absent"]`, which MemberScopeMiddleware reads to ignore their session."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if _has_origin(scope):
            # Built per socket (cheap) so it reads ALLOWED_HOSTS as it is now, not at import.
            return await AllowedHostsOriginValidator(self.inner)(scope, receive, send)
        return await self.inner({**scope, "origin_absent": True}, receive, send)
