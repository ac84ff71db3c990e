import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

# Django must be set up before the consumers (and their models) are imported.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from inbox.middleware import AsgiBodyLimit  # noqa: E402
from inbox.routing import websocket_urlpatterns  # noqa: E402
from inbox.ws_auth import OriginCheckedWhenPresent, TokenOrSessionAuthMiddleware  # noqa: E402

application = ProtocolTypeRouter(
    {
        # Refuse oversized bodies before Django spools them (webhook URLs are public).
        "http": AsgiBodyLimit(django_asgi_app),
        # Origin checked when the client sends one (a browser always does); see inbox/ws_auth.py.
        "websocket": OriginCheckedWhenPresent(TokenOrSessionAuthMiddleware(URLRouter(websocket_urlpatterns))),
    }
)
