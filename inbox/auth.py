"""`Authorization: Token <token>` for members (API) and for `api` channels (message push)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from inbox.models import Channel, Member
from inbox.tokens import token_hash


class ChannelPrincipal(AnonymousUser):
    """The caller holding an `api` channel's token: it may push to that channel, nothing else."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel

    @property
    def is_authenticated(self) -> bool:  # type: ignore[override]
        return True


class ApiTokenAuthentication(BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request: Request) -> tuple[Any, Member | Channel] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Authorization must be 'Token <token>'.")
        try:
            token = parts[1].decode()
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("The token has characters a token cannot have.") from exc
        return authenticate_token(token)

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


def member_for_token(token: str) -> Member | None:
    return (
        Member.objects.select_related("user", "shop").filter(token_hash=token_hash(token), user__is_active=True).first()
    )
