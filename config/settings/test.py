"""Tests: real PostgreSQL and Redis, isolated by database name and Redis db / prefix."""

from .base import *  # noqa: F403
from .base import INSTALLED_APPS, env

# The demo's commands are tested too (tests/devtools/); production does without them.
INSTALLED_APPS = [*INSTALLED_APPS, "devtools"]

DEBUG = False
SECRET_KEY = "test-only-secret-key-balas-000000000000000000000000"
ALLOWED_HOSTS = ["*"]
BALAS_SECRETS_KEY = "dGVzdC1vbmx5LWJhbGFzLXNlY3JldHMta2V5LTAwMDA="
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests run on PostgreSQL, never the embedded SQLite; one connection per thread, no pool, so
# live-server, Celery worker and Channels threads each see committed data.
DATABASES = {"default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/balas")}
DATABASES["default"]["TEST"] = {"NAME": env("TEST_DB_NAME", default="test_balas")}
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/15")
CELERY_BROKER_URL = REDIS_URL
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": env("CHANNELS_PREFIX", default="balas-test")},
    }
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PLATFORM_SEND_TIMEOUT_S = env.float("PLATFORM_SEND_TIMEOUT_S", default=2.0)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve static files from the app directories without a collectstatic run.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Throttle counters and login lockouts live in this run's own Redis db, apart from other runs.
CACHES["default"]["LOCATION"] = REDIS_URL  # noqa: F405
CACHES["default"]["KEY_PREFIX"] = env("CHANNELS_PREFIX", default="balas-test")  # noqa: F405
# A dev/test-only VAPID key pair (Web Push), never used in production (which requires its own).
VAPID_PUBLIC_KEY = env(
    "VAPID_PUBLIC_KEY",
    default="BAVUxhB1f11g9kyncZ4eWW7--hJmHKwve8llODITSP2rjTeQY3v1qbCtAnvmJMEBmyyGCSmOVeS5kAsqNdom_2U",
)
VAPID_PRIVATE_KEY = env("VAPID_PRIVATE_KEY", default="uGM4xO9CE3kdjwzosdY8iFiUOvOw0o1cX-OWQ8xK02M")
# Terse alerts at once, as the tests of alerts expect; tests/monitoring/test_tone_runs.py sets a window.
BALAS_TONE_FOLLOWUP_S = env.float("BALAS_TONE_FOLLOWUP_S", default=0.0)
