"""The schema generator: the error answers every operation can give, and PATCH bodies that must not be empty.

Every operation's error answers are derived here from what the operation is, so an endpoint added
later is documented the same way without anyone remembering to: 400 when it takes a body or query
parameters, 401 and 403 when it needs a token, 404 when its path names an object, 415 when it takes
a body, 429 always (throttled). Their bodies are two shared components, `ErrorDetail` (DRF's
`{"detail": ...}`) and `ValidationError` (`{<field>: [<what is wrong>], ...}`), in
inbox/api/schema_components.py. A view's own `@extend_schema(responses=...)` entry for a code wins.
tests/inbox/api/test_schema_conformance.py holds the server to the document with schemathesis.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import force_instance
from rest_framework import serializers
from rest_framework.mixins import DestroyModelMixin
from rest_framework.permissions import AllowAny

from inbox.api.fields import AtLeastOneFieldSerializer
from inbox.api.schema_components import ERROR_DETAIL, VALIDATION_ERROR

_BODY_METHODS = ("POST", "PUT", "PATCH")
# DELETE takes a body only where the view names one (`extend_schema(request=...)`): removing a Web
# Push subscription names it by its endpoint, a URL too long and too odd for the path.
# Any text without the NUL character.
NO_NUL = "^[^\\x00]*$"


class BalasAutoSchema(AutoSchema):
    def _get_request_body(self, direction: Any = "request") -> Any:
        if self.method == "DELETE" and self._names_delete_body():
            # drf-spectacular documents bodies of POST, PUT and PATCH only: document this one as POST's.
            self.method = "POST"
            try:
                body = super()._get_request_body(direction)
            finally:
                self.method = "DELETE"
        else:
            body = super()._get_request_body(direction)
        # A body that must change something cannot be left out either (a PATCH without a body is a 400),
        # nor one whose constraints require some field.
        if body is None:
            return None  # (asking an APIView without a body for its serializer only makes drf-spectacular warn)
        serializer = force_instance(self.get_request_serializer())
        if isinstance(serializer, AtLeastOneFieldSerializer) or getattr(serializer, "schema_constraints", None):
            body["required"] = True
        return body

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        for code, description, ref in self._error_responses():
            responses.setdefault(code, {"description": description, "content": _json(ref)})
        return responses

    def _insert_field_validators(self, field: Any, schema: dict[str, Any]) -> None:
        super()._insert_field_validators(field, schema)
        # DRF's CharField refuses the NUL character (PostgreSQL text cannot hold it): the schema says so.
        # Added after drf-spectacular's own validators: it wraps a blank-allowing field that has a
        # pattern in oneOf [pattern, empty], and "" would match both.
        if (
            isinstance(field, serializers.CharField)
            and schema.get("type") == "string"
            and not {"pattern", "format", "enum"} & set(schema)
        ):
            schema["pattern"] = NO_NUL

    def _names_delete_body(self) -> bool:
        # A generic destroy view's serializer is its answer's, not a body.
        return (
            self.method == "DELETE"
            and not isinstance(self.view, DestroyModelMixin)
            and self.get_request_serializer() is not None
        )

    def _error_responses(self) -> list[tuple[str, str, str]]:
        takes_body = (
            self.method in _BODY_METHODS and self.get_request_serializer() is not None
        ) or self._names_delete_body()
        takes_query = any(parameter.get("in") == "query" for parameter in self._get_parameters())
        path_object = "{" in self.path
        public = any(isinstance(permission, AllowAny) for permission in self.view.get_permissions())
        errors: list[tuple[str, str, str]] = []
        if takes_body or takes_query:
            errors.append(("400", "A field or query parameter is wrong or missing", VALIDATION_ERROR))
        if not public:
            errors.append(("401", "No token, or not a valid one", ERROR_DETAIL))
            errors.append(("403", "This token or role may not do this", ERROR_DETAIL))
        if path_object:
            errors.append(("404", "No such object in the caller's shop", ERROR_DETAIL))
        if takes_body:
            errors.append(("415", "The body is not application/json", ERROR_DETAIL))
        errors.append(("429", "Too many requests: wait for Retry-After seconds", ERROR_DETAIL))
        return errors


def _json(ref: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": ref}}}


class AtLeastOneFieldExtension(OpenApiSerializerExtension):
    target_class = "inbox.api.fields.AtLeastOneFieldSerializer"
    match_subclasses = True

    def map_serializer(self, auto_schema: Any, direction: Any) -> Any:
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        schema["minProperties"] = 1
        return schema


class ClosedSerializerExtension(OpenApiSerializerExtension):
    target_class = "inbox.api.fields.ClosedSerializer"
    match_subclasses = True

    def map_serializer(self, auto_schema: Any, direction: Any) -> Any:
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        schema["additionalProperties"] = False
        # A rule between fields that JSON Schema can state (`oneOf` of required sets): the body's own.
        schema.update(getattr(self.target, "schema_constraints", {}))
        return schema
