"""The owner's settings page and the alerts page (HTMX). Thin: services do the writing."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from inbox.http import MemberRequest
from inbox.views import member_required
from monitoring.forms import COMMON_ZONES, NotificationForm, PolicyForm
from monitoring.models import Alert
from monitoring.notifications import eligible_kinds, in_page_kinds, member_routing
from monitoring.selectors import alerts_grouped, alerts_visible, members_of_shop
from monitoring.services.alerts import alert_acknowledge
from monitoring.services.feedback import FeedbackError, alert_feedback_record
from monitoring.services.notifications import notification_preferences_update
from monitoring.services.policy import policy_for_shop, policy_update


@member_required
@require_http_methods(["GET", "POST"])
def policy_settings(request: MemberRequest) -> HttpResponse:
    member = request.member
    if not member.is_owner:
        raise PermissionDenied(_("Hanya pemilik toko yang bisa mengubah pengaturan."))
    policy = policy_for_shop(shop_id=member.shop_id)
    if request.method == "POST":
        form = PolicyForm(request.POST)
        if form.is_valid():
            policy_update(shop_id=member.shop_id, data=form.policy_data)
            messages.success(request, _("Pengaturan disimpan."))
            return redirect("monitoring:settings")
    else:
        form = PolicyForm(initial=PolicyForm.initial_for(policy))
    return render(request, "monitoring/settings.html", {"form": form, "zones": COMMON_ZONES})


def _alert_filters(request: MemberRequest) -> dict[str, Any]:
    kind = request.GET.get("kind") if request.GET.get("kind") in Alert.Kind.values else None
    requested_state = request.GET.get("state", "open")
    state = requested_state if requested_state in Alert.State.values else None
    raw_assignee = request.GET.get("assignee") or ""
    assignee: int | str | None = None
    if raw_assignee == "none":
        assignee = "none"
    elif raw_assignee.isdigit():
        assignee = int(raw_assignee)
    return {"kind": kind, "state": state, "assignee": assignee}


@member_required
def alert_list(request: MemberRequest) -> HttpResponse:
    """The live list, one row per conversation, filtered by kind, state and admin (assignee)."""
    member = request.member
    filters = _alert_filters(request)
    # No kind chosen: the kinds the member keeps in the page (as the bar and badge count them); a
    # kind chosen is shown whatever the routes, so a digest-only kind can still be looked up.
    kinds = None if filters["kind"] else in_page_kinds(member)
    groups = alerts_grouped(alerts_visible(member=member, kinds=kinds, **filters))
    context = {
        "groups": groups,
        "kinds": eligible_kinds(member.role),
        "states": Alert.State.choices,
        "assignees": [(str(m.pk), m.display_name) for m in members_of_shop(shop_id=member.shop_id)],
        "kind": filters["kind"] or "",
        "state": filters["state"] or "",
        "assignee": str(filters["assignee"] or ""),
    }
    if request.htmx and request.htmx.target == "alert-rows":
        return render(request, "monitoring/partials/alert_groups.html", context)
    return render(request, "monitoring/alerts.html", context)


@member_required
def alert_summary(request: MemberRequest) -> HttpResponse:
    """The alert bar, and the nav badge out of band: what static/js/alerts.js re-reads on an alert event."""
    response = render(request, "monitoring/partials/alert_summary.html")
    response["Cache-Control"] = "no-store"
    return response


@member_required
@require_POST
def alert_acknowledge_view(request: MemberRequest, pk: int) -> HttpResponse:
    member = request.member
    if not alerts_visible(member=member).filter(pk=pk).exists():
        raise Http404
    alert_acknowledge(alert_id=pk, member=member)
    if not request.htmx:
        return redirect("monitoring:alerts")
    alert = alerts_visible(member=member).get(pk=pk)
    return render(request, "monitoring/partials/alert_row.html", {"alert": alert})


@member_required
@require_http_methods(["GET", "POST"])
def notification_settings(request: MemberRequest) -> HttpResponse:
    """Every member's own choice of alerts and routes, quiet hours and digest (and Web Push on this browser)."""
    member = request.member
    kinds = eligible_kinds(member.role)
    if request.method == "POST":
        form = NotificationForm(request.POST, kinds=kinds)
        if form.is_valid():
            notification_preferences_update(member=member, data=form.preference_data)
            messages.success(request, _("Pengaturan notifikasi disimpan."))
            return redirect("monitoring:notifications")
    else:
        form = NotificationForm(initial=NotificationForm.initial_for(member_routing(member)), kinds=kinds)
    context = {"form": form, "vapid_public_key": settings.VAPID_PUBLIC_KEY, "timezone": member_routing(member).timezone}
    return render(request, "monitoring/notifications.html", context)


_SERVICE_WORKER = settings.BASE_DIR / "static" / "sw.js"


def service_worker(request: HttpRequest) -> FileResponse:
    """The Web Push service worker from the site root, so its scope is the whole site."""
    response = FileResponse(_SERVICE_WORKER.open("rb"), content_type="application/javascript")
    response["Service-Worker-Allowed"] = "/"
    # A new worker must reach browsers at once: they check for one on each navigation.
    response["Cache-Control"] = "no-cache"
    return response


@member_required
@require_POST
def alert_feedback_view(request: MemberRequest, pk: int) -> HttpResponse:
    """The owner's "bukan ketus" / "memang ketus" on a terse alert (the page's form; the API has the same)."""
    member = request.member
    if not member.is_owner:
        raise PermissionDenied(_("Hanya pemilik toko yang menilai peringatan ketus."))
    alert = alerts_visible(member=member).filter(pk=pk).first()
    if alert is None:
        raise Http404
    try:
        feedback = alert_feedback_record(alert_id=pk, member=member, verdict=request.POST.get("verdict"))
    except FeedbackError as exc:
        return HttpResponse(" ".join(m for ms in exc.errors.values() for m in ms), status=400)
    if not request.htmx:
        return redirect("monitoring:alerts")
    context = {"alert": alert, "feedback_verdict": feedback.verdict}
    return render(request, "monitoring/partials/alert_feedback.html", context)
