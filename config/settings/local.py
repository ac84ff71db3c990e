"""Local development and the demo: DEBUG on, insecure defaults allowed."""

from .base import *  # noqa: F403
from .base import INSTALLED_APPS, env

# The demo seed and the customer simulator (`seeddemo`, `simulate`); production does without them.
INSTALLED_APPS = [*INSTALLED_APPS, "devtools"]

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="local-dev-only-not-secret-balas-0000000000000000")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
# A fixed dev key so a local database keeps decrypting across restarts; never used in production.
BALAS_SECRETS_KEY = env("BALAS_SECRETS_KEY", default="ZGV2LW9ubHktYmFsYXMtc2VjcmV0cy1rZXktMDAwMDA=")
# The demo serves static files straight from the app and project folders (no collectstatic).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# A dev/test-only VAPID key pair (Web Push), never used in production (which requires its own).
VAPID_PUBLIC_KEY = env(
    "VAPID_PUBLIC_KEY",
    default="BAVUxhB1f11g9kyncZ4eWW7--hJmHKwve8llODITSP2rjTeQY3v1qbCtAnvmJMEBmyyGCSmOVeS5kAsqNdom_2U",
)
VAPID_PRIVATE_KEY = env("VAPID_PRIVATE_KEY", default="uGM4xO9CE3kdjwzosdY8iFiUOvOw0o1cX-OWQ8xK02M")
