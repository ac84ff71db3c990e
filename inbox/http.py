"""The request every Balas view gets, typed: who the member is (`member`) and htmx's details (`htmx`).

`inbox.middleware.MemberMiddleware` makes each request a `BalasRequest`; views annotate their
request with it (or with `MemberRequest` behind `member_required`, where the member is known).
"""

from __future__ import annotations

from functools import cached_property

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from inbox.models import Member
from inbox.selectors import member_for_token, member_for_user

TOKEN_KEYWORD = "Token"


def authorization_token_parts(request: HttpRequest) -> list[bytes] | None:
    """The words of an `Authorization: Token ...` header (the keyword first); None without one.

    The header is read as DRF reads it (latin-1 bytes, split on whitespace), so the member found
    here is the one DRF's ApiTokenAuthentication authenticates.
    """
    raw = request.META.get("HTTP_AUTHORIZATION", b"")
    header = raw.encode("iso-8859-1") if isinstance(raw, str) else raw
    parts = header.split()
    if not parts or parts[0].lower() != TOKEN_KEYWORD.lower().encode():
        return None
    return parts


def member_for_request(request: HttpRequest) -> Member | None:
    """The member behind a request: a member's token in `Authorization: Token`, else the session's user.

    The order DRF's authentication classes take: a request that names a token is that token's
    (a channel token, a disabled member's or a malformed one: no member), never the session's.
    """
    parts = authorization_token_parts(request)
    if parts is not None:
        if len(parts) != 2:
            return None
        try:
            token = parts[1].decode()
        except UnicodeDecodeError:
            return None
        return member_for_token(token=token)
    return member_for_user(user=getattr(request, "user", None))


class BalasRequest(HttpRequest):
    """A request past MemberMiddleware (and django-htmx's HtmxMiddleware).

    `member` is looked up on first read and kept for the request: a webhook or a static file
    never reads it and pays no query.
    """

    htmx: HtmxDetails

    @cached_property
    def member(self) -> Member | None:
        return member_for_request(self)


class MemberRequest(BalasRequest):
    """What a view behind `member_required` gets: the member is known. A type only, never built."""

    member: Member
