"""The owner's settings page and the alerts page (HTMX). Thin: services do the writing."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from inbox.http import MemberRequest
from inbox.views import member_required
from monitoring.forms import COMMON_ZONES, PolicyForm
from monitoring.models import Alert
from monitoring.selectors import alerts_grouped, alerts_visible, members_of_shop
from monitoring.services.alerts import alert_acknowledge
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
    groups = alerts_grouped(alerts_visible(member=member, **filters))
    context = {
        "groups": groups,
        "kinds": Alert.Kind.choices,
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
