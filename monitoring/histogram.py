"""Log-scale histograms of response times, as the rollups store them (pure functions, no database).

Buckets: bucket 0 holds values below 1 s; bucket k >= 1 holds [B**(k-1), B**k) with B = 1.05 (5%
relative width), so 1 s .. 7 days takes about 273 buckets; values past B**500 (over 1,000 years) share
the last bucket. The thresholds are one fixed list of floats and the bucket is found by bisection, so
the same value lands in the same bucket whenever and wherever it is computed.

Stored form: the bucket counts as little-endian uint32, bucket 0 first, trailing empty buckets left out.
Read as one (little-endian) integer, field k sits at bits 32k..32k+31, so adding two such integers adds
the histograms field by field: merging a month of rows is a few thousand big-integer additions instead
of hundreds of thousands of per-bucket rows. A field never overflows: one group's count in one bucket
stays far below 2**32.

Percentiles (`percentile_from_counts`): the value of rank i (0-based, ascending) is estimated inside its
bucket [L, U) as L + (U - L) * (j + 0.5) / c, j being its position among the bucket's c values; the
fraction p then interpolates between ranks floor(p(n-1)) and ceil(p(n-1)) exactly as percentile_cont
does. Each rank's estimate is off by less than its bucket's width: under 1 s in bucket 0, under 5% of
the value above 1 s; the interpolation is a weighted mean of two such estimates, so

    |estimate - exact percentile_cont| < 1 s + 5% of the exact value.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence

BASE = 1.05
LAST_BUCKET = 501
# THRESHOLDS[k] is the lower bound of bucket k + 1.
THRESHOLDS: tuple[float, ...] = tuple(BASE**k for k in range(LAST_BUCKET))
_FIELD_BITS = 32
_FIELD_BYTES = _FIELD_BITS // 8


def bucket_of(seconds: float) -> int:
    """The bucket of a response time (negative or NaN values go to bucket 0)."""
    if not seconds >= 1.0:  # also NaN
        return 0
    return bisect_right(THRESHOLDS, seconds)


def bucket_bounds(bucket: int) -> tuple[float, float]:
    if bucket <= 0:
        return 0.0, 1.0
    low = THRESHOLDS[bucket - 1]
    return low, low * BASE


def counts_encode(counts: Sequence[int]) -> bytes:
    """Bucket counts (index = bucket) as stored: uint32 little-endian, trailing zeros trimmed."""
    end = len(counts)
    while end and not counts[end - 1]:
        end -= 1
    out = bytearray()
    for value in counts[:end]:
        if value < 0:
            raise ValueError("a histogram count cannot be negative")
        out += int(value).to_bytes(_FIELD_BYTES, "little")
    return bytes(out)


def counts_decode(blob: bytes | memoryview | None) -> list[int]:
    data = bytes(blob or b"")
    return [int.from_bytes(data[i : i + _FIELD_BYTES], "little") for i in range(0, len(data), _FIELD_BYTES)]


def packed(blob: bytes | memoryview | None) -> int:
    """The stored histogram as one integer; sums of these are merged histograms."""
    return int.from_bytes(bytes(blob or b""), "little")


def unpack(value: int) -> list[int]:
    """Bucket counts of a (merged) packed histogram."""
    if value <= 0:
        return []
    nbytes = -(-value.bit_length() // _FIELD_BITS) * _FIELD_BYTES
    return counts_decode(value.to_bytes(nbytes, "little"))


def counts_add(counts: list[int], bucket: int, delta: int) -> list[int]:
    """Add `delta` to one bucket (in place, growing the list); refuses to go below zero."""
    if bucket >= len(counts):
        counts.extend([0] * (bucket + 1 - len(counts)))
    value = counts[bucket] + delta
    if value < 0:
        raise ValueError(f"histogram bucket {bucket} would become {value}")
    counts[bucket] = value
    return counts


def percentile_from_counts(counts: Sequence[int], fraction: float) -> float | None:
    """percentile_cont estimated from bucket counts (see the module docstring for the error bound)."""
    n = sum(counts)
    if n == 0:
        return None
    rank = fraction * (n - 1)
    lo, hi = math.floor(rank), math.ceil(rank)
    low_value = _rank_value(counts, lo)
    high_value = low_value if hi == lo else _rank_value(counts, hi)
    return low_value + (high_value - low_value) * (rank - lo)


def _rank_value(counts: Sequence[int], rank: int) -> float:
    before = 0
    for bucket, count in enumerate(counts):
        if count and rank < before + count:
            low, high = bucket_bounds(bucket)
            return low + (high - low) * (rank - before + 0.5) / count
        before += count
    raise IndexError(rank)
