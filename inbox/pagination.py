"""The API's pagination: DRF's limit/offset, with bounds PostgreSQL can take.

Plain LimitOffsetPagination passes any positive integer to LIMIT/OFFSET, and a value above
bigint's range (`?limit=20276731499780481024`, found by the schema fuzzer) made the list
endpoints answer 500. A limit above `max_limit` gives `max_limit` rows; an offset past the end
gives an empty page, as it always did.
"""

from __future__ import annotations

from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request

# Far beyond any real table, far below PostgreSQL's bigint limit (2**63 - 1).
MAX_OFFSET = 10**12


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    max_limit = 500

    def get_offset(self, request: Request) -> int:
        return min(super().get_offset(request), MAX_OFFSET)
