"""Every live event type: its name, what it means, the shape of its payload, and the one way to build it.

A live event is a JSON object `{"type": "<namespace>.<verb>", ...payload}` sent to a shop's
members over `/ws/inbox/` (inbox.realtime publishes it, inbox.consumers forwards it). Each type is
declared once, here or by the app that owns it (monitoring declares `alert.*` in its apps.py: inbox
knows nothing of alerts), with its payload as the REST API's own serializers: an event's `message`
is exactly what the API returns for a message, its `alert` what the API returns for an alert.
Publishers build events only through `event_build`, so no payload is written by hand.
`event_json_schema` turns a type into the JSON Schema that tests/inbox/test_event_schema.py
validates every really published event against, and that docs/architecture.md lists.

Zulip's zerver/lib/event_schema.py is the model: one declaration per event type, checked in tests
against what the server really sends.
"""

from __future__ import annotations

import operator
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from rest_framework import serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject, RelatedField

from inbox.serializers import ConversationEventSerializer, MessageSerializer

Payload = type[serializers.Serializer] | type[int] | type[str]


@dataclass(frozen=True)
class EventType:
    """One live event type. `payload` maps each key beside `type` to a serializer (an object of that
    shape) or to `int` / `str`."""

    name: str
    doc: str
    payload: Mapping[str, Payload]


_types: dict[str, EventType] = {}
_representers: dict[type[serializers.Serializer], Callable[[Any], dict[str, Any]]] = {}


def event_type_register(event_type: EventType) -> None:
    namespace, dot, verb = event_type.name.partition(".")
    if not (namespace and dot and verb):
        raise ValueError(f"event type {event_type.name!r} must be namespaced: <namespace>.<verb>")
    known = _types.get(event_type.name)
    if known is not None and known != event_type:
        raise ValueError(f"event type {event_type.name!r} is declared twice, differently")
    _types[event_type.name] = event_type


def event_types() -> tuple[EventType, ...]:
    return tuple(_types.values())


def event_type(name: str) -> EventType:
    try:
        return _types[name]
    except KeyError as exc:
        raise LookupError(f"no live event type {name!r} is declared") from exc


def event_build(name: str, **payload: Any) -> dict[str, Any]:
    """The event of type `name`: every declared key, each object shaped by its serializer."""
    declared = event_type(name)
    if set(payload) != set(declared.payload):
        raise TypeError(
            f"{name} takes {sorted(declared.payload)}, got {sorted(payload)}"  # a publisher's bug, not input
        )
    event: dict[str, Any] = {"type": name}
    for key, shape in declared.payload.items():
        value = payload[key]
        if isinstance(shape, type) and issubclass(shape, serializers.BaseSerializer):
            event[key] = None if value is None else representation(shape, value)
        else:
            event[key] = value
    return event


# --- serializer output, fast -------------------------------------------------------------------


def representation(serializer_class: type[serializers.Serializer], instance: Any) -> dict[str, Any]:
    """`serializer_class(instance).data`, with the serializer's fields read once per process.

    A webhook publishes two events; building them with fresh DRF serializers took about a tenth of
    its Python time (docs/benchmarks.md). This calls the same fields' own `get_attribute` and
    `to_representation` (so the output is the serializer's by construction), skipping only the
    per-call work of building and walking the serializer. tests/inbox/test_event_schema.py compares
    it with the serializer on varied rows.
    """
    build = _representers.get(serializer_class)
    if build is None:
        build = _representers[serializer_class] = _compile(serializer_class())
    return build(instance)


def _compile(serializer: serializers.Serializer) -> Callable[[Any], dict[str, Any]]:
    steps: list[tuple[str, Callable[[Any], Any], Callable[[Any], Any]]] = []
    for name, field in serializer.fields.items():
        if field.write_only:
            continue
        represent = _compile(field) if isinstance(field, serializers.Serializer) else field.to_representation
        steps.append((name, _getter(field), represent))

    def build(instance: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, get, represent in steps:
            try:
                attribute = get(instance)
            except SkipField:
                continue
            check = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
            out[name] = None if check is None else represent(attribute)
        return out

    return build


def _getter(field: serializers.Field) -> Callable[[Any], Any]:
    """The field's own `get_attribute`, or its result read directly where that is the same: a plain
    attribute of a model instance, or a related object's primary key (DRF's pk-only optimization)."""
    attrs = field.source_attrs
    if len(attrs) != 1 or isinstance(field, serializers.SerializerMethodField):
        return field.get_attribute
    attr = attrs[0]
    if isinstance(field, RelatedField):
        if not field.use_pk_only_optimization():
            return field.get_attribute
        return lambda instance: PKOnlyObject(pk=instance.serializable_value(attr))
    return operator.attrgetter(attr)


# --- JSON Schema ---------------------------------------------------------------------------------


def event_json_schema(name: str) -> dict[str, Any]:
    """The JSON Schema of one event type, derived from its payload serializers."""
    declared = event_type(name)
    properties: dict[str, Any] = {"type": {"const": name}}
    for key, shape in declared.payload.items():
        if isinstance(shape, type) and issubclass(shape, serializers.BaseSerializer):
            properties[key] = _serializer_schema(shape())
        else:
            properties[key] = {"type": {int: "integer", str: "string"}[shape]}
    return {
        "type": "object",
        "properties": properties,
        "required": sorted(properties),
        "additionalProperties": False,
    }


def _serializer_schema(serializer: serializers.Serializer) -> dict[str, Any]:
    properties = {
        name: _nullable(_field_schema(serializer, field), field)
        for name, field in serializer.fields.items()
        if not field.write_only
    }
    return {"type": "object", "properties": properties, "required": sorted(properties), "additionalProperties": False}


_PYTHON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean"}


def _field_schema(serializer: serializers.Serializer, field: serializers.Field) -> dict[str, Any]:
    if isinstance(field, serializers.Serializer):
        return _serializer_schema(field)
    if isinstance(field, serializers.ListSerializer):
        return {"type": "array", "items": _field_schema(serializer, field.child) if field.child else {}}
    if isinstance(field, serializers.SerializerMethodField):
        hints = typing.get_type_hints(getattr(serializer, field.method_name or f"get_{field.field_name}"))
        return _annotation_schema(hints.get("return", Any))
    if isinstance(field, serializers.ChoiceField):
        return {"enum": [str(choice) for choice in field.choices]}
    if isinstance(field, serializers.DateTimeField):
        return {"type": "string", "format": "date-time"}
    if isinstance(field, serializers.BooleanField):
        return {"type": "boolean"}
    if isinstance(field, serializers.IntegerField | RelatedField):
        return {"type": "integer"}
    if isinstance(field, serializers.FloatField):
        return {"type": "number"}
    if isinstance(field, serializers.CharField):
        return {"type": "string"}
    if isinstance(field, serializers.ListField):
        return {"type": "array", "items": _field_schema(serializer, field.child) if field.child else {}}
    if isinstance(field, serializers.JSONField | serializers.DictField):
        return {}
    if isinstance(field, serializers.ModelField):
        return {}
    raise TypeError(f"no JSON Schema for serializer field {type(field).__name__} ({field.field_name})")


def _annotation_schema(annotation: Any) -> dict[str, Any]:
    args = typing.get_args(annotation)
    if args and type(None) in args:
        inner = [a for a in args if a is not type(None)]
        schema = _annotation_schema(inner[0]) if len(inner) == 1 else {}
        return {**schema, "type": [schema["type"], "null"]} if "type" in schema else {}
    if annotation in _PYTHON_TYPES:
        return {"type": _PYTHON_TYPES[annotation]}
    return {}


def _nullable(schema: dict[str, Any], field: serializers.Field) -> dict[str, Any]:
    if not field.allow_null:
        return schema
    if "enum" in schema:
        return {**schema, "enum": [*schema["enum"], None]}
    if "type" in schema and not isinstance(schema["type"], list):
        return {**schema, "type": [schema["type"], "null"]}
    return schema


# --- inbox's own event types ---------------------------------------------------------------------

event_type_register(
    EventType(
        name="message.created",
        doc="A message was stored in one of the shop's conversations (customer, reply, echo, API push).",
        payload={"conversation_id": int, "message": MessageSerializer},
    )
)
event_type_register(
    EventType(
        name="message.updated",
        doc="A stored message changed: its status (sent, delivered, read, failed), platform id or text.",
        payload={"conversation_id": int, "message": MessageSerializer},
    )
)
event_type_register(
    EventType(
        name="conversation.updated",
        doc="A conversation's summary changed: last message, waiting since, unread count, status, assignee.",
        payload={"conversation": ConversationEventSerializer},
    )
)
