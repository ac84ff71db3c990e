"""Read-only fields another app adds to the API's message (monitoring: the reply's measured latency and tone).

inbox's message endpoint (`GET /api/v1/conversations/{id}/messages/`) shows what other apps know
about a message without inbox knowing them: an app registers the fields (DRF fields reading the
message, documented in the OpenAPI schema like any other) and the related rows they read, in its
`AppConfig.ready()`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rest_framework import serializers


@dataclass(frozen=True)
class MessageFields:
    name: str
    # Relations of Message the fields read (for select_related).
    select_related: tuple[str, ...]
    # A new set of field instances each call (DRF binds a field to one serializer).
    fields: Callable[[], dict[str, serializers.Field]]


_extensions: dict[str, MessageFields] = {}


def message_fields_register(extension: MessageFields) -> None:
    _extensions[extension.name] = extension


def message_fields() -> dict[str, serializers.Field]:
    fields: dict[str, serializers.Field] = {}
    for extension in _extensions.values():
        fields.update(extension.fields())
    return fields


def message_fields_select_related() -> tuple[str, ...]:
    return tuple(relation for extension in _extensions.values() for relation in extension.select_related)
