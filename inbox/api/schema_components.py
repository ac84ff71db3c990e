"""The API's shared error bodies, as plain data: config/settings/base.py appends them to the schema.

Kept free of Django and DRF imports because the settings module imports it.
"""

from __future__ import annotations

from typing import Any

ERROR_DETAIL = "#/components/schemas/ErrorDetail"
VALIDATION_ERROR = "#/components/schemas/ValidationError"

ERROR_COMPONENTS: dict[str, Any] = {
    "ErrorDetail": {
        "type": "object",
        "description": "An error that is not about one field: not authenticated, not allowed, not found, "
        "unsupported media type, throttled, or a body that is not JSON.",
        "properties": {"detail": {"type": "string"}},
        "required": ["detail"],
    },
    "ValidationError": {
        "type": "object",
        "description": "What is wrong with the request: each wrong field (a body field or a query parameter) "
        "with its messages, nested like the body; `non_field_errors` for the whole body; or `detail` "
        "for a body that cannot be parsed.",
        "additionalProperties": {},
    },
}
