"""REST API views: parse, call one selector or service, shape the answer. Nothing else."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox.adapters.base import NormalizedMessage
from inbox.api.errors import RULE_REFUSED, RuleRefused, rule_errors
from inbox.api.extensions import message_fields_select_related
from inbox.api.serializers import (
    ChannelCreatedSerializer,
    ChannelCreateSerializer,
    ChannelMessagePushSerializer,
    ChannelSerializer,
    ConversationListQuerySerializer,
    ConversationPatchSerializer,
    ConversationSerializer,
    ErrorSerializer,
    MessageDetailSerializer,
    ReactionCreateSerializer,
    ReplyCreateSerializer,
    ReplyFailedSerializer,
)
from inbox.models import Channel, Conversation, Message, Platform
from inbox.permissions import IsChannelToken, IsShopMember, IsShopOwner, calling_member
from inbox.selectors import (
    channel_list,
    conversation_get,
    conversation_list,
    member_get,
    message_get,
    message_list,
)
from inbox.services import (
    ReactionRefused,
    ReplyRefused,
    channel_create,
    conversation_assign,
    conversation_mark_read,
    conversation_status_set,
    message_push,
    message_reaction_send,
    push_sent_at_check,
    reply_retry,
    reply_send,
)

REACTION_REFUSED = OpenApiResponse(
    ErrorSerializer, description="The platform has no reaction API, or the message takes none"
)


def _conversation(request: Request, pk: int) -> Conversation:
    conversation = conversation_get(shop_id=calling_member(request).shop_id, pk=pk)
    if conversation is None:
        raise Http404
    return conversation


def _message_data(message: Message) -> dict[str, Any]:
    return dict(MessageDetailSerializer(message).data)


# --- channels -----------------------------------------------------------------------------


@extend_schema(tags=["channels"])
class ChannelListCreateView(generics.ListCreateAPIView):
    serializer_class = ChannelSerializer

    def get_permissions(self) -> list[Any]:
        return [IsShopOwner()] if self.request.method == "POST" else [IsShopMember()]

    def get_queryset(self) -> Any:
        return channel_list(shop_id=calling_member(self.request).shop_id)

    @extend_schema(summary="The shop's channels (never their secrets)")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Connect a channel (owner)",
        request=ChannelCreateSerializer,
        responses={201: ChannelCreatedSerializer, 422: RULE_REFUSED},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = ChannelCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        try:
            channel, token = channel_create(
                shop=calling_member(request).shop,
                platform=data["platform"],
                name=data["name"],
                account_id=data.get("account_id", ""),
                secrets=data.get("secrets") or {},
            )
        except DjangoValidationError as exc:
            raise rule_errors(exc) from exc
        body = ChannelSerializer(channel).data
        body["token"] = token
        return Response(body, status=status.HTTP_201_CREATED)


@extend_schema(tags=["channels"])
class ChannelMessagePushView(APIView):
    permission_classes = [IsChannelToken]

    @extend_schema(
        summary="Push one message into an `api` channel (Token of that channel)",
        request=ChannelMessagePushSerializer,
        responses={
            201: MessageDetailSerializer,
            200: OpenApiResponse(MessageDetailSerializer, description="A duplicate external_id: nothing new stored"),
            422: RULE_REFUSED,
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        channel = request.auth
        if not isinstance(channel, Channel) or channel.pk != pk or channel.platform != Platform.API:
            raise PermissionDenied("This token may push only to its own api channel.")
        incoming = ChannelMessagePushSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        try:
            push_sent_at_check(sent_at=data["sent_at"])
        except DjangoValidationError as exc:
            raise rule_errors(exc) from exc
        direction = data["direction"]
        normalized = NormalizedMessage(
            platform_message_id=data["external_id"],
            contact_external_id=data["contact"]["id"],
            contact_name=data["contact"].get("name", ""),
            direction=direction,
            source="customer" if direction == Message.Direction.IN else "api",
            sent_at=data["sent_at"],
            text=data["text"],
        )
        message, created = message_push(channel=channel, normalized=normalized)
        return Response(_message_data(message), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


# --- conversations ------------------------------------------------------------------------


@extend_schema(tags=["conversations"])
class ConversationListView(generics.ListAPIView):
    serializer_class = ConversationSerializer
    permission_classes = [IsShopMember]

    @extend_schema(
        summary="The shop's conversations: waiting first (longest wait on top), then most recent",
        parameters=[ConversationListQuerySerializer],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> Any:
        member = calling_member(self.request)
        query = ConversationListQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        assignee_raw = params.get("assignee", "")
        return conversation_list(
            shop_id=member.shop_id,
            status=params["status"],
            channel_id=params.get("channel"),
            assignee_id=member.pk if assignee_raw == "me" else int(assignee_raw) if assignee_raw.isdigit() else None,
            unassigned=assignee_raw == "none",
        )


@extend_schema(tags=["conversations"])
class ConversationDetailView(APIView):
    permission_classes = [IsShopMember]

    @extend_schema(summary="One conversation", responses=ConversationSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(ConversationSerializer(_conversation(request, pk)).data)

    @extend_schema(
        summary="Assign, close or reopen a conversation",
        request=ConversationPatchSerializer,
        responses={200: ConversationSerializer, 422: RULE_REFUSED},
    )
    def patch(self, request: Request, pk: int) -> Response:
        member = calling_member(request)
        conversation = _conversation(request, pk)
        incoming = ConversationPatchSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        try:
            if "assignee" in data:
                assignee = None
                if data["assignee"] is not None:
                    assignee = member_get(shop_id=member.shop_id, pk=data["assignee"])
                    if assignee is None:
                        raise RuleRefused({"assignee": ["no member of this shop has this id"]})
                conversation = conversation_assign(conversation=conversation, assignee=assignee, by=member)
            if "status" in data:
                conversation = conversation_status_set(conversation=conversation, status=data["status"], by=member)
        except DjangoValidationError as exc:
            raise rule_errors(exc) from exc
        return Response(ConversationSerializer(_conversation(request, pk)).data)


@extend_schema(tags=["conversations"])
class ConversationReadView(APIView):
    permission_classes = [IsShopMember]

    @extend_schema(summary="Mark the customer's messages as read", request=None, responses=ConversationSerializer)
    def post(self, request: Request, pk: int) -> Response:
        conversation_mark_read(conversation=_conversation(request, pk), member=calling_member(request))
        return Response(ConversationSerializer(_conversation(request, pk)).data)


@extend_schema(tags=["conversations"])
class ConversationMessagesView(generics.ListAPIView):
    serializer_class = MessageDetailSerializer
    permission_classes = [IsShopMember]

    @extend_schema(summary="The conversation's messages, oldest first, with reply measurements")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> Any:
        return message_list(
            conversation=_conversation(self.request, self.kwargs["pk"]), select_related=message_fields_select_related()
        )


@extend_schema(tags=["conversations"])
class ConversationReplyView(APIView):
    permission_classes = [IsShopMember]

    @extend_schema(
        summary="Send a reply through the platform",
        request=ReplyCreateSerializer,
        responses={
            201: MessageDetailSerializer,
            422: OpenApiResponse(ErrorSerializer, description="The reply cannot be sent (nothing was sent)"),
            502: OpenApiResponse(ReplyFailedSerializer, description="The platform refused; the message is kept failed"),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        conversation = _conversation(request, pk)
        incoming = ReplyCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            message = reply_send(
                conversation=conversation, member=calling_member(request), text=incoming.validated_data["text"]
            )
        except ReplyRefused as exc:
            return Response({"error": exc.reason}, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
        return _reply_response(message, status.HTTP_201_CREATED)


@extend_schema(tags=["conversations"])
class MessageReactionView(APIView):
    """The shop's reaction to a customer's message, sent through the platform (WhatsApp, Messenger, Instagram)."""

    permission_classes = [IsShopMember]

    @extend_schema(
        summary="React to a message (an empty emoji removes the shop's reaction)",
        request=ReactionCreateSerializer,
        responses={
            200: MessageDetailSerializer,
            422: REACTION_REFUSED,
            502: OpenApiResponse(ErrorSerializer, description="The platform refused or could not be reached"),
        },
    )
    def post(self, request: Request, pk: int, message_id: int) -> Response:
        message = self._message(request, pk, message_id)  # another shop's message is a 404, whatever the body
        incoming = ReactionCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        return self._react(request, message, incoming.validated_data["emoji"])

    @extend_schema(
        summary="Remove the shop's reaction",
        request=None,
        responses={
            200: MessageDetailSerializer,
            422: REACTION_REFUSED,
            502: OpenApiResponse(ErrorSerializer, description="The platform refused or could not be reached"),
        },
    )
    def delete(self, request: Request, pk: int, message_id: int) -> Response:
        return self._react(request, self._message(request, pk, message_id), "")

    def _message(self, request: Request, pk: int, message_id: int) -> Message:
        conversation = _conversation(request, pk)
        message = message_get(shop_id=calling_member(request).shop_id, pk=message_id)
        if message is None or message.conversation_id != conversation.pk:
            raise Http404
        return message

    def _react(self, request: Request, message: Message, emoji: str) -> Response:
        try:
            message = message_reaction_send(message=message, member=calling_member(request), emoji=emoji)
        except ReactionRefused as exc:
            return Response({"error": exc.reason}, status=exc.status)
        return Response(_message_data(message))


@extend_schema(tags=["conversations"])
class MessageRetryView(APIView):
    permission_classes = [IsShopMember]

    @extend_schema(
        summary="Send a failed reply again",
        request=None,
        responses={
            200: MessageDetailSerializer,
            422: OpenApiResponse(ErrorSerializer, description="Not a failed reply from Balas, or cannot be sent"),
            502: OpenApiResponse(ReplyFailedSerializer, description="The platform refused again"),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        member = calling_member(request)
        message = message_get(shop_id=member.shop_id, pk=pk)
        if message is None:
            raise Http404
        try:
            message = reply_retry(message=message, member=member)
        except ReplyRefused as exc:
            return Response({"error": exc.reason}, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
        return _reply_response(message, status.HTTP_200_OK)


def _reply_response(message: Message, ok_status: int) -> Response:
    if message.status == Message.Status.FAILED:
        return Response({"error": message.error, "message": _message_data(message)}, status=status.HTTP_502_BAD_GATEWAY)
    return Response(_message_data(message), status=ok_status)
