"""Business-hours arithmetic: pure functions over aware datetimes, no database.

A schedule maps weekday keys (`mon` .. `sun`) to lists of `["HH:MM", "HH:MM"]` ranges in the
shop's local time; `"24:00"` may close a range at midnight. Opening hours are expanded per local
calendar day through zoneinfo, so a time zone with daylight saving still counts real seconds.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_BUSINESS_HOURS: dict[str, list[list[str]]] = {
    **{day: [["08:00", "21:00"]] for day in WEEKDAYS[:6]},
    "sun": [],
}
ALWAYS_OPEN: dict[str, list[list[str]]] = {day: [["00:00", "24:00"]] for day in WEEKDAYS}

_TIME_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")

# (start minute, end minute) of the local day; end may be 1440 (midnight at the end of the day).
Ranges = tuple[tuple[int, int], ...]
Schedule = tuple[Ranges, ...]  # indexed by weekday number (Monday = 0)


class ScheduleError(ValueError):
    """A schedule or time zone a shop cannot use; the message says what is wrong."""


def default_business_hours() -> dict[str, list[list[str]]]:
    return {day: [list(r) for r in ranges] for day, ranges in DEFAULT_BUSINESS_HOURS.items()}


def timezone_clean(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ScheduleError("timezone must be an IANA time zone name such as 'Asia/Jakarta'.")
    name = name.strip()
    if name not in _zone_names():
        raise ScheduleError(f"Unknown time zone '{name}'; use an IANA name such as 'Asia/Jakarta'.")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(f"Unknown time zone '{name}'.") from exc
    return name


def _zone_names() -> set[str]:
    return available_timezones() | {"UTC"}


def _minute(value: Any, *, day: str, allow_midnight_end: bool) -> int:
    if not isinstance(value, str):
        raise ScheduleError(f"{day}: times must be strings in HH:MM form, got {value!r}.")
    if allow_midnight_end and value == "24:00":
        return 24 * 60
    match = _TIME_RE.match(value)
    if match is None:
        raise ScheduleError(f"{day}: '{value}' is not a time in HH:MM form (00:00 to 23:59, or 24:00 as an end).")
    return int(match.group(1)) * 60 + int(match.group(2))


def business_hours_clean(raw: Any) -> dict[str, list[list[str]]]:
    """Validate a weekly schedule and return it normalized (every weekday present, ranges sorted).

    Days left out are closed. Raises ScheduleError naming the first problem found.
    """
    if not isinstance(raw, Mapping):
        raise ScheduleError("business_hours must be an object keyed by weekday (mon, tue, ... sun).")
    unknown = [str(k) for k in raw if k not in WEEKDAYS]
    if unknown:
        names = ", ".join(repr(k) for k in unknown)
        raise ScheduleError(f"Unknown weekday {names}; use mon, tue, wed, thu, fri, sat, sun.")
    cleaned: dict[str, list[list[str]]] = {}
    for day in WEEKDAYS:
        ranges = raw.get(day, [])
        if ranges is None:
            ranges = []
        if not isinstance(ranges, Sequence) or isinstance(ranges, str):
            raise ScheduleError(f'{day}: must be a list of ["HH:MM", "HH:MM"] ranges.')
        parsed: list[tuple[int, int, str, str]] = []
        for item in ranges:
            if not isinstance(item, Sequence) or isinstance(item, str) or len(item) != 2:
                raise ScheduleError(f'{day}: each range must be a pair ["HH:MM", "HH:MM"], got {item!r}.')
            start = _minute(item[0], day=day, allow_midnight_end=False)
            end = _minute(item[1], day=day, allow_midnight_end=True)
            if end <= start:
                raise ScheduleError(f"{day}: range {item[0]}-{item[1]} must end after it starts.")
            parsed.append((start, end, item[0], item[1]))
        parsed.sort()
        for (_s1, e1, a1, b1), (s2, _e2, a2, b2) in pairwise(parsed):
            if s2 < e1:
                raise ScheduleError(f"{day}: ranges {a1}-{b1} and {a2}-{b2} overlap.")
        cleaned[day] = [[a, b] for _s, _e, a, b in parsed]
    if not any(cleaned.values()):
        raise ScheduleError("business_hours has no open hours on any day; a shop open all week uses 00:00-24:00.")
    return cleaned


def schedule_compile(hours: Mapping[str, Any]) -> Schedule:
    """Compile a (cleaned) schedule; an empty schedule counts as always open so time never stalls."""
    days: list[Ranges] = []
    for day in WEEKDAYS:
        ranges = []
        for start, end in hours.get(day) or []:
            s = 0 if start == "24:00" else int(start[:2]) * 60 + int(start[3:])
            e = 1440 if end == "24:00" else int(end[:2]) * 60 + int(end[3:])
            if e > s:
                ranges.append((s, e))
        days.append(tuple(sorted(ranges)))
    if not any(days):
        return tuple(((0, 1440),) for _ in WEEKDAYS)
    return tuple(days)


def _local_instant(day: date, minute: int, tz: ZoneInfo) -> datetime:
    if minute >= 1440:
        day, minute = day + timedelta(days=1), minute - 1440
    local = datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=tz)
    return local.astimezone(UTC)


def open_intervals(start: datetime, schedule: Schedule, tz: ZoneInfo) -> Iterator[tuple[datetime, datetime]]:
    """Yield the opening intervals (UTC) that end after `start`, in order, clipped to begin at `start`."""
    if start.tzinfo is None:
        raise ValueError("start must be time-zone aware")
    day = start.astimezone(tz).date() - timedelta(days=1)
    last_end: datetime | None = None
    while True:
        for s_min, e_min in schedule[day.weekday()]:
            s = _local_instant(day, s_min, tz)
            e = _local_instant(day, e_min, tz)
            if e <= start:
                continue
            s = max(s, start)
            # Adjacent ranges (23:00-24:00 then 00:00-08:00) are merged into one interval.
            if last_end is not None and s <= last_end:
                s = last_end
            if e <= s:
                continue
            last_end = e
            yield s, e
        day += timedelta(days=1)


def business_seconds_between(start: datetime, end: datetime, hours: Mapping[str, Any], tz_name: str) -> float:
    """Seconds of opening time in [start, end): nights, closed days and weekends do not count."""
    if end <= start:
        return 0.0
    tz = ZoneInfo(tz_name)
    total = 0.0
    for s, e in open_intervals(start, schedule_compile(hours), tz):
        if s >= end:
            break
        total += (min(e, end) - s).total_seconds()
    return total


def business_deadline(start: datetime, target_seconds: float, hours: Mapping[str, Any], tz_name: str) -> datetime:
    """The instant when `target_seconds` of opening time have passed since `start`.

    A period starting outside opening hours starts counting at the next opening; a deadline that
    would fall after closing moves into the next opening hours.
    """
    tz = ZoneInfo(tz_name)
    remaining = timedelta(seconds=max(0.0, float(target_seconds)))
    intervals = open_intervals(start, schedule_compile(hours), tz)
    s, e = next(intervals)
    if remaining == timedelta(0):
        return s
    while True:
        length = e - s
        if remaining <= length:
            return s + remaining
        remaining -= length
        s, e = next(intervals)


def next_opening(at: datetime, hours: Mapping[str, Any], tz_name: str) -> datetime:
    """`at` itself when the shop is open then, otherwise the next opening."""
    s, _e = next(open_intervals(at, schedule_compile(hours), ZoneInfo(tz_name)))
    return s


def is_open(at: datetime, hours: Mapping[str, Any], tz_name: str) -> bool:
    return next_opening(at, hours, tz_name) == at


def ranges_format(ranges: Sequence[Sequence[str]]) -> str:
    """`[["08:00","12:00"],["13:00","21:00"]]` -> `08:00-12:00, 13:00-21:00` (the settings form)."""
    return ", ".join(f"{a}-{b}" for a, b in ranges)


def ranges_parse(text: str, *, day: str) -> list[list[str]]:
    """The settings form's `08:00-12:00, 13:00-21:00`; blank means closed."""
    result: list[list[str]] = []
    for part in (text or "").replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        pieces = [p.strip() for p in part.split("-")]
        if len(pieces) != 2:
            raise ScheduleError(f"{day}: '{part}' is not a range like 08:00-21:00.")
        result.append(pieces)
    return result


__all__ = [
    "ALWAYS_OPEN",
    "DEFAULT_BUSINESS_HOURS",
    "WEEKDAYS",
    "ScheduleError",
    "business_deadline",
    "business_hours_clean",
    "business_seconds_between",
    "default_business_hours",
    "is_open",
    "next_opening",
    "open_intervals",
    "ranges_format",
    "ranges_parse",
    "schedule_compile",
    "timezone_clean",
]


def warning_moment(
    start: datetime, target_seconds: float, warn_pct: int, deadline: datetime, hours: Mapping[str, Any], tz_name: str
) -> datetime | None:
    """When `warn_pct` percent of the target's opening time has passed since `start`, or None when
    that is not before the deadline (the breach would come first or together: no warning)."""
    warn_at = business_deadline(start, target_seconds * warn_pct / 100, hours, tz_name)
    return warn_at if warn_at < deadline else None
