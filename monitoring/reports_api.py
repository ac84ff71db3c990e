"""`GET /api/v1/reports/response-times/`: the dashboard's numbers for API clients (owner only)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox.api.errors import RULE_REFUSED, RuleRefused
from inbox.api.fields import StrictQuerySerializer
from inbox.api.schema_components import ERROR_DETAIL
from inbox.permissions import IsShopOwner, calling_member
from monitoring.reports import ReportParamError, report_filters_build, report_groups

GROUP_BY_CHOICES = ("member", "channel", "day")


_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?([Zz]|[+-]\d{2}:\d{2})?)?$")


@extend_schema_field(
    {
        "anyOf": [
            {"type": "string", "format": "date"},
            {"type": "string", "format": "date-time"},
            {"type": "string", "maxLength": 0},
        ]
    }
)
class DayOrMomentField(serializers.CharField):
    """A date (a whole day in the shop's time zone) or an ISO 8601 datetime (naive: the shop's local
    time); blank is the default period. The shape is checked here (400); the period's rules
    (since before until, at most the longest range) are the report's (422)."""

    def to_internal_value(self, data: Any) -> str:
        text = str(super().to_internal_value(data))
        if text:
            try:
                if not _MOMENT.match(text):
                    raise ValueError(text)
                date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text.upper())
            except ValueError:
                raise serializers.ValidationError("must be YYYY-MM-DD or an ISO 8601 datetime") from None
        return text


class ResponseTimesQuerySerializer(StrictQuerySerializer):
    since = DayOrMomentField(required=False, allow_blank=True, help_text="YYYY-MM-DD or ISO 8601 datetime")
    until = DayOrMomentField(required=False, allow_blank=True, help_text="YYYY-MM-DD or ISO 8601 datetime")
    group_by = serializers.ChoiceField(choices=GROUP_BY_CHOICES, default="member")
    # The schema says what this validates (minimum 1): `channel=0` was documented as valid and refused.
    channel = serializers.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, help_text="only this channel's replies"
    )


class ResponseTimeGroupSerializer(serializers.Serializer):
    key = serializers.JSONField(
        help_text="member id (null = replies from the platform's app or the API), channel id, or local date"
    )
    # DRF's serializer metaclass pops declared fields off the class, so this never shadows Field.label
    # at runtime; the stubs don't model that and see an override of the `label` attribute.
    label = serializers.CharField()  # type: ignore[assignment]
    count = serializers.IntegerField()
    p50_s = serializers.FloatField(allow_null=True, help_text="median wall-clock response, seconds")
    p90_s = serializers.FloatField(
        allow_null=True, help_text="90th percentile (percentile_cont; within 1 s + 5% on large periods), seconds"
    )
    avg_s = serializers.FloatField(allow_null=True)
    p50_business_s = serializers.FloatField(allow_null=True, help_text="median in business-hours seconds")
    p90_business_s = serializers.FloatField(allow_null=True)
    avg_business_s = serializers.FloatField(allow_null=True)
    sla_met_pct = serializers.FloatField(allow_null=True, help_text="share of replies within the target, 0-100")
    terse_pct = serializers.FloatField(
        allow_null=True, help_text="share of judged replies flagged terse, 0-100; null if none judged yet"
    )


class ResponseTimesSerializer(serializers.Serializer):
    group_by = serializers.ChoiceField(choices=GROUP_BY_CHOICES)
    since = serializers.DateTimeField(help_text="inclusive start of the period")
    until = serializers.DateTimeField(help_text="exclusive end of the period")
    timezone = serializers.CharField(help_text="the shop's time zone used for days and date-only bounds")
    channel = serializers.IntegerField(allow_null=True)
    results = ResponseTimeGroupSerializer(many=True)


class ResponseTimesView(APIView):
    permission_classes = [IsShopOwner]

    @extend_schema(
        operation_id="reports_response_times",
        summary="Response times per member, channel or day",
        description=(
            "The same numbers as the owner's dashboard. Percentiles interpolate linearly between ranks "
            "(PostgreSQL percentile_cont); for periods of whole days holding more than 20,000 replies they come "
            "from per-day histograms and are within 1 s + 5% of that exact value (counts, averages and "
            "percentages stay exact). `since`/`until` take an ISO date (a whole day in the shop's time "
            "zone; `until` includes that day) or an ISO 8601 datetime (naive = shop's local time; `until` is "
            "exclusive). Default: the last 7 days up to today."
        ),
        parameters=[ResponseTimesQuerySerializer],
        responses={
            200: ResponseTimesSerializer,
            403: OpenApiResponse(
                {"$ref": ERROR_DETAIL}, description="not the shop's owner (admins and channel tokens are refused)"
            ),
            422: RULE_REFUSED,
        },
        tags=["reports"],
    )
    def get(self, request: Request) -> Response:
        member = calling_member(request)
        query = ResponseTimesQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params: dict[str, Any] = query.validated_data
        try:
            filters = report_filters_build(
                shop=member.shop,
                since=params.get("since") or None,
                until=params.get("until") or None,
                channel=params.get("channel"),
            )
        except ReportParamError as exc:  # a rule of the period or another shop's channel
            raise RuleRefused({exc.param: [exc.message]}) from exc
        group_by = params["group_by"]
        groups = report_groups(filters, [group_by])
        data = {
            "group_by": group_by,
            "since": filters.start,
            "until": filters.end,
            "timezone": filters.tz.key,
            "channel": filters.channel_id,
            "results": [s.as_dict() for s in getattr(groups, group_by)],
        }
        return Response(ResponseTimesSerializer(data).data)
