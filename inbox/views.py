"""The browser inbox: server-rendered pages and the HTMX partials the live script swaps in.

Views stay thin: they check the member's shop, validate with a form, call one service and
render. Every piece of customer text reaches the browser through these templates, so the
server's auto-escaping is the only HTML encoder (the script never builds HTML from text).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, Concatenate, ParamSpec, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from inbox.forms import (
    ASSIGNEE_ME,
    ASSIGNEE_UNASSIGNED,
    STATUS_OPEN,
    AssignForm,
    ConversationFilterForm,
    QuickReplyForm,
    ReplyForm,
    StatusForm,
)
from inbox.http import BalasRequest, MemberRequest
from inbox.models import Conversation, Member, Message, QuickReply
from inbox.selectors import conversation_list, messages_quote_texts
from inbox.services.changes import ReactionRefused, message_reaction_send
from inbox.services.conversations import conversation_assign, conversation_mark_read, conversation_status_set
from inbox.services.quick_replies import quick_reply_create, quick_reply_delete, quick_reply_update
from inbox.services.replies import ReplyRefused, reply_retry, reply_send

logger = logging.getLogger("balas.web")

LIST_LIMIT = 200
THREAD_LIMIT = 300
# The tone judge reads the customer's side of the current wait; a few messages are enough.
TONE_CONTEXT_MESSAGES = 5

P = ParamSpec("P")


def member_required(
    view: Callable[Concatenate[MemberRequest, P], HttpResponse],
) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
    """Login required; the user's Member gives the shop, and a user without one gets 403."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        if not isinstance(request, BalasRequest):
            raise ImproperlyConfigured("inbox.middleware.MemberMiddleware is not in MIDDLEWARE")
        member = request.member
        if member is None:
            raise PermissionDenied(_("Akun ini bukan anggota toko mana pun."))
        try:
            # Times on the page read in the shop's clock, whatever the server's zone.
            timezone.activate(ZoneInfo(member.shop.timezone))
        except (ZoneInfoNotFoundError, ValueError):
            timezone.activate(ZoneInfo("Asia/Jakarta"))
        try:
            # Checked just above: the member is there, as MemberRequest says.
            return view(cast(MemberRequest, request), *args, **kwargs)
        finally:
            timezone.deactivate()

    return wrapper


# --- reads --------------------------------------------------------------------------------


def _shop_conversations(member: Member) -> QuerySet[Conversation]:
    return conversation_list(shop_id=member.shop_id)


def _filtered(member: Member, filters: dict[str, str]) -> QuerySet[Conversation]:
    """The list under the GET filters, in the list's order (the script sorts live rows alike)."""
    assignee = filters["assignee"]
    return conversation_list(
        shop_id=member.shop_id,
        status=filters["status"],
        channel_id=int(filters["channel"]) if filters["channel"] else None,
        assignee_id=member.pk if assignee == ASSIGNEE_ME else int(assignee) if assignee.isdigit() else None,
        unassigned=assignee == ASSIGNEE_UNASSIGNED,
    )


def _waiting_count(member: Member) -> int:
    return Conversation.objects.filter(shop_id=member.shop_id).waiting().count()


def _shop_conversation(member: Member, pk: int) -> Conversation:
    return get_object_or_404(_shop_conversations(member), pk=pk)


def _shop_message(member: Member, pk: int) -> Message:
    return get_object_or_404(
        Message.objects.filter(shop_id=member.shop_id).select_related("sent_by__user", "conversation", "channel"), pk=pk
    )


def _thread_messages(conversation: Conversation) -> list[Message]:
    recent = list(
        conversation.messages.select_related("sent_by__user", "channel").order_by("-sent_at", "-pk")[:THREAD_LIMIT]
    )
    recent.reverse()
    return _with_quotes(recent)


def _with_quotes(messages: list[Message]) -> list[Message]:
    """Each message's `quote_text`: the text of the message it answers, for its bubble ("" when unknown)."""
    texts = messages_quote_texts(messages)
    for message in messages:
        message.quote_text = texts.get(message.pk, "")  # type: ignore[attr-defined]
    return messages


def _tone_customer_messages(conversation: Conversation) -> str:
    """The customer's messages the draft answers (those of the current wait, else the latest), as JSON."""
    inbound = conversation.messages.filter(direction=Message.Direction.IN)
    if conversation.waiting_since is not None:
        inbound = inbound.filter(sent_at__gte=conversation.waiting_since)
    texts = list(inbound.order_by("-sent_at", "-pk").values_list("text", flat=True)[:TONE_CONTEXT_MESSAGES])
    return json.dumps([t for t in reversed(texts) if t], ensure_ascii=False)


def _members(member: Member) -> QuerySet[Member]:
    return Member.objects.filter(shop_id=member.shop_id).select_related("user").order_by("pk")


def _filters_from(request: HttpRequest, member: Member) -> tuple[ConversationFilterForm, dict[str, str] | None]:
    form = ConversationFilterForm(request.GET or None, member=member)
    if not request.GET:
        form = ConversationFilterForm(member=member, initial={"status": STATUS_OPEN})
        return form, {"status": STATUS_OPEN, "channel": "", "assignee": "any"}
    if not form.is_valid():
        return form, None
    return form, form.cleaned()


def _error_text(errors: Iterable[object]) -> str:
    # A form's ErrorList yields its messages as text (lazy or plain), whatever the stubs say it holds.
    return " ".join(str(e) for e in errors)


def _bad_filters(form: ConversationFilterForm) -> HttpResponse:
    problems = "; ".join(f"{name}: {_error_text(errors)}" for name, errors in form.errors.items())
    return HttpResponseBadRequest(_("Filter tidak valid: %s") % problems, content_type="text/plain; charset=utf-8")


def _with_waiting_trigger(response: HttpResponse, member: Member) -> HttpResponse:
    # The script keeps the tab title's count from this event, whatever part of the list changed.
    response["HX-Trigger"] = json.dumps({"balas:waiting": {"count": _waiting_count(member)}})
    return response


def _list_context(request: HttpRequest, member: Member, filters: dict[str, str]) -> dict[str, Any]:
    conversations = list(_filtered(member, filters)[:LIST_LIMIT])
    return {"conversations": conversations, "filters": filters}


def _thread_context(member: Member, conversation: Conversation) -> dict[str, Any]:
    return {
        "conversation": conversation,
        "thread_messages": _thread_messages(conversation),
        "members": _members(member),
        "quick_replies": QuickReply.objects.filter(shop_id=member.shop_id),
        "tone_customer": _tone_customer_messages(conversation),
        "reply_form": ReplyForm(),
    }


# --- pages --------------------------------------------------------------------------------


@require_GET
@member_required
def inbox_index(request: MemberRequest) -> HttpResponse:
    return _inbox_page(request, conversation=None)


@require_GET
@member_required
def conversation_detail(request: MemberRequest, pk: int) -> HttpResponse:
    member = request.member
    conversation = _shop_conversation(member, pk)
    conversation_mark_read(conversation=conversation, member=member)
    if request.htmx and request.htmx.target == "thread-pane":
        return render(request, "inbox/partials/thread.html", _thread_context(member, conversation))
    return _inbox_page(request, conversation=conversation)


def _inbox_page(request: MemberRequest, *, conversation: Conversation | None) -> HttpResponse:
    member = request.member
    form, filters = _filters_from(request, member)
    if filters is None:
        return _bad_filters(form)
    if request.htmx and request.htmx.target == "conversation-list":
        response = render(request, "inbox/partials/conversation_list.html", _list_context(request, member, filters))
        return _with_waiting_trigger(response, member)
    context: dict[str, Any] = {
        "filter_form": form,
        "waiting_count": _waiting_count(member),
        **_list_context(request, member, filters),
    }
    if conversation is not None:
        context.update(_thread_context(member, conversation))
    return render(request, "inbox/index.html", context)


# --- partials for live updates --------------------------------------------------------------


@require_GET
@member_required
def conversation_row(request: MemberRequest, pk: int) -> HttpResponse:
    """One list row under the current filters; a hidden placeholder when it no longer matches."""
    member = request.member
    conversation = _shop_conversation(member, pk)
    form, filters = _filters_from(request, member)
    if filters is None:
        return _bad_filters(form)
    matches = _filtered(member, filters).filter(pk=pk).exists()
    response = render(
        request,
        "inbox/partials/conversation_row.html",
        {"c": conversation, "gone": not matches, "active_id": request.GET.get("active")},
    )
    return _with_waiting_trigger(response, member)


@require_GET
@member_required
def conversation_header(request: MemberRequest, pk: int) -> HttpResponse:
    member = request.member
    conversation = _shop_conversation(member, pk)
    return render(
        request, "inbox/partials/thread_header.html", {"conversation": conversation, "members": _members(member)}
    )


@require_GET
@member_required
def message_bubble(request: MemberRequest, pk: int) -> HttpResponse:
    member = request.member
    return render(request, "inbox/partials/message.html", {"m": _with_quotes([_shop_message(member, pk)])[0]})


# --- actions ------------------------------------------------------------------------------


def _reply_error(request: BalasRequest, conversation: Conversation, reason: str) -> HttpResponse:
    if not request.htmx:
        flash.error(request, reason)
        return redirect("inbox-conversation", pk=conversation.pk)
    response = render(request, "inbox/partials/reply_error.html", {"reason": reason})
    # The explanation goes above the reply box; the thread itself stays as it is.
    response["HX-Retarget"] = "#reply-error"
    response["HX-Reswap"] = "innerHTML"
    return response


def _bubble_response(request: BalasRequest, message: Message, *, replied: bool) -> HttpResponse:
    if not request.htmx:
        return redirect("inbox-conversation", pk=message.conversation_id)
    response = render(request, "inbox/partials/message.html", {"m": message, "clear_error": True})
    if replied:
        response["HX-Trigger"] = json.dumps({"balas:replied": {"message": message.pk}})
    return response


@require_POST
@member_required
def reply_create(request: MemberRequest, pk: int) -> HttpResponse:
    member = request.member
    conversation = _shop_conversation(member, pk)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        return _reply_error(request, conversation, _error_text(form.errors.get("text", [_("Balasan tidak valid.")])))
    try:
        message = reply_send(conversation=conversation, member=member, text=form.cleaned_data["text"])
    except ReplyRefused as exc:
        return _reply_error(request, conversation, exc.reason)
    logger.info("web.reply message=%s status=%s", message.pk, message.status)
    return _bubble_response(request, message, replied=True)


@require_POST
@member_required
def message_retry(request: MemberRequest, pk: int) -> HttpResponse:
    member = request.member
    message = _shop_message(member, pk)
    try:
        message = reply_retry(message=message, member=member)
    except ReplyRefused as exc:
        return _reply_error(request, message.conversation, exc.reason)
    return _bubble_response(request, message, replied=False)


@require_POST
@member_required
def message_react(request: MemberRequest, pk: int) -> HttpResponse:
    """The shop's reaction from the thread (an empty emoji removes it); answers the redrawn bubble."""
    member = request.member
    message = _shop_message(member, pk)
    error = ""
    try:
        message = message_reaction_send(message=message, member=member, emoji=request.POST.get("emoji", ""))
        message = _shop_message(member, pk)
    except ReactionRefused as exc:
        error = exc.reason
    if not request.htmx:
        if error:
            flash.error(request, error)
        return redirect("inbox-conversation", pk=message.conversation_id)
    return render(request, "inbox/partials/message.html", {"m": _with_quotes([message])[0], "react_error": error})


def _header_response(request: BalasRequest, member: Member, conversation: Conversation) -> HttpResponse:
    if not request.htmx:
        return redirect("inbox-conversation", pk=conversation.pk)
    context = {"conversation": conversation, "members": _members(member)}
    return render(request, "inbox/partials/thread_header.html", context)


@require_POST
@member_required
def conversation_assign_view(request: MemberRequest, pk: int) -> HttpResponse:
    member = request.member
    conversation = _shop_conversation(member, pk)
    form = AssignForm(request.POST, member=member)
    if not form.is_valid():
        return HttpResponseBadRequest(
            _("Penugasan tidak valid: %s") % _error_text(form.errors.get("assignee", [])),
            content_type="text/plain; charset=utf-8",
        )
    try:
        conversation = conversation_assign(conversation=conversation, assignee=form.cleaned_data["assignee"], by=member)
    except ValidationError as exc:
        return HttpResponseBadRequest(" ".join(exc.messages), content_type="text/plain; charset=utf-8")
    return _header_response(request, member, _shop_conversation(member, conversation.pk))


@require_POST
@member_required
def conversation_status_view(request: MemberRequest, pk: int) -> HttpResponse:
    member = request.member
    conversation = _shop_conversation(member, pk)
    form = StatusForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(
            _("Status tidak valid: %s") % _error_text(form.errors.get("status", [])),
            content_type="text/plain; charset=utf-8",
        )
    try:
        conversation_status_set(conversation=conversation, status=form.cleaned_data["status"], by=member)
    except ValidationError as exc:
        return HttpResponseBadRequest(" ".join(exc.messages), content_type="text/plain; charset=utf-8")
    return _header_response(request, member, _shop_conversation(member, conversation.pk))


# --- quick replies (owner) --------------------------------------------------------------------


def _owner_only(member: Member) -> None:
    if not member.is_owner:
        raise PermissionDenied(_("Hanya pemilik toko yang bisa mengatur balasan cepat."))


def _form_errors_from(form: QuickReplyForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@require_http_methods(["GET", "POST"])
@member_required
def quick_reply_list(request: MemberRequest) -> HttpResponse:
    member = request.member
    _owner_only(member)
    form = QuickReplyForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                quick_reply_create(member=member, **form.cleaned_data)
            except ValidationError as exc:
                _form_errors_from(form, exc)
            else:
                flash.success(request, _("Balasan cepat disimpan."))
                return redirect("inbox-quick-replies")
        status = 400
    items = [
        (qr, QuickReplyForm(instance=qr, prefix=f"qr{qr.pk}"))
        for qr in QuickReply.objects.filter(shop_id=member.shop_id)
    ]
    return render(request, "inbox/quick_replies.html", {"form": form, "items": items}, status=status)


@require_POST
@member_required
def quick_reply_edit(request: MemberRequest, pk: int) -> HttpResponse:
    member = request.member
    _owner_only(member)
    quick_reply = get_object_or_404(QuickReply, pk=pk, shop_id=member.shop_id)
    form = QuickReplyForm(request.POST, instance=QuickReply(pk=pk, shop_id=member.shop_id), prefix=f"qr{pk}")
    if form.is_valid():
        try:
            quick_reply_update(quick_reply=quick_reply, member=member, **form.cleaned_data)
        except ValidationError as exc:
            flash.error(request, " ".join(exc.messages))
        else:
            flash.success(request, _("Balasan cepat diperbarui."))
    else:
        flash.error(request, _error_text(e for errors in form.errors.values() for e in errors))
    return redirect("inbox-quick-replies")


@require_POST
@member_required
def quick_reply_remove(request: MemberRequest, pk: int) -> HttpResponse:
    member = request.member
    _owner_only(member)
    quick_reply = get_object_or_404(QuickReply, pk=pk, shop_id=member.shop_id)
    quick_reply_delete(quick_reply=quick_reply, member=member)
    flash.success(request, _("Balasan cepat dihapus."))
    return redirect(reverse("inbox-quick-replies"))
