"""The API's error answers that DRF does not give by itself: a JSON 404 for unmatched API paths, and 422.

A 404 for an API path that no route matches, in the API's own shape:
`/api/v1/conversations/abc/` matches no URL pattern (the id is `<int:pk>`), so Django answers it
before DRF sees it, with its HTML page; the schema promises API clients `{"detail": ...}` as JSON.
Pages keep Django's own 404.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import page_not_found
from drf_spectacular.utils import OpenApiResponse
from rest_framework.exceptions import APIException

from inbox.api.schema_components import VALIDATION_ERROR

API_PREFIX = "/api/"


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)


class RuleRefused(APIException):
    """422: the request matches the schema, and a rule the schema cannot state refuses it.

    400 means the request does not match the OpenAPI document (a wrong type, a missing field, a
    value outside an enum or a bound); the serializers find those. 422 means it does, and a rule
    of the services refuses it: one field against another (a platform's required secrets, `since`
    after `until`), the shop's stored state (an account already connected, another shop's
    member or channel), or a rule no JSON Schema keyword expresses (overlapping business hours).
    Both name the fields: `{<field>: [<what is wrong>]}` (the `ValidationError` component).
    """

    status_code = 422
    default_detail = "A rule refuses this request."
    default_code = "rule"


def rule_errors(exc: DjangoValidationError) -> RuleRefused:
    """A service's ValidationError as the API's 422."""
    return RuleRefused(exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages})


# How an operation that can answer RuleRefused documents it.
RULE_REFUSED = OpenApiResponse(
    {"$ref": VALIDATION_ERROR}, description="Valid by the schema, refused by a rule: `{<field>: [<why>]}`"
)
