"""Serializer fields and bases that accept exactly what the OpenAPI document says.

DRF's CharField takes a JSON number as text (`{"text": 0}` sent "0" to the customer), its
IntegerField takes a string (`{"assignee": "5"}`) and its BooleanField `"yes"` or 1; the document
says `string`, `integer` and `boolean`, and schemathesis' negative cases hold the server to that.
Query parameters are always text, so they use DRF's own fields inside a StrictQuerySerializer,
which refuses what DRF quietly drops: a blank value (`?status=` read as "not given") and a
parameter given twice (the last one won).
"""

from __future__ import annotations

from typing import Any, ClassVar

from rest_framework import serializers


class StrictCharField(serializers.CharField):
    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return int(super().to_internal_value(data))


class StrictBooleanField(serializers.BooleanField):
    # DRF's BooleanField takes "true", "yes", 1 and "on" as true; the document says `boolean`.
    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictQuerySerializer(serializers.Serializer):
    def to_internal_value(self, data: Any) -> Any:
        errors: dict[str, list[str]] = {}
        for name, field in self.fields.items():
            values = data.getlist(name) if hasattr(data, "getlist") else [data[name]] if name in data else []
            if len(values) > 1:
                errors[name] = [f"give {name} once"]
            elif values == [""] and not getattr(field, "allow_blank", False):
                errors[name] = [f"{name} may not be blank"]
        if errors:
            raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class ClosedSerializer(serializers.Serializer):
    # A body object with only the declared keys: an unknown key is a 400 (DRF drops it quietly), and
    # the schema says `additionalProperties: false` (inbox.api.autoschema.ClosedSerializerExtension).
    # A subclass may add `schema_constraints` (e.g. a `oneOf` of required sets) for a rule between its
    # fields the schema can state: its validate() then refuses the same bodies with a 400.
    # No docstring: the schema would show it as every subclass's description.

    schema_constraints: ClassVar[dict[str, Any]] = {}

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(str(key) for key in data if key not in self.fields)
            if unknown:
                raise serializers.ValidationError(
                    {
                        "non_field_errors": [
                            f"Unknown field(s): {', '.join(unknown)}; allowed: {', '.join(self.fields)}."
                        ]
                    }
                )
        return super().to_internal_value(data)


class AtLeastOneFieldSerializer(serializers.Serializer):
    # A PATCH body that must change something: `{}` is a 400, and the schema says `minProperties: 1`
    # (inbox.api.autoschema.AtLeastOneFieldExtension). No docstring: subclasses' would inherit it.

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError(f"Send at least one of: {', '.join(self.fields)}.")
        return attrs
