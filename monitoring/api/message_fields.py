"""The reply measurement on the API's message: `response_seconds`, `response_business_seconds`, `terse`.

Registered with inbox's message endpoint (inbox.api.extensions) in monitoring/apps.py. Null until
the monitoring workers measured the reply, and for customer messages.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.utils.translation import get_language
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from inbox.api.extensions import MessageFields
from inbox.models import Message
from monitoring.models import ReplyMeasurement
from monitoring.tone.localize import reasons_in


def _measurement(message: Message) -> ReplyMeasurement | None:
    if message.direction != Message.Direction.OUT:
        return None
    try:
        measurement: ReplyMeasurement = message.measurement  # type: ignore[attr-defined]
    except ObjectDoesNotExist:
        return None
    return measurement


class TerseSerializer(serializers.Serializer):
    flag = serializers.BooleanField()
    score = serializers.FloatField(allow_null=True)
    reasons = serializers.ListField(child=serializers.CharField())


@extend_schema_field(serializers.FloatField(allow_null=True))
class MeasuredSecondsField(serializers.Field):
    """One of the measurement's durations, in seconds."""

    def __init__(self, attribute: str, **kwargs: Any) -> None:
        self.attribute = attribute
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, value: Message) -> float | None:
        measurement = _measurement(value)
        number = getattr(measurement, self.attribute, None) if measurement is not None else None
        return None if number is None else float(number)


@extend_schema_field(TerseSerializer(allow_null=True))
class TerseField(serializers.Field):
    """The terse judge's verdict on the reply; null until judged (or for a reply without text)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, value: Message) -> dict[str, Any] | None:
        measurement = _measurement(value)
        if measurement is None or measurement.terse is None:
            return None
        return {
            "flag": bool(measurement.terse),
            "score": None if measurement.terse_score is None else float(measurement.terse_score),
            "reasons": reasons_in(measurement.terse_reasons, get_language() or "id"),
        }


def _fields() -> dict[str, serializers.Field]:
    return {
        "response_seconds": MeasuredSecondsField("response_seconds"),
        "response_business_seconds": MeasuredSecondsField("response_business_seconds"),
        "terse": TerseField(),
    }


MEASUREMENT_FIELDS = MessageFields(name="monitoring.measurement", select_related=("measurement",), fields=_fields)
