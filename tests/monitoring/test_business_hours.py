"""Business-time arithmetic (pure): nights, weekends, closed days, midnight, deadlines."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from monitoring.business_hours import (
    DEFAULT_BUSINESS_HOURS,
    ScheduleError,
    business_deadline,
    business_hours_clean,
    business_seconds_between,
    is_open,
    timezone_clean,
)

WIB = ZoneInfo("Asia/Jakarta")
TZ = "Asia/Jakarta"
HOURS = DEFAULT_BUSINESS_HOURS  # Mon–Sat 08:00–21:00, Sunday closed


def wib(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    # March 2026: the 2nd is a Monday, the 7th a Saturday, the 8th a Sunday.
    return datetime(2026, 3, day, hour, minute, second, tzinfo=WIB)


def test_inside_opening_hours_counts_wall_time():
    assert business_seconds_between(wib(2, 10), wib(2, 10, 7), HOURS, TZ) == 420


def test_night_is_not_counted():
    # 10 minutes before closing on Monday + 10 minutes after opening on Tuesday.
    assert business_seconds_between(wib(2, 20, 50), wib(3, 8, 10), HOURS, TZ) == 1200


def test_weekend_sunday_closed_is_not_counted():
    # Saturday 20:55 -> Monday 08:05: 5 + 5 minutes.
    assert business_seconds_between(wib(7, 20, 55), wib(9, 8, 5), HOURS, TZ) == 600


def test_period_entirely_outside_hours_is_zero():
    assert business_seconds_between(wib(8, 9), wib(8, 18), HOURS, TZ) == 0


def test_start_before_opening_counts_from_opening():
    assert business_seconds_between(wib(2, 6), wib(2, 8, 1), HOURS, TZ) == 60


def test_closed_weekday():
    hours = {**HOURS, "wed": []}
    # Tuesday 20:59 -> Thursday 08:01: 1 + 1 minutes; Wednesday does not count at all.
    assert business_seconds_between(wib(3, 20, 59), wib(5, 8, 1), hours, TZ) == 120


def test_split_shift_lunch_break():
    hours = {**HOURS, "mon": [["08:00", "12:00"], ["13:00", "21:00"]]}
    assert business_seconds_between(wib(2, 11, 50), wib(2, 13, 10), hours, TZ) == 1200


def test_hours_across_midnight():
    # A night shop: Mon 20:00-24:00 and Tue 00:00-02:00 form one continuous opening.
    hours = {"mon": [["20:00", "24:00"]], "tue": [["00:00", "02:00"]]}
    assert business_seconds_between(wib(2, 23, 55), wib(3, 0, 5), hours, TZ) == 600
    assert business_deadline(wib(2, 23, 58), 300, hours, TZ) == wib(3, 0, 3)
    # After 02:00 on Tuesday the shop is closed until Monday 20:00.
    assert business_deadline(wib(3, 1, 58), 300, hours, TZ) == wib(9, 20, 3)


def test_deadline_inside_hours_is_start_plus_target():
    assert business_deadline(wib(2, 10), 300, HOURS, TZ) == wib(2, 10, 5)


def test_deadline_after_closing_moves_into_next_opening():
    assert business_deadline(wib(2, 20, 58), 300, HOURS, TZ) == wib(3, 8, 3)


def test_deadline_over_the_weekend():
    assert business_deadline(wib(7, 20, 58), 300, HOURS, TZ) == wib(9, 8, 3)


def test_period_starting_outside_hours_counts_from_next_opening():
    assert business_deadline(wib(8, 10), 300, HOURS, TZ) == wib(9, 8, 5)  # Sunday -> Monday
    assert business_deadline(wib(3, 6, 30), 300, HOURS, TZ) == wib(3, 8, 5)  # before opening


def test_other_time_zone():
    makassar = ZoneInfo("Asia/Makassar")  # UTC+8
    start = datetime(2026, 3, 2, 20, 58, tzinfo=makassar)
    assert business_deadline(start, 300, HOURS, "Asia/Makassar") == datetime(2026, 3, 3, 8, 3, tzinfo=makassar)
    # The same instant is 19:58 in Jakarta, inside the hours there.
    assert business_deadline(start, 300, HOURS, TZ) == start + timedelta(minutes=5)


def test_daylight_saving_day_counts_real_seconds():
    hours = {d: [["00:00", "24:00"]] for d in ("sat", "sun")}
    ny = ZoneInfo("America/New_York")
    # 2026-03-08 is the US spring-forward Sunday: that local day has 23 hours.
    start, end = datetime(2026, 3, 8, 0, 0, tzinfo=ny), datetime(2026, 3, 9, 0, 0, tzinfo=ny)
    assert business_seconds_between(start, end, hours, "America/New_York") == 23 * 3600


def test_deadline_and_seconds_agree():
    start = wib(7, 19, 0)
    deadline = business_deadline(start, 5 * 3600, HOURS, TZ)
    assert business_seconds_between(start, deadline, HOURS, TZ) == 5 * 3600
    assert is_open(deadline - timedelta(seconds=1), HOURS, TZ)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"mon": [["8am", "21:00"]]}, "not a time in HH:MM"),
        ({"mon": [["08:00", "25:00"]]}, "not a time in HH:MM"),
        ({"mon": [["08:00", "13:00"], ["12:00", "21:00"]]}, "overlap"),
        ({"funday": [["08:00", "21:00"]]}, "Unknown weekday 'funday'"),
        ({"mon": [["21:00", "08:00"]]}, "must end after it starts"),
        ({"mon": [["08:00"]]}, "pair"),
        ({"mon": "08:00-21:00"}, "list"),
        ({d: [] for d in ("mon", "tue")}, "no open hours"),
        (["mon"], "object keyed by weekday"),
    ],
)
def test_schedule_validation_names_the_problem(raw, message):
    with pytest.raises(ScheduleError, match=message):
        business_hours_clean(raw)


def test_schedule_clean_normalizes():
    cleaned = business_hours_clean({"mon": [["13:00", "21:00"], ["08:00", "12:00"]], "sun": [["00:00", "24:00"]]})
    assert cleaned["mon"] == [["08:00", "12:00"], ["13:00", "21:00"]]
    assert cleaned["tue"] == []
    assert cleaned["sun"] == [["00:00", "24:00"]]


def test_timezone_validation():
    assert timezone_clean("Asia/Jayapura") == "Asia/Jayapura"
    with pytest.raises(ScheduleError, match="Unknown time zone"):
        timezone_clean("Asia/Bandung")
