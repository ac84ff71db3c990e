"""Meta's timestamps: seconds or milliseconds, numbers or strings; unusable ones take the delivery's time."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from inbox.adapters.meta import meta_time

T = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)  # 1700000000 s


@pytest.mark.parametrize(
    "value", [1700000000, "1700000000", 1700000000000, "1700000000000", 1700000000.0, " 1700000000"]
)
def test_seconds_and_milliseconds_as_numbers_or_strings(value):
    assert meta_time(value) == (T, False)


def test_milliseconds_keep_their_fraction():
    assert meta_time(1700000000123) == (T + timedelta(milliseconds=123), False)


@pytest.mark.parametrize(
    "value",
    [
        None,
        0,
        "0",
        "",
        "soon",
        "2021-09-08T06:34:04+0000",
        True,
        False,
        -5,
        10**400,
        1e300,
        math.nan,
        math.inf,
        [1],
        {"s": 1},
    ],
)
def test_missing_zero_or_unusable_is_the_delivery_time(value):
    before = timezone.now()
    at, missing = meta_time(value)
    assert missing is True
    assert before <= at <= timezone.now()
