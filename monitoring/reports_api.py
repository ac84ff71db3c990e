"""`GET /api/v1/reports/response-times/`: the dashboard's numbers for API clients (owner only)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox.permissions import IsShopOwner, calling_member
from monitoring.reports import ReportParamError, report_filters_build, report_groups

GROUP_BY_CHOICES = ("member", "channel", "day")


class ResponseTimesQuerySerializer(serializers.Serializer):
    since = serializers.CharField(required=False, allow_blank=True)
    until = serializers.CharField(required=False, allow_blank=True)
    group_by = serializers.ChoiceField(choices=GROUP_BY_CHOICES, default="member")
    channel = serializers.IntegerField(required=False, min_value=1)


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
        parameters=[
            OpenApiParameter("since", OpenApiTypes.STR, description="YYYY-MM-DD or ISO 8601 datetime"),
            OpenApiParameter("until", OpenApiTypes.STR, description="YYYY-MM-DD or ISO 8601 datetime"),
            OpenApiParameter("group_by", OpenApiTypes.STR, enum=list(GROUP_BY_CHOICES), default="member"),
            OpenApiParameter("channel", OpenApiTypes.INT, description="only this channel's replies"),
        ],
        responses={
            200: ResponseTimesSerializer,
            400: OpenApiResponse(description="a bad filter value: `{<parameter>: [<what is wrong>]}`"),
            403: OpenApiResponse(description="not the shop's owner (admins and channel tokens are refused)"),
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
        except ReportParamError as exc:
            raise ValidationError({exc.param: [exc.message]}) from exc
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
