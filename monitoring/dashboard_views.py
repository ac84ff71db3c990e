"""The owner's response-time dashboard, its live data endpoint and its CSV exports. Thin: the numbers
come from `monitoring.reports`."""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone as dj_timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from inbox.http import BalasRequest
from inbox.models import Channel, Member
from monitoring.reports import (
    DashboardReport,
    GroupStats,
    ReportFilters,
    ReportParamError,
    channel_label,
    dashboard_report,
    measurement_rows,
    report_filters_build,
    report_groups,
    unassigned_label,
)
from monitoring.services.calibration import tone_threshold
from monitoring.services.feedback import judge_precision
from monitoring.tone.localize import reasons_in

logger = logging.getLogger("balas.dashboard")

OwnerView = Callable[[BalasRequest, Member], HttpResponseBase]


def owner_required(view: OwnerView) -> Callable[[HttpRequest], HttpResponseBase]:
    """Anonymous -> the login page; a member who is not the shop's owner -> 403."""

    @wraps(view)
    def wrapper(request: HttpRequest) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not isinstance(request, BalasRequest):
            raise ImproperlyConfigured("inbox.middleware.MemberMiddleware is not in MIDDLEWARE")
        member = request.member
        if member is None or not member.is_owner:
            raise PermissionDenied(_("Dasbor hanya untuk pemilik toko."))
        return view(request, member)

    return wrapper


def _filters(request: HttpRequest, member: Member) -> ReportFilters:
    return report_filters_build(
        shop=member.shop,
        since=request.GET.get("since") or None,
        until=request.GET.get("until") or None,
        channel=request.GET.get("channel") or None,
    )


def _bad_request(error: ReportParamError) -> JsonResponse:
    return JsonResponse({error.param: [error.message]}, status=400)


# ---------------------------------------------------------------------------------------------
# Presentation helpers: durations and rows as the owner reads them


def duration_display(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    total = round(seconds)
    if total < 60:
        return _("%(s)d dtk") % {"s": total}
    minutes, secs = divmod(total, 60)
    if minutes < 10:
        return _("%(m)d mnt %(s)02d dtk") % {"m": minutes, "s": secs}
    if minutes < 60:
        return _("%(m)d mnt") % {"m": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return _("%(h)d j %(m)02d mnt") % {"h": hours, "m": minutes}
    days, hours = divmod(hours, 24)
    return _("%(d)d hr %(h)d j") % {"d": days, "h": hours}


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}%"


def _row(stats: GroupStats) -> dict[str, Any]:
    return {
        "key": stats.key,
        "label": stats.label,
        "count": stats.count,
        "p50": duration_display(stats.p50_s),
        "p90": duration_display(stats.p90_s),
        "p50_business": duration_display(stats.p50_business_s),
        "p90_business": duration_display(stats.p90_business_s),
        "sla_met": _pct(stats.sla_met_pct),
        "terse": _pct(stats.terse_pct),
        "sla_met_value": stats.sla_met_pct,
    }


def _panels_context(report: DashboardReport) -> dict[str, Any]:
    now = dj_timezone.now()
    tz = report.filters.tz
    total = report.groups.total
    return {
        "total": _row(total) if total is not None else None,
        "member_rows": [_row(s) for s in report.groups.member],
        "channel_rows": [_row(s) for s in report.groups.channel],
        "waiting": [
            {
                "conversation": c,
                "waited": duration_display((now - c.waiting_since).total_seconds()) if c.waiting_since else "",
                "since_local": c.waiting_since.astimezone(tz) if c.waiting_since else None,
            }
            for c in report.waiting
        ],
        "waiting_count": report.waiting_count,
        "alerts": [{"alert": a, "created_local": a.created_at.astimezone(tz)} for a in report.alerts],
        "alerts_open_count": report.alerts_open_count,
        "slowest": [_example(m, tz) for m in report.slowest],
        "tersest": [_example(m, tz) for m in report.tersest],
        "judge": judge_precision(shop_id=report.filters.shop_id),
    }


def _example(measurement: Any, tz: Any) -> dict[str, Any]:
    member = measurement.member
    return {
        "m": measurement,
        "who": member.display_name if member is not None else unassigned_label(),
        "contact": str(measurement.conversation.contact),
        "channel": channel_label(measurement.channel),
        "response": duration_display(measurement.response_seconds),
        "response_business": duration_display(measurement.response_business_seconds),
        "replied_local": measurement.replied_at.astimezone(tz),
        "text": measurement.message.text,
        "reasons": ", ".join(reasons_in(measurement.terse_reasons, get_language() or "id")),
    }


def _chart_texts() -> dict[str, str]:
    """Chart captions, translated here so the browser needs no message catalogue."""
    return {
        "p50": _("Median (menit)"),
        "p90": _("Persentil 90 (menit)"),
        "p50_business": _("Median jam kerja (menit)"),
        "replies": _("Jumlah balasan"),
        "hour_p50": _("Median waktu tunggu (menit)"),
        "sla_met": _("Sesuai SLA (%)"),
        "minutes": _("menit"),
        "no_data": _("Belum ada data"),
    }


def _period_context(filters: ReportFilters) -> dict[str, Any]:
    return {
        "since": filters.first_day.isoformat(),
        "until": filters.last_day.isoformat(),
        "timezone": filters.tz.key,
        "channel": filters.channel_id,
    }


# ---------------------------------------------------------------------------------------------
# Views


@require_GET
@owner_required
def dashboard(request: HttpRequest, member: Member) -> HttpResponse:
    error: ReportParamError | None = None
    try:
        filters = _filters(request, member)
    except ReportParamError as exc:
        # The page stays usable: show what was wrong and the default period instead.
        error = exc
        filters = report_filters_build(shop=member.shop)
    report = dashboard_report(filters)
    channels = list(Channel.objects.filter(shop_id=member.shop_id).only("name", "platform").order_by("name"))
    context = {
        "shop": member.shop,
        "error": error,
        "period": _period_context(filters),
        "channels": [{"id": c.pk, "label": channel_label(c)} for c in channels],
        "charts": {**report.charts, "texts": _chart_texts()},
        "query": request.GET.urlencode() if error is None else "",
        "tone_threshold": tone_threshold(shop_id=member.shop_id),
        **_panels_context(report),
    }
    return render(request, "monitoring/dashboard.html", context, status=400 if error else 200)


@require_GET
@owner_required
def dashboard_data(request: HttpRequest, member: Member) -> HttpResponse:
    """The same numbers as the page, for the live refresh: chart series and the re-rendered panels."""
    try:
        filters = _filters(request, member)
    except ReportParamError as exc:
        return _bad_request(exc)
    report = dashboard_report(filters)
    panels = render_to_string("monitoring/dashboard_panels.html", _panels_context(report), request=request)
    return JsonResponse(
        {
            "period": _period_context(filters),
            "charts": {**report.charts, "texts": _chart_texts()},
            "panels_html": panels,
            "generated_at": dj_timezone.now().isoformat(),
        }
    )


# ---------------------------------------------------------------------------------------------
# CSV

GROUP_COLUMNS = [
    "key",
    "label",
    "count",
    "p50_s",
    "p90_s",
    "avg_s",
    "p50_business_s",
    "p90_business_s",
    "avg_business_s",
    "sla_met_pct",
    "terse_pct",
]

REPLY_COLUMNS = [
    "message_id",
    "conversation_id",
    "channel_id",
    "channel",
    "member_id",
    "member",
    "source",
    "kind",
    "started_at",
    "replied_at",
    "response_seconds",
    "response_business_seconds",
    "target_seconds",
    "sla_met",
    "terse",
    "terse_score",
    "terse_reasons",
]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """CSV cell; text that a spreadsheet would run as a formula is quoted with a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(header: list[str], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([_cell(v) for v in row])


def _filename(kind: str, filters: ReportFilters) -> str:
    return f"balas-{kind}-{filters.first_day.isoformat()}_{filters.last_day.isoformat()}.csv"


def _group_csv(request: HttpRequest, member: Member, grouping: str, kind: str) -> HttpResponse:
    try:
        filters = _filters(request, member)
    except ReportParamError as exc:
        return _bad_request(exc)
    groups = report_groups(filters, [grouping])  # type: ignore[list-item]
    stats: list[GroupStats] = getattr(groups, grouping)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(kind, filters)}"'
    for line in _csv_lines(GROUP_COLUMNS, ([getattr(s, c) for c in GROUP_COLUMNS] for s in stats)):
        response.write(line)
    logger.info("dashboard.csv_exported shop=%s kind=%s rows=%s", member.shop_id, kind, len(stats))
    return response


@require_GET
@owner_required
def export_members_csv(request: HttpRequest, member: Member) -> HttpResponse:
    return _group_csv(request, member, "member", "admins")


@require_GET
@owner_required
def export_channels_csv(request: HttpRequest, member: Member) -> HttpResponse:
    return _group_csv(request, member, "channel", "channels")


@require_GET
@owner_required
def export_replies_csv(request: HttpRequest, member: Member) -> JsonResponse | StreamingHttpResponse:
    """Every measured reply of the period, streamed so a month of a busy shop never sits in memory."""
    try:
        filters = _filters(request, member)
    except ReportParamError as exc:
        return _bad_request(exc)
    tz = filters.tz
    language = get_language() or "id"  # read now: the stream runs after the view returns

    def rows() -> Iterator[list[Any]]:
        for m in measurement_rows(filters):
            yield [
                m.message_id,
                m.conversation_id,
                m.channel_id,
                channel_label(m.channel),
                m.member_id,
                m.member.display_name if m.member is not None else "",
                m.source,
                m.kind,
                m.started_at.astimezone(tz),
                m.replied_at.astimezone(tz),
                m.response_seconds,
                m.response_business_seconds,
                m.target_seconds,
                m.sla_met,
                m.terse,
                m.terse_score,
                "; ".join(reasons_in(m.terse_reasons, language)),
            ]

    response = StreamingHttpResponse(_csv_lines(REPLY_COLUMNS, rows()), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename("replies", filters)}"'
    logger.info("dashboard.csv_streamed shop=%s kind=replies", member.shop_id)
    return response
