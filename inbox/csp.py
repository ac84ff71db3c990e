"""The Content-Security-Policy header: django-csp's middleware, with the WebSocket of the page's own host.

`connect-src 'self'` covers ws:/wss: of the same origin in CSP Level 3 browsers, but older ones
(and some proxies' rewritten hosts) need the WebSocket origin spelled out. The page opens
`ws(s)://<its host>/ws/inbox/`, so exactly that host is added, never a bare `ws:` / `wss:`
scheme (which would let an injected script talk to any host). The host is the validated one
(`request.get_host()` checks ALLOWED_HOSTS).
"""

from __future__ import annotations

from csp.middleware import CSPMiddleware, PolicyParts
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponseBase


class BalasCSPMiddleware(CSPMiddleware):
    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        try:
            host = request.get_host()
        except DisallowedHost:
            return parts
        update = dict(parts.update or {})
        update["connect-src"] = [*update.get("connect-src", []), f"ws://{host}", f"wss://{host}"]
        parts.update = update
        return parts
