"""Response-time reports: the one computation behind the dashboard, its CSV exports and the reports API.

Percentiles are `percentile_cont` (linear interpolation between the two nearest ranks): for n sorted
values x[0..n-1] and fraction p, the position is r = p * (n - 1) and the value is
x[floor(r)] + (x[ceil(r)] - x[floor(r)]) * (r - floor(r)). PostgreSQL computes them in SQL, every
grouping in one scan (GROUPING SETS); other databases (the embedded SQLite) load the rows and compute
the same numbers in Python.

Percentages: `sla_met_pct` is over all replies of the group; `terse_pct` is over the replies the tone
judge has already judged (`terse` not null), None when none has been judged yet.

Days and hours are the shop's local calendar (the policy's time zone when one is set, else the shop's).

Rollups: a period of whole local days holding more than EXACT_MAX_REPLIES replies is computed from the
per-day and per-hour rollups (monitoring.services.rollups) instead of the measurements: counts, averages,
SLA-met and terse shares are exact (up to float rounding of the sums); percentiles come from merged
log-scale histograms and are within 1 s + 5% of the exact percentile_cont (monitoring.histogram). Smaller
periods, periods with a time of day at either end, and shops whose rollups are missing or in another
time zone get the exact computation.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext as _

from inbox.models import Channel, Conversation, Member, Shop
from monitoring.histogram import packed, percentile_from_counts, unpack
from monitoring.models import Alert, ReplyMeasurement, ReplyRollupDay, ReplyRollupHour, ReplyRollupState, ShopPolicy

Grouping = Literal["member", "channel", "day", "hour", "total"]
GROUPINGS: tuple[Grouping, ...] = ("member", "channel", "day", "hour", "total")
DEFAULT_DAYS = 7
# Bounds the work one request can ask of the database.
MAX_RANGE_DAYS = 366
WORST_LIMIT = 10
# Memory for the sorts of the grouped statistics query (see _raw_groups_sql); bench/bench_dashboard.py.
REPORT_WORK_MEM = "64MB"
RIGHT_NOW_LIMIT = 10
# Up to this many replies in the period the exact statement is cheap enough (tens of ms): use it.
EXACT_MAX_REPLIES = 20_000
Method = Literal["auto", "exact", "rollup"]


class ReportParamError(ValueError):
    """A filter value the report cannot use; `param` names it for the 400 answer."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param
        self.message = message


@dataclass(frozen=True)
class ReportFilters:
    shop_id: int
    tz: ZoneInfo
    start: datetime  # inclusive, aware
    end: datetime  # exclusive, aware
    channel_id: int | None = None

    @property
    def first_day(self) -> date:
        return self.start.astimezone(self.tz).date()

    @property
    def last_day(self) -> date:
        """The last local day the period touches (the end is exclusive)."""
        return (self.end - timedelta(microseconds=1)).astimezone(self.tz).date()

    def days(self) -> list[date]:
        first, last = self.first_day, self.last_day
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]


@dataclass
class GroupStats:
    key: int | str | None
    label: str
    count: int
    p50_s: float | None
    p90_s: float | None
    avg_s: float | None
    p50_business_s: float | None
    p90_business_s: float | None
    avg_business_s: float | None
    sla_met_pct: float | None
    terse_pct: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ReportGroups:
    member: list[GroupStats] = field(default_factory=list)
    channel: list[GroupStats] = field(default_factory=list)
    day: list[GroupStats] = field(default_factory=list)
    hour: list[GroupStats] = field(default_factory=list)
    total: GroupStats | None = None


# ---------------------------------------------------------------------------------------------
# Filters


def report_timezone(shop: Shop) -> ZoneInfo:
    """The shop's reporting time zone: the SLA policy's when set, else the shop's, else Jakarta."""
    name = _policy_timezone(shop) or shop.timezone or "Asia/Jakarta"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Asia/Jakarta")


def _policy_timezone(shop: Shop) -> str | None:
    return ShopPolicy.objects.filter(shop_id=shop.pk).values_list("timezone", flat=True).first() or None


# "+07:00" in an unencoded query string arrives as " 07:00": put the plus sign back.
_SPACE_OFFSET = re.compile(r"^(.*T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}(?::?\d{2})?)$")


def _parse_point(value: str, *, param: str, tz: ZoneInfo, is_end: bool) -> datetime:
    """An ISO date (a whole local day) or datetime (naive = shop's local time) as an aware instant.

    For `until`, a date means "through the end of that day"; a datetime is the exclusive end itself.
    """
    text = value.strip()
    text = _SPACE_OFFSET.sub(r"\1+\2", text)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            day = date.fromisoformat(text) + timedelta(days=1 if is_end else 0)
        except (ValueError, OverflowError) as exc:
            raise ReportParamError(
                param, _("%(param)s: %(value)s bukan tanggal yang valid.") % {"param": param, "value": value}
            ) from exc
        return datetime.combine(day, time.min, tzinfo=tz)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ReportParamError(
            param,
            _("%(param)s: %(value)s bukan tanggal (YYYY-MM-DD) atau waktu ISO 8601 yang valid.")
            % {"param": param, "value": value},
        ) from exc
    if dj_timezone.is_naive(moment):
        moment = moment.replace(tzinfo=tz)
    return moment


def report_filters_build(
    *,
    shop: Shop,
    since: str | None = None,
    until: str | None = None,
    channel: str | int | None = None,
    now: datetime | None = None,
) -> ReportFilters:
    """Validate the shared filters (page, CSV, API). Default: the last 7 local days, today included."""
    tz = report_timezone(shop)
    today = (now or dj_timezone.now()).astimezone(tz).date()
    end = (
        _parse_point(until, param="until", tz=tz, is_end=True)
        if until
        else datetime.combine(today + timedelta(days=1), time.min, tzinfo=tz)
    )
    if since:
        start = _parse_point(since, param="since", tz=tz, is_end=False)
    else:
        last_day = (end - timedelta(microseconds=1)).astimezone(tz).date()
        start = datetime.combine(last_day - timedelta(days=DEFAULT_DAYS - 1), time.min, tzinfo=tz)
    if start >= end:
        raise ReportParamError("since", _("since harus lebih awal dari until."))
    if end - start > timedelta(days=MAX_RANGE_DAYS):
        raise ReportParamError("since", _("Rentang waktu paling panjang %(days)s hari.") % {"days": MAX_RANGE_DAYS})
    channel_id: int | None = None
    if channel not in (None, ""):
        try:
            channel_id = int(channel)  # type: ignore[arg-type]
        except (TypeError, ValueError) as exc:
            raise ReportParamError("channel", _("channel harus berupa id kanal (angka).")) from exc
        if not Channel.objects.filter(pk=channel_id, shop_id=shop.pk).exists():
            raise ReportParamError("channel", _("Kanal %(id)s tidak ada di toko ini.") % {"id": channel_id})
    return ReportFilters(shop_id=shop.pk, tz=tz, start=start, end=end, channel_id=channel_id)


# ---------------------------------------------------------------------------------------------
# Selectors

# Every selector below defers channel secrets: encrypted at rest, a report never needs to decrypt them.


def measurements_in_period(filters: ReportFilters) -> QuerySet[ReplyMeasurement]:
    qs = ReplyMeasurement.objects.filter(
        shop_id=filters.shop_id, replied_at__gte=filters.start, replied_at__lt=filters.end
    )
    if filters.channel_id is not None:
        qs = qs.filter(channel_id=filters.channel_id)
    return qs


def slowest_replies(filters: ReportFilters, *, limit: int = WORST_LIMIT) -> list[ReplyMeasurement]:
    return list(
        measurements_in_period(filters)
        .select_related("conversation__contact", "channel", "member__user", "message")
        .defer("channel__secrets")
        .order_by("-response_seconds", "-replied_at")[:limit]
    )


def tersest_replies(filters: ReportFilters, *, limit: int = WORST_LIMIT) -> list[ReplyMeasurement]:
    return list(
        measurements_in_period(filters)
        .filter(terse=True)
        .select_related("conversation__contact", "channel", "member__user", "message")
        .defer("channel__secrets")
        .order_by("-terse_score", "-replied_at")[:limit]
    )


def waiting_now(filters: ReportFilters) -> QuerySet[Conversation]:
    """Conversations whose customer waits right now (whatever the period), on the filtered channel."""
    qs = Conversation.objects.filter(shop_id=filters.shop_id).waiting()
    if filters.channel_id is not None:
        qs = qs.filter(channel_id=filters.channel_id)
    return qs


def waiting_longest(filters: ReportFilters, *, limit: int = RIGHT_NOW_LIMIT) -> list[Conversation]:
    """Customers waiting right now (whatever the period), longest first."""
    return list(
        waiting_now(filters)
        .select_related("contact", "channel", "assignee__user")
        .defer("channel__secrets")
        .order_by("waiting_since")[:limit]
    )


def alerts_open(filters: ReportFilters) -> QuerySet[Alert]:
    """Open alerts right now (whatever the period), on the filtered channel if one is chosen; the
    owner's dashboard leaves out the admins' warnings before a breach (`reply_due_soon`)."""
    qs = Alert.objects.filter(shop_id=filters.shop_id, state="open").exclude(kind=Alert.Kind.REPLY_DUE_SOON)
    if filters.channel_id is not None:
        qs = qs.filter(conversation__channel_id=filters.channel_id)
    return qs


def measurement_rows(filters: ReportFilters) -> Iterator[ReplyMeasurement]:
    """Every measurement of the period, oldest first, streamed in chunks (raw CSV export)."""
    return (
        measurements_in_period(filters)
        .select_related("channel", "member__user")
        .defer("channel__secrets")
        .order_by("replied_at", "pk")
        .iterator(chunk_size=2000)
    )


# ---------------------------------------------------------------------------------------------
# Grouped statistics


def percentile(sorted_values: Sequence[float], fraction: float) -> float | None:
    """`percentile_cont` on an ascending sequence (linear interpolation between ranks)."""
    n = len(sorted_values)
    if n == 0:
        return None
    rank = fraction * (n - 1)
    lo, hi = math.floor(rank), math.ceil(rank)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (rank - lo)


def report_groups(
    filters: ReportFilters, groupings: Iterable[Grouping] = GROUPINGS, *, method: Method = "auto"
) -> ReportGroups:
    """Per-group response-time statistics of the period, labelled and ordered for display.

    `auto`: from the rollups when the period is whole local days with more than EXACT_MAX_REPLIES
    replies and the shop's rollups are current, else exact (one grouped statement for every grouping).
    `rollup` skips the size rule (still exact when the rollups cannot serve the period); `exact` never
    uses them. Labels come from the shop's members and channels.
    """
    wanted = tuple(dict.fromkeys(groupings))
    for name in wanted:
        if name not in GROUPINGS:
            raise ValueError(f"unknown grouping {name!r}")
    raw: _RawGroups | None = None
    if method != "exact" and whole_local_days(filters):
        raw = _raw_groups_rollup(filters, wanted, min_replies=0 if method == "rollup" else EXACT_MAX_REPLIES + 1)
    if raw is None:
        if connection.vendor == "postgresql":
            raw = _raw_groups_sql(filters, wanted)
        else:
            raw = _raw_groups_python(filters, wanted)
    return _label_and_order(filters, raw, wanted)


def whole_local_days(filters: ReportFilters) -> bool:
    """Whether the period starts and ends at local midnights (what the per-day rollups can answer)."""
    return filters.start == datetime.combine(filters.first_day, time.min, tzinfo=filters.tz) and (
        filters.end == datetime.combine(filters.last_day + timedelta(days=1), time.min, tzinfo=filters.tz)
    )


# (grouping, key) -> [count, p50, p90, avg, p50_b, p90_b, avg_b, sla_met_count, terse_count, judged_count]
_RawGroups = dict[tuple[str, Any], tuple[Any, ...]]

_GROUP_EXPR = {
    "member": "member_id",
    "channel": "channel_id",
    "day": "day",
    "hour": "hour",
}


def _raw_groups_sql(filters: ReportFilters, wanted: tuple[Grouping, ...]) -> _RawGroups:
    table = ReplyMeasurement._meta.db_table
    sets = ", ".join("()" if g == "total" else f"({_GROUP_EXPR[g]})" for g in wanted)
    keys = [g for g in ("member", "channel", "day", "hour") if g in wanted]
    # GROUPING(...) over every key column tells which set a row belongs to (bit set = not grouped).
    select_keys = ", ".join(_GROUP_EXPR[g] for g in keys)
    grouping_sel = f"GROUPING({select_keys})" if keys else "0"
    channel_sql = " AND channel_id = %(channel)s" if filters.channel_id is not None else ""
    # MATERIALIZED: the period's rows are read once by the best path for the WHERE clause (the
    # (shop, replied_at) index); inlined, the planner prefers walking the (shop, member, replied_at)
    # index to skip one sort and pays a random heap read per row instead (4x slower at 30 days).
    sql = f"""
        WITH m AS MATERIALIZED (
            SELECT member_id, channel_id,
                   (replied_at AT TIME ZONE %(tz)s)::date AS day,
                   extract(hour FROM replied_at AT TIME ZONE %(tz)s)::int AS hour,
                   response_seconds, response_business_seconds, sla_met, terse
            FROM {table}
            WHERE shop_id = %(shop)s AND replied_at >= %(start)s AND replied_at < %(end)s{channel_sql}
        )
        SELECT {grouping_sel} AS grp{", " + select_keys if keys else ""},
               count(*),
               percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY response_seconds),
               avg(response_seconds),
               percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY response_business_seconds),
               avg(response_business_seconds),
               count(*) FILTER (WHERE sla_met),
               count(*) FILTER (WHERE terse),
               count(terse)
        FROM m
        GROUP BY GROUPING SETS ({sets})
    """  # noqa: S608 - identifiers come from the model and fixed tables above; values are parameters
    params: dict[str, Any] = {
        "tz": filters.tz.key,
        "shop": filters.shop_id,
        "start": filters.start,
        "end": filters.end,
        "channel": filters.channel_id,
    }
    out: _RawGroups = {}
    with transaction.atomic(), connection.cursor() as cursor:
        # Local to this transaction. The default 4 MB work_mem makes the per-group sorts spill to disk
        # (3x slower at 100,000 replies); JIT compiling costs more than it saves for a query this short.
        cursor.execute("SELECT set_config('work_mem', %s, true), set_config('jit', 'off', true)", [REPORT_WORK_MEM])
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    nkeys = len(keys)
    for row in rows:
        grp = row[0]
        key_values = row[1 : 1 + nkeys]
        count, p_wall, avg_wall, p_bus, avg_bus, sla_met, terse, judged = row[1 + nkeys :]
        if not count:
            # The empty grouping set yields one row even for an empty period.
            continue
        # The grouped column is the one whose GROUPING bit is 0 (the leftmost key is the highest bit).
        grouped = [keys[i] for i in range(nkeys) if not (grp >> (nkeys - 1 - i)) & 1]
        if not grouped:
            name: str = "total"
            key: Any = None
        else:
            name = grouped[0]
            key = key_values[keys.index(name)]
        out[(name, key)] = (
            count,
            p_wall[0],
            p_wall[1],
            avg_wall,
            p_bus[0],
            p_bus[1],
            avg_bus,
            sla_met,
            terse,
            judged,
        )
    return out


def _raw_groups_python(filters: ReportFilters, wanted: tuple[Grouping, ...]) -> _RawGroups:
    buckets: dict[tuple[str, Any], list[tuple[float, float, bool, bool | None]]] = defaultdict(list)
    rows = measurements_in_period(filters).values_list(
        "member_id", "channel_id", "replied_at", "response_seconds", "response_business_seconds", "sla_met", "terse"
    )
    for member_id, channel_id, replied_at, wall, business, sla_met, terse in rows.iterator(chunk_size=5000):
        local = replied_at.astimezone(filters.tz)
        keys = {"member": member_id, "channel": channel_id, "day": local.date(), "hour": local.hour, "total": None}
        value = (float(wall), float(business), bool(sla_met), terse)
        for name in wanted:
            buckets[(name, keys[name])].append(value)
    out: _RawGroups = {}
    for group_key, values in buckets.items():
        walls = sorted(v[0] for v in values)
        businesses = sorted(v[1] for v in values)
        judged = [v[3] for v in values if v[3] is not None]
        out[group_key] = (
            len(values),
            percentile(walls, 0.5),
            percentile(walls, 0.9),
            sum(walls) / len(walls),
            percentile(businesses, 0.5),
            percentile(businesses, 0.9),
            sum(businesses) / len(businesses),
            sum(1 for v in values if v[2]),
            sum(1 for t in judged if t),
            len(judged),
        )
    return out


_DAY_COLUMNS = (
    "day",
    "member_id",
    "channel_id",
    "count",
    "sum_seconds",
    "sum_business_seconds",
    "sla_met",
    "terse",
    "judged",
    "wall_hist",
    "business_hist",
)


def _rollups_in_period(model: type[ReplyRollupDay] | type[ReplyRollupHour], filters: ReportFilters) -> QuerySet[Any]:
    qs = model.objects.filter(
        shop_id=filters.shop_id,
        day__gte=filters.first_day,
        day__lte=filters.last_day,
        # Only rollups counted in the report's time zone (a changed zone waits for its rebuild).
        shop_id__in=ReplyRollupState.objects.filter(shop_id=filters.shop_id, timezone=filters.tz.key).values("shop_id"),
    )
    if filters.channel_id is not None:
        qs = qs.filter(channel_id=filters.channel_id)
    return qs


def _raw_groups_rollup(filters: ReportFilters, wanted: tuple[Grouping, ...], *, min_replies: int) -> _RawGroups | None:
    """The groups from the rollups; None when they hold fewer than `min_replies` (or no) replies."""
    day_rows = list(_rollups_in_period(ReplyRollupDay, filters).values_list(*_DAY_COLUMNS))
    total = sum(row[3] for row in day_rows)
    if not day_rows or total < min_replies:
        return None
    # [count, sum wall, sum business, SLA met, terse, judged, packed wall histogram, packed business histogram]
    acc: dict[tuple[str, Any], list[Any]] = {}

    def add(group: tuple[str, Any], values: tuple[Any, ...]) -> None:
        target = acc.get(group)
        if target is None:
            acc[group] = list(values)
        else:
            for i, value in enumerate(values):
                target[i] += value

    day_groupings = [g for g in wanted if g in ("member", "channel", "day", "total")]
    for day, member_id, channel_id, *counters, wall, business in day_rows:
        values = (*counters, packed(wall), packed(business))
        keys = {"member": member_id, "channel": channel_id, "day": day, "total": None}
        for name in day_groupings:
            add((name, keys[name]), values)
    if "hour" in wanted:
        hour_rows = _rollups_in_period(ReplyRollupHour, filters).values_list("hour", *_DAY_COLUMNS[3:])
        for hour, *counters, wall, business in hour_rows:
            add(("hour", hour), (*counters, packed(wall), packed(business)))
    if "member" in wanted:
        _members_gone_to_none(filters, acc, add)
    out: _RawGroups = {}
    for group, (count, sum_wall, sum_business, sla_met, terse, judged, wall, business) in acc.items():
        if count <= 0:
            continue
        walls, businesses = unpack(wall), unpack(business)
        out[group] = (
            count,
            percentile_from_counts(walls, 0.5),
            percentile_from_counts(walls, 0.9),
            sum_wall / count,
            percentile_from_counts(businesses, 0.5),
            percentile_from_counts(businesses, 0.9),
            sum_business / count,
            sla_met,
            terse,
            judged,
        )
    return out


def _members_gone_to_none(filters: ReportFilters, acc: dict[tuple[str, Any], list[Any]], add: Any) -> None:
    """A deleted member's replies count as "no member", as their measurements (member SET_NULL) do."""
    ids = [key for (name, key) in acc if name == "member" and key is not None]
    present = set(Member.objects.filter(shop_id=filters.shop_id, pk__in=ids).values_list("pk", flat=True))
    for key in ids:
        if key not in present:
            add(("member", None), tuple(acc.pop(("member", key))))


def _stats(key: Any, label: str, raw: tuple[Any, ...] | None) -> GroupStats:
    if raw is None:
        return GroupStats(key, label, 0, None, None, None, None, None, None, None, None)
    count, p50, p90, avg, p50_b, p90_b, avg_b, sla_met, terse, judged = raw
    return GroupStats(
        key=key,
        label=label,
        count=int(count),
        p50_s=_float(p50),
        p90_s=_float(p90),
        avg_s=_float(avg),
        p50_business_s=_float(p50_b),
        p90_business_s=_float(p90_b),
        avg_business_s=_float(avg_b),
        sla_met_pct=100.0 * sla_met / count if count else None,
        terse_pct=100.0 * terse / judged if judged else None,
    )


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def unassigned_label() -> str:
    return _("Aplikasi platform / API")


def _label_and_order(filters: ReportFilters, raw: _RawGroups, wanted: tuple[Grouping, ...]) -> ReportGroups:
    groups = ReportGroups()
    if "member" in wanted:
        member_ids = [key for (name, key) in raw if name == "member" and key is not None]
        names = {m.pk: m.display_name for m in Member.objects.filter(pk__in=member_ids).select_related("user")}
        groups.member = sorted(
            (
                _stats(key, names.get(key, str(key)) if key is not None else unassigned_label(), value)
                for (name, key), value in raw.items()
                if name == "member"
            ),
            key=lambda s: (-s.count, s.label),
        )
    if "channel" in wanted:
        channel_ids = [key for (name, key) in raw if name == "channel"]
        labels = {c.pk: channel_label(c) for c in Channel.objects.filter(pk__in=channel_ids).only("name", "platform")}
        groups.channel = sorted(
            (_stats(key, labels.get(key, str(key)), value) for (name, key), value in raw.items() if name == "channel"),
            key=lambda s: (-s.count, s.label),
        )
    if "day" in wanted:
        groups.day = sorted(
            (_stats(key.isoformat(), key.isoformat(), value) for (name, key), value in raw.items() if name == "day"),
            key=lambda s: str(s.key),
        )
    if "hour" in wanted:
        groups.hour = sorted(
            (_stats(key, f"{key:02d}:00", value) for (name, key), value in raw.items() if name == "hour"),
            key=lambda s: int(s.key or 0),
        )
    if "total" in wanted:
        groups.total = _stats(None, _("Semua"), raw.get(("total", None)))
    return groups


def channel_label(channel: Channel) -> str:
    return f"{channel.name} ({channel.get_platform_display()})"


# ---------------------------------------------------------------------------------------------
# The dashboard's chart series


def chart_data(filters: ReportFilters, groups: ReportGroups) -> dict[str, Any]:
    """Series for the three charts; every day and hour of the period appears, empty ones as null/0."""
    by_day = {s.key: s for s in groups.day}
    days = [d.isoformat() for d in filters.days()]
    by_hour = {s.key: s for s in groups.hour}
    return {
        "days": {
            "labels": days,
            "p50_min": [_minutes(by_day[d].p50_s) if d in by_day else None for d in days],
            "p90_min": [_minutes(by_day[d].p90_s) if d in by_day else None for d in days],
            "p50_business_min": [_minutes(by_day[d].p50_business_s) if d in by_day else None for d in days],
            "count": [by_day[d].count if d in by_day else 0 for d in days],
        },
        "hours": {
            "labels": [f"{h:02d}" for h in range(24)],
            "count": [by_hour[h].count if h in by_hour else 0 for h in range(24)],
            "p50_min": [_minutes(by_hour[h].p50_s) if h in by_hour else None for h in range(24)],
        },
        "members": {
            "labels": [s.label for s in groups.member],
            "sla_met_pct": [_round(s.sla_met_pct) for s in groups.member],
            "count": [s.count for s in groups.member],
        },
    }


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60.0, 2)


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


# ---------------------------------------------------------------------------------------------
# Everything one dashboard load reads


@dataclass
class DashboardReport:
    filters: ReportFilters
    groups: ReportGroups
    charts: dict[str, Any]
    waiting: list[Conversation]
    # Every waiting conversation, not the length of the longest-waiting list shown.
    waiting_count: int
    alerts: list[Alert]
    alerts_open_count: int
    slowest: list[ReplyMeasurement]
    tersest: list[ReplyMeasurement]


def dashboard_report(filters: ReportFilters) -> DashboardReport:
    groups = report_groups(filters)
    alerts = alerts_open(filters)
    return DashboardReport(
        filters=filters,
        groups=groups,
        charts=chart_data(filters, groups),
        waiting=waiting_longest(filters),
        waiting_count=waiting_now(filters).count(),
        alerts=list(
            alerts.select_related("conversation__contact", "conversation__channel")
            .defer("conversation__channel__secrets")
            .order_by("-created_at")[:RIGHT_NOW_LIMIT]
        ),
        alerts_open_count=alerts.count(),
        slowest=slowest_replies(filters),
        tersest=tersest_replies(filters),
    )
