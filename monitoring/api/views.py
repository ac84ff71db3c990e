"""REST endpoints of the monitoring side: thin, every query scoped to the caller's shop."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import Http404
from django.utils import timezone
from django.utils.translation import get_language
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.fields import DateTimeField
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox.api.errors import RULE_REFUSED, RuleRefused
from inbox.api.schema_components import ERROR_DETAIL
from inbox.permissions import IsShopMember, IsShopOwner, calling_member
from inbox.selectors import conversation_get
from monitoring.api.serializers import (
    AlertFeedbackRequestSerializer,
    AlertFeedbackSerializer,
    AlertListQuerySerializer,
    AlertsAcknowledgeRequestSerializer,
    AlertsAcknowledgeResponseSerializer,
    AlertSerializer,
    NotificationPreferencesPatchSerializer,
    NotificationPreferencesSerializer,
    PolicyPatchSerializer,
    PolicySerializer,
    PushSubscriptionCreatedSerializer,
    PushSubscriptionDeleteSerializer,
    PushSubscriptionSerializer,
    ToneCheckRequestSerializer,
    ToneCheckResponseSerializer,
)
from monitoring.notifications import member_routing, routing_as_json
from monitoring.selectors import alerts_visible
from monitoring.services.alerts import alert_acknowledge, alerts_acknowledge
from monitoring.services.feedback import FeedbackError, alert_feedback_record
from monitoring.services.notifications import (
    PreferenceError,
    PreferenceRuleError,
    notification_preferences_update,
    push_subscription_delete,
    push_subscription_save,
)
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
        assignee = params.get("assignee")
        return alerts_visible(
            member=calling_member(self.request),
            kind=params.get("kind"),
            state=params.get("state"),
            assignee=int(assignee) if assignee and assignee.isdigit() else assignee,
        )


class AlertAcknowledgeView(APIView):
    permission_classes = [IsShopMember]

    @extend_schema(summary="Mark an alert as seen", request=None, responses=AlertSerializer)
    def post(self, request: Request, pk: int) -> Response:
        member = calling_member(request)
        if not alerts_visible(member=member).filter(pk=pk).exists():
            raise Http404
        alert = alert_acknowledge(alert_id=pk, member=member)
        return Response(AlertSerializer(alerts_visible(member=member).get(pk=alert.pk)).data)


class AlertsAcknowledgeView(APIView):
    permission_classes = [IsShopMember]

    @extend_schema(
        operation_id="v1_alerts_acknowledge_many",
        summary="Mark many alerts as seen: a list of ids, or all open ones (of one kind)",
        request=AlertsAcknowledgeRequestSerializer,
        responses={200: AlertsAcknowledgeResponseSerializer},
    )
    def post(self, request: Request) -> Response:
        serializer = AlertsAcknowledgeRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        alerts = alerts_acknowledge(
            member=calling_member(request), ids=data.get("ids"), every=bool(data.get("all")), kind=data.get("kind")
        )
        body = {
            "acknowledged": len(alerts),
            "ids": [a.pk for a in alerts],
            "acknowledged_at": alerts[0].acknowledged_at if alerts else None,
        }
        return Response(AlertsAcknowledgeResponseSerializer(body).data)


class ToneCheckView(APIView):
    permission_classes = [IsShopMember]

    @extend_schema(
        summary="Judge a draft reply: terse or not, why, and a warmer suggestion",
        request=ToneCheckRequestSerializer,
        responses={200: ToneCheckResponseSerializer, 422: RULE_REFUSED},
    )
    def post(self, request: Request) -> Response:
        serializer = ToneCheckRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        conversation = None
        if (conversation_id := serializer.validated_data.get("conversation")) is not None:
            conversation = conversation_get(shop_id=calling_member(request).shop_id, pk=conversation_id)
            if conversation is None:  # an id in the body, not the path: the request is valid, the id is not
                raise RuleRefused({"conversation": ["No such conversation in your shop."]})
        result = tone_check(
            customer=serializer.validated_data.get("customer") or [],
            reply=serializer.validated_data["reply"],
            language=(get_language() or "id")[:2],
            conversation=conversation,
        )
        return Response(ToneCheckResponseSerializer(result).data)


class AlertFeedbackView(APIView):
    permission_classes = [IsShopOwner]

    @extend_schema(
        summary="The owner's judgement of a terse alert: really terse, or not (a later one replaces it)",
        request=AlertFeedbackRequestSerializer,
        responses={200: AlertFeedbackSerializer, 422: RULE_REFUSED},
    )
    def post(self, request: Request, pk: int) -> Response:
        member = calling_member(request)
        if not alerts_visible(member=member).filter(pk=pk).exists():
            raise Http404
        incoming = AlertFeedbackRequestSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            feedback = alert_feedback_record(alert_id=pk, member=member, verdict=incoming.validated_data["verdict"])
        except FeedbackError as exc:  # a valid verdict on an alert that takes none (not a terse one)
            raise RuleRefused(exc.errors) from exc
        return Response(
            {
                "alert_id": feedback.alert_id,
                "verdict": feedback.verdict,
                "member_id": feedback.member_id,
                "created_at": DateTimeField().to_representation(feedback.created_at),
            }
        )


class NotificationPreferencesView(APIView):
    permission_classes = [IsShopMember]

    @extend_schema(summary="The caller's own notification preferences", responses=NotificationPreferencesSerializer)
    def get(self, request: Request) -> Response:
        routing = member_routing(calling_member(request))
        return Response(routing_as_json(routing, now=timezone.now()))

    @extend_schema(
        summary="Change the caller's own notification preferences",
        request=NotificationPreferencesPatchSerializer,
        responses={200: NotificationPreferencesSerializer, 422: RULE_REFUSED},
    )
    def patch(self, request: Request) -> Response:
        # The service checks the body (the settings page's form uses the same checks); the
        # serializer documents exactly what it takes.
        try:
            routing = notification_preferences_update(member=calling_member(request), data=request.data)
        except PreferenceRuleError as exc:
            raise RuleRefused(exc.errors) from exc
        except PreferenceError as exc:
            return Response(exc.errors, status=status.HTTP_400_BAD_REQUEST)
        return Response(routing_as_json(routing, now=timezone.now()))


class PushSubscriptionsView(APIView):
    permission_classes = [IsShopMember]

    @extend_schema(
        summary="Subscribe this browser to Web Push (its PushSubscription JSON)",
        request=PushSubscriptionSerializer,
        responses={201: PushSubscriptionCreatedSerializer, 200: PushSubscriptionCreatedSerializer},
    )
    def post(self, request: Request) -> Response:
        try:
            subscription, created = push_subscription_save(
                member=calling_member(request),
                data=request.data,
                user_agent=request.headers.get("User-Agent", ""),
            )
        except PreferenceError as exc:
            return Response(exc.errors, status=status.HTTP_400_BAD_REQUEST)
        body = {"id": subscription.pk, "endpoint": subscription.endpoint, "vapid_public_key": settings.VAPID_PUBLIC_KEY}
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        summary="Unsubscribe a browser of the caller from Web Push",
        request=PushSubscriptionDeleteSerializer,
        responses={
            204: None,
            404: OpenApiResponse({"$ref": ERROR_DETAIL}, description="The caller has no such subscription"),
        },
    )
    def delete(self, request: Request) -> Response:
        incoming = PushSubscriptionDeleteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        endpoint = incoming.validated_data["endpoint"]
        if not push_subscription_delete(member=calling_member(request), endpoint=endpoint):
            raise Http404
        return Response(status=status.HTTP_204_NO_CONTENT)
