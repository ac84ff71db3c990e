"""Who may call what: members (token or browser session), owners, and `api` channel tokens."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from inbox.http import BalasRequest
from inbox.models import Channel, Member


def request_member(request: Request) -> Member | None:
    """`request.member` of an API request (DRF's Request reads it from the Django request it wraps)."""
    django_request = request._request
    if not isinstance(django_request, BalasRequest):
        # Without MemberMiddleware every API call would quietly be refused as "no member".
        raise ImproperlyConfigured("inbox.middleware.MemberMiddleware is not in MIDDLEWARE")
    return django_request.member


def calling_member(request: Request) -> Member:
    """The member behind a request that IsShopMember (or IsShopOwner) already let in."""
    member = request_member(request)
    if member is None:  # the permission classes refused already; this keeps the type honest
        raise PermissionDenied()
    return member


class IsShopMember(BasePermission):
    """A member's API token, or a logged-in browser session of a member."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return request_member(request) is not None


class IsShopOwner(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        member = request_member(request)
        return member is not None and member.role == Member.Role.OWNER


class IsChannelToken(BasePermission):
    """The token of an `api` channel: it may push messages to that channel only."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, Channel)
