"""`Authorization: Token <token>` for members (API) and for `api` channels (message push)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from inbox.http import TOKEN_KEYWORD, BalasRequest, authorization_token_parts
from inbox.models import Channel, Member
from inbox.throttling import client_address, token_failure_record, token_failures_wait
from inbox.tokens import token_hash


class ChannelPrincipal(AnonymousUser):
    """The caller holding an `api` channel's token: it may push to that channel, nothing else."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel

    @property
    def is_authenticated(self) -> bool:  # type: ignore[override]
        return True


class ApiTokenAuthentication(BaseAuthentication):
    keyword = TOKEN_KEYWORD

    def authenticate(self, request: Request) -> tuple[Any, Member | Channel] | None:
        parts = authorization_token_parts(request)
        if parts is None:
            return None
        address = client_address(request._request) or "unknown"
        # An address that sent too many wrong tokens is not even looked up until its window ends.
        wait = token_failures_wait(address=address)
        if wait:
            raise exceptions.Throttled(wait=wait, detail=f"Too many wrong tokens from this address; retry in {wait} s.")
        try:
            if len(parts) != 2:
                raise exceptions.AuthenticationFailed("Authorization must be 'Token <token>'.")
            try:
                token = parts[1].decode()
            except UnicodeDecodeError as exc:
                raise exceptions.AuthenticationFailed("The token has characters a token cannot have.") from exc
            user, principal = authenticate_token(token)
        except exceptions.AuthenticationFailed:
            token_failure_record(address=address)
            raise
        django_request = request._request
        if isinstance(django_request, BalasRequest):
            # The member MemberMiddleware would look up from this same header: spare it the query.
            django_request.member = principal if isinstance(principal, Member) else None
        return user, principal

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


def authenticate_token(token: str) -> tuple[Any, Member | Channel]:
    digest = token_hash(token)
    member = Member.objects.select_related("user", "shop").filter(token_hash=digest).first()
    if member is not None:
        if not member.user.is_active:
            raise exceptions.AuthenticationFailed("This member's login is disabled.")
        return member.user, member
    channel = Channel.objects.select_related("shop").filter(token_hash=digest, is_active=True).first()
    if channel is not None:
        return ChannelPrincipal(channel), channel
    raise exceptions.AuthenticationFailed("Invalid token.")
