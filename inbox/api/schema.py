"""The OpenAPI document: how it describes Balas's token auth, and the view that serves it.

The generator itself (error answers of every operation) is inbox/api/autoschema.py.

drf-spectacular loads its optional extensions lazily and not thread-safely: two first requests at
once (a threaded server, the demo's readiness probes) can fail with "'NoneType' object has no
attribute 'startswith'" (tfranzel/drf-spectacular#1122). Schema requests are rare, so they wait
for each other.
"""

from __future__ import annotations

import threading
from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SCHEMA_KWARGS, SpectacularAPIView


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "inbox.auth.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A member's or an `api` channel's token, as \"Token <token>\".",
        }


_generating = threading.Lock()


class SerialSpectacularAPIView(SpectacularAPIView):
    # The schema view describes itself as drf-spectacular's own does (normally: left out).
    @extend_schema(**SCHEMA_KWARGS)
    def get(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        with _generating:
            return super().get(request, *args, **kwargs)
