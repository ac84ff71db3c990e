"""REST endpoints of the monitoring side: thin, every query scoped to the caller's shop."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox.api.errors import RULE_REFUSED, RuleRefused
from inbox.permissions import IsShopMember, IsShopOwner, calling_member
from monitoring.api.serializers import (
    AlertListQuerySerializer,
    AlertSerializer,
    PolicyPatchSerializer,
    PolicySerializer,
    ToneCheckRequestSerializer,
    ToneCheckResponseSerializer,
)
from monitoring.selectors import alerts_visible
from monitoring.services.alerts import alert_acknowledge
from monitoring.services.policy import PolicyError, policy_for_shop, policy_update
from monitoring.services.tone import tone_check


class PolicyView(APIView):
    def get_permissions(self) -> list[BasePermission]:
        if self.request.method in ("PATCH", "PUT"):
            return [IsShopOwner()]
        return [IsShopMember()]

    @extend_schema(summary="The shop's reply targets and business hours", responses=PolicySerializer)
    def get(self, request: Request) -> Response:
        policy = policy_for_shop(shop_id=calling_member(request).shop_id)
        return Response(PolicySerializer(policy).data)

    @extend_schema(
        summary="Change reply targets, time zone or business hours (owner)",
        request=PolicyPatchSerializer,
        responses={200: PolicySerializer, 422: RULE_REFUSED},
    )
    def patch(self, request: Request) -> Response:
        # The shape (types, bounds, known fields and weekdays, HH:MM) is the schema's: 400.
        PolicyPatchSerializer(data=request.data).is_valid(raise_exception=True)
        try:
            policy = policy_update(shop_id=calling_member(request).shop_id, data=request.data)
        except PolicyError as exc:  # a rule of the service (overlapping hours, a range ending before it starts)
            raise RuleRefused(exc.errors) from exc
        return Response(PolicySerializer(policy).data)


class AlertListView(generics.ListAPIView):
    permission_classes = [IsShopMember]
    serializer_class = AlertSerializer

    @extend_schema(summary="Alerts the caller may see, newest first", parameters=[AlertListQuerySerializer])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> Any:
        query = AlertListQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        return alerts_visible(member=calling_member(self.request), kind=params.get("kind"), state=params.get("state"))


class AlertAcknowledgeView(APIView):
    permission_classes = [IsShopMember]

    @extend_schema(summary="Mark an alert as seen", request=None, responses=AlertSerializer)
    def post(self, request: Request, pk: int) -> Response:
        member = calling_member(request)
        if not alerts_visible(member=member).filter(pk=pk).exists():
            raise Http404
        alert = alert_acknowledge(alert_id=pk, member=member)
        return Response(AlertSerializer(alerts_visible(member=member).get(pk=alert.pk)).data)


class ToneCheckView(APIView):
    permission_classes = [IsShopMember]

    @extend_schema(
        summary="Judge a draft reply: terse or not, why, and a warmer suggestion",
        request=ToneCheckRequestSerializer,
        responses=ToneCheckResponseSerializer,
    )
    def post(self, request: Request) -> Response:
        serializer = ToneCheckRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = tone_check(
            customer=serializer.validated_data.get("customer") or [], reply=serializer.validated_data["reply"]
        )
        return Response(ToneCheckResponseSerializer(result).data)
