"""The API's pagination: DRF's limit/offset, strict about its parameters, with bounds PostgreSQL can take.

Plain LimitOffsetPagination quietly falls back to the defaults for a value it cannot read
(`?offset=null`, `?limit=0`, `?offset=-3` answered page one, found by schemathesis): a client's
mistake looked like data. Here a value that is not a whole number in range is a 400 naming the
parameter, as the schema (`minimum`) says. A limit above `max_limit` gives `max_limit` rows and
an offset past the end gives an empty page, as documented: both are valid requests. A value above
bigint's range (`?limit=20276731499780481024`) made PostgreSQL fail, so offsets are capped.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request

# Far beyond any real table, far below PostgreSQL's bigint limit (2**63 - 1).
MAX_OFFSET = 10**12


def _whole_number(request: Request, name: str, minimum: int) -> int | None:
    values = request.query_params.getlist(name)
    if not values:
        return None
    if len(values) > 1:
        raise ValidationError({name: [f"give {name} once"]})
    raw = values[0]
    if not (raw.isascii() and raw.isdigit()) or int(raw) < minimum:
        raise ValidationError({name: [f"must be a whole number, at least {minimum}"]})
    return int(raw)


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    max_limit = 500

    def get_limit(self, request: Request) -> int | None:
        limit = _whole_number(request, self.limit_query_param, 1)
        if limit is None:
            return self.default_limit
        return min(limit, self.max_limit) if self.max_limit else limit

    def get_offset(self, request: Request) -> int:
        offset = _whole_number(request, self.offset_query_param, 0)
        return min(offset or 0, MAX_OFFSET)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.limit_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
                parameter["description"] = (
                    f"Rows per page, default {self.default_limit}; above {self.max_limit} gives {self.max_limit}."
                )
            elif parameter["name"] == self.offset_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 0}
                parameter["description"] = "Rows to skip; past the end gives an empty page."
        return parameters
