"""The rules an `api` channel's pushed message must meet before it is stored (ingest stores it).

A pushed `sent_at` is the client's claim. One from year 548 was stored and answered in Jakarta's
local mean time of that year (`+07:07:12`, not an RFC 3339 offset: schemathesis found it); one
days ahead would open a waiting period that ends in the future. Both skew every latency the
shop sees, so the time must lie between 2000-01-01 and a day from now (clocks drift, not by days).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

EARLIEST_SENT_AT = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_AHEAD = timedelta(days=1)


def push_sent_at_check(*, sent_at: datetime) -> None:
    """Raise ValidationError({"sent_at": ...}) unless `sent_at` is a plausible time for a message."""
    if sent_at < EARLIEST_SENT_AT or sent_at > timezone.now() + LATEST_AHEAD:
        raise ValidationError({"sent_at": _("sent_at harus antara 2000-01-01 dan satu hari dari sekarang.")})
