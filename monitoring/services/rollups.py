"""Rollups of reply measurements: kept equal to the measurements in the same transaction.

Every create, change or delete of a ReplyMeasurement goes with one `rollup_apply(old=..., new=...)`
(after the measurement write, in the same transaction): the old contribution is subtracted and the new
one added to two tables, per (shop, local day, member, channel) and per (shop, local day, local hour,
channel): counts, sums, SLA-met / terse / judged counts and log-scale histograms (monitoring.histogram)
of the wall-clock and business-hours seconds. The dashboard reads them instead of sorting every reply of
a month (monitoring.reports).

Concurrency: each rollup row is read and written under its row lock (SELECT ... FOR UPDATE), rows are
locked in one global order (day table, then hour table, each by key) so two writers never deadlock on
them, and a writer reads the shop's rollup time zone under a share lock that a rebuild takes
exclusively: a rebuild sees every measurement committed before it, and a writer waiting behind a
rebuild computes its delta in the new time zone.

Rebuild (`rollups_rebuild`, `manage.py rebuildrollups`): recomputes a shop's rows from its measurements.
Needed after the report time zone changes (policy_update calls it), after measurements were written
around the services (bulk loads, admin deletions), and done automatically the first time a shop without
rollups records a measurement.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone as dj_timezone

from inbox.models import Shop
from monitoring.histogram import bucket_of, counts_add, counts_decode, counts_encode
from monitoring.models import ReplyMeasurement, ReplyRollupDay, ReplyRollupHour, ReplyRollupState
from monitoring.reports import report_timezone

logger = logging.getLogger("balas.monitoring")

SNAPSHOT_FIELDS = (
    "shop_id",
    "channel_id",
    "member_id",
    "replied_at",
    "response_seconds",
    "response_business_seconds",
    "sla_met",
    "terse",
)


@dataclass(frozen=True)
class MeasurementSnapshot:
    """What a measurement contributes to the rollups."""

    shop_id: int
    channel_id: int
    member_id: int | None
    replied_at: datetime
    response_seconds: float
    response_business_seconds: float
    sla_met: bool
    terse: bool | None

    @classmethod
    def of(cls, measurement: ReplyMeasurement) -> MeasurementSnapshot:
        return cls(*(getattr(measurement, name) for name in SNAPSHOT_FIELDS))


@dataclass
class RollupChanges:
    """Measurement changes of one transaction, applied together at its end (one lock order)."""

    old: list[MeasurementSnapshot] = field(default_factory=list)
    new: list[MeasurementSnapshot] = field(default_factory=list)

    def changed(self, *, old: MeasurementSnapshot | None, new: MeasurementSnapshot | None) -> None:
        if old == new:
            return
        if old is not None:
            self.old.append(old)
        if new is not None:
            self.new.append(new)

    def deleted(self, *, queryset: QuerySet[ReplyMeasurement]) -> int:
        """Delete the measurements, remembering what they contributed."""
        rows = list(queryset.only("pk", *(n.removesuffix("_id") for n in SNAPSHOT_FIELDS)))
        if not rows:
            return 0
        self.old.extend(MeasurementSnapshot.of(m) for m in rows)
        ReplyMeasurement.objects.filter(pk__in=[m.pk for m in rows]).delete()
        return len(rows)


@dataclass
class _Delta:
    count: int = 0
    sum_seconds: float = 0.0
    sum_business_seconds: float = 0.0
    sla_met: int = 0
    terse: int = 0
    judged: int = 0
    wall: Counter[int] = field(default_factory=Counter)
    business: Counter[int] = field(default_factory=Counter)

    def add(self, snap: MeasurementSnapshot, sign: int) -> None:
        self.count += sign
        self.sum_seconds += sign * snap.response_seconds
        self.sum_business_seconds += sign * snap.response_business_seconds
        self.sla_met += sign * bool(snap.sla_met)
        self.terse += sign * bool(snap.terse)
        self.judged += sign * (snap.terse is not None)
        self.wall[bucket_of(snap.response_seconds)] += sign
        self.business[bucket_of(snap.response_business_seconds)] += sign


DayKey = tuple[date, int | None, int]  # day, member, channel
HourKey = tuple[date, int, int]  # day, hour, channel


def _keys(snap: MeasurementSnapshot, tz: ZoneInfo) -> tuple[DayKey, HourKey]:
    local = snap.replied_at.astimezone(tz)
    day = local.date()
    return (day, snap.member_id, snap.channel_id), (day, local.hour, snap.channel_id)


@transaction.atomic
def rollup_apply(
    *,
    old: Iterable[MeasurementSnapshot] | MeasurementSnapshot | None = None,
    new: Iterable[MeasurementSnapshot] | MeasurementSnapshot | None = None,
) -> None:
    """Subtract the old contributions and add the new ones. Call after the measurement writes."""
    signed: Counter[MeasurementSnapshot] = Counter()
    for snap in _as_list(old):
        signed[snap] -= 1
    for snap in _as_list(new):
        signed[snap] += 1
    by_shop: dict[int, list[tuple[MeasurementSnapshot, int]]] = {}
    for snap, sign in signed.items():
        if sign:
            by_shop.setdefault(snap.shop_id, []).append((snap, sign))
    for shop_id in sorted(by_shop):
        tz = _state_timezone_locked(shop_id)
        if tz is None:
            # First rollup of this shop: build from the measurements, this transaction's writes included.
            rollups_rebuild(shop_id=shop_id)
            continue
        days: dict[DayKey, _Delta] = {}
        hours: dict[HourKey, _Delta] = {}
        for snap, sign in by_shop[shop_id]:
            day_key, hour_key = _keys(snap, tz)
            days.setdefault(day_key, _Delta()).add(snap, sign)
            hours.setdefault(hour_key, _Delta()).add(snap, sign)
        consistent = True
        for (day, member_id, channel_id), delta in sorted(days.items(), key=lambda kv: _sortable(kv[0])):
            key = {"shop_id": shop_id, "day": day, "member_id": member_id, "channel_id": channel_id}
            consistent &= _row_apply(ReplyRollupDay, key, delta)
        for (day, hour, channel_id), delta in sorted(hours.items(), key=lambda kv: _sortable(kv[0])):
            key = {"shop_id": shop_id, "day": day, "hour": hour, "channel_id": channel_id}
            consistent &= _row_apply(ReplyRollupHour, key, delta)
        if not consistent:
            # Something wrote measurements around this service. Reports fall back to exact figures
            # until the next write (or `rebuildrollups`) rebuilds the shop's rollups.
            logger.error("rollup.drift shop=%s", shop_id)
            # After commit, in its own statement: deleting here could deadlock with other writers
            # holding the same share lock.
            transaction.on_commit(_state_forget(shop_id))


def _state_forget(shop_id: int) -> Callable[[], None]:
    def forget() -> None:
        ReplyRollupState.objects.filter(shop_id=shop_id).delete()

    return forget


def _as_list(
    value: Iterable[MeasurementSnapshot] | MeasurementSnapshot | None,
) -> list[MeasurementSnapshot]:
    if value is None:
        return []
    if isinstance(value, MeasurementSnapshot):
        return [value]
    return list(value)


def _sortable(key: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(-1 if part is None else part for part in key)


def _state_timezone_locked(shop_id: int) -> ZoneInfo | None:
    """The shop's rollup time zone, share-locked until commit; None when the shop has no rollups."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT timezone FROM {ReplyRollupState._meta.db_table} WHERE shop_id = %s FOR SHARE",  # noqa: S608
                [shop_id],
            )
            row = cursor.fetchone()
        name = row[0] if row else None
    else:
        # SQLite runs one writer at a time: the write transaction itself is the lock.
        name = ReplyRollupState.objects.filter(shop_id=shop_id).values_list("timezone", flat=True).first()
    return ZoneInfo(name) if name else None


def _row_apply(model: type[ReplyRollupDay] | type[ReplyRollupHour], key: dict[str, Any], delta: _Delta) -> bool:
    """Apply a delta to one rollup row under its lock; False if it would go negative (then clamped)."""
    row = model.objects.select_for_update().filter(**key).first()
    if row is None:
        if delta.count < 0 or any(v < 0 for v in (*delta.wall.values(), *delta.business.values())):
            return False  # taking away what was never added
        if delta.count == 0:
            return True
        try:
            with transaction.atomic():
                row = model.objects.create(**key)
        except IntegrityError:
            # Another writer created it first (its insert waited for our check): lock theirs.
            row = model.objects.select_for_update().get(**key)
    consistent = True
    row.count += delta.count
    row.sum_seconds += delta.sum_seconds
    row.sum_business_seconds += delta.sum_business_seconds
    row.sla_met += delta.sla_met
    row.terse += delta.terse
    row.judged += delta.judged
    for name in ("count", "sla_met", "terse", "judged"):
        if getattr(row, name) < 0:
            setattr(row, name, 0)
            consistent = False
    for attr, changes in (("wall_hist", delta.wall), ("business_hist", delta.business)):
        counts = counts_decode(getattr(row, attr))
        for bucket, change in changes.items():
            if not change:
                continue
            try:
                counts_add(counts, bucket, change)
            except ValueError:
                counts_add(counts, bucket, -counts[bucket] if bucket < len(counts) else 0)
                consistent = False
        setattr(row, attr, counts_encode(counts))
    if row.count == 0:
        if row.wall_hist or row.business_hist:
            consistent = False
        row.delete()
    else:
        row.save()
    return consistent


# ---------------------------------------------------------------------------------------------
# Rebuild


def rollup_timezone(shop_id: int) -> ZoneInfo:
    """The time zone the reports use for this shop (monitoring.reports.report_timezone)."""
    return report_timezone(Shop.objects.only("timezone").get(pk=shop_id))


@dataclass
class _Acc:
    count: int = 0
    sum_seconds: float = 0.0
    sum_business_seconds: float = 0.0
    sla_met: int = 0
    terse: int = 0
    judged: int = 0
    wall: list[int] = field(default_factory=list)
    business: list[int] = field(default_factory=list)

    def add(self, wall: float, business: float, sla_met: bool, terse: bool | None) -> None:
        self.count += 1
        self.sum_seconds += wall
        self.sum_business_seconds += business
        self.sla_met += bool(sla_met)
        self.terse += bool(terse)
        self.judged += terse is not None
        counts_add(self.wall, bucket_of(wall), 1)
        counts_add(self.business, bucket_of(business), 1)

    def fields(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "sum_seconds": self.sum_seconds,
            "sum_business_seconds": self.sum_business_seconds,
            "sla_met": self.sla_met,
            "terse": self.terse,
            "judged": self.judged,
            "wall_hist": counts_encode(self.wall),
            "business_hist": counts_encode(self.business),
        }


@transaction.atomic
def rollups_rebuild(*, shop_id: int) -> int:
    """Recompute a shop's rollups from its measurements, in the report time zone. Returns the count."""
    tz = rollup_timezone(shop_id)
    try:
        with transaction.atomic():
            ReplyRollupState.objects.get_or_create(shop_id=shop_id, defaults={"timezone": tz.key})
    except IntegrityError:
        pass  # created concurrently; the lock below waits for it
    # Exclusive: writers hold the share lock until they commit, so everything they wrote is visible
    # to the statements below, and writers after us wait and then use the new time zone.
    state = ReplyRollupState.objects.select_for_update().get(shop_id=shop_id)
    ReplyRollupDay.objects.filter(shop_id=shop_id).delete()
    ReplyRollupHour.objects.filter(shop_id=shop_id).delete()
    days: dict[DayKey, _Acc] = {}
    hours: dict[HourKey, _Acc] = {}
    total = 0
    for channel_id, member_id, replied_at, wall, business, sla_met, terse in _measurement_values(shop_id):
        local = replied_at.astimezone(tz)
        day = local.date()
        day_acc = days.get((day, member_id, channel_id))
        if day_acc is None:
            day_acc = days[(day, member_id, channel_id)] = _Acc()
        hour_acc = hours.get((day, local.hour, channel_id))
        if hour_acc is None:
            hour_acc = hours[(day, local.hour, channel_id)] = _Acc()
        day_acc.add(wall, business, sla_met, terse)
        hour_acc.add(wall, business, sla_met, terse)
        total += 1
    ReplyRollupDay.objects.bulk_create(
        (
            ReplyRollupDay(shop_id=shop_id, day=day, member_id=member_id, channel_id=channel_id, **acc.fields())
            for (day, member_id, channel_id), acc in days.items()
        ),
        batch_size=1000,
    )
    ReplyRollupHour.objects.bulk_create(
        (
            ReplyRollupHour(shop_id=shop_id, day=day, hour=hour, channel_id=channel_id, **acc.fields())
            for (day, hour, channel_id), acc in hours.items()
        ),
        batch_size=1000,
    )
    state.timezone = tz.key
    state.rebuilt_at = dj_timezone.now()
    state.save(update_fields=["timezone", "rebuilt_at"])
    logger.info("rollup.rebuilt shop=%s tz=%s measurements=%s rows=%s", shop_id, tz.key, total, len(days) + len(hours))
    return total


def _measurement_values(shop_id: int) -> Iterator[tuple[Any, ...]]:
    return (
        ReplyMeasurement.objects.filter(shop_id=shop_id)
        .values_list(
            "channel_id",
            "member_id",
            "replied_at",
            "response_seconds",
            "response_business_seconds",
            "sla_met",
            "terse",
        )
        .iterator(chunk_size=10_000)
    )


def rollups_rebuild_all() -> dict[int, int]:
    """Rebuild every shop that has measurements or rollups; {shop id: measurements}."""
    shop_ids = set(ReplyMeasurement.objects.values_list("shop_id", flat=True).distinct())
    shop_ids |= set(ReplyRollupState.objects.values_list("shop_id", flat=True))
    return {shop_id: rollups_rebuild(shop_id=shop_id) for shop_id in sorted(shop_ids)}


@transaction.atomic
def reply_measurements_delete(*, message_ids: Iterable[int]) -> int:
    """Delete the measurements of these messages (before the messages go), keeping the rollups equal."""
    changes = RollupChanges()
    deleted = changes.deleted(queryset=ReplyMeasurement.objects.filter(message_id__in=list(message_ids)))
    if deleted:
        rollup_apply(old=changes.old)
    return deleted
