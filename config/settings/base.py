"""Settings shared by every environment; each value comes from the environment."""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

from inbox.api.schema_components import ERROR_COMPONENTS

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS: list[str] = env.list("DJANGO_ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    # The login lockout (configured below, extended in inbox/throttling.py).
    "axes",
    "csp",
    "inbox",
    "monitoring",
]

MIDDLEWARE = [
    # REMOTE_ADDR from X-Forwarded-For only when the peer is a trusted proxy, before anything reads it.
    "inbox.middleware.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every response (CONTENT_SECURITY_POLICY below).
    "inbox.csp.BalasCSPMiddleware",
    # Refuses oversized bodies (413) before anything reads them.
    "inbox.middleware.BodySizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.member: the member behind a session or a member token, looked up on first read.
    "inbox.middleware.MemberMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Turns a login refused by the lockout into its 429 page; axes wants it last.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# SQLite is the embedded default; DATABASE_URL points at PostgreSQL in production and tests.
_database = env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
if _database["ENGINE"] == "django.db.backends.postgresql":
    # Under ASGI persistent connections exhaust PostgreSQL; the psycopg pool does not
    # (docs/benchmarks.md, "Choosing the server"). CONN_MAX_AGE must stay 0 with the pool.
    if env.bool("DATABASE_POOL", default=True):
        _database["CONN_MAX_AGE"] = 0
        _database.setdefault("OPTIONS", {})["pool"] = {
            "min_size": env.int("DATABASE_POOL_MIN", default=2),
            "max_size": env.int("DATABASE_POOL_MAX", default=20),
            "timeout": 10,
        }
if _database["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default has the web server, the Celery worker and beat writing at once:
    # WAL lets readers run beside the writer, IMMEDIATE takes the write lock at BEGIN (so a
    # transaction waits for it instead of failing halfway with "database is locked"), and the
    # timeout is how long it waits.
    _database.setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A task that never finishes (a lock that never comes, a server that never answers) gives its
# worker back: the soft limit raises inside the task, the hard one kills it. Each task family sets
# its own pair (monitoring/tasks.py: TIME_LIMITS); these hold for any task that sets none.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=120)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=150)
# Redis outages must not slow webhooks down: a publish fails after one quick retry (the sweep
# measures what was not queued), and connecting gives up after 2 s instead of hanging.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2.0)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Long enough that no ETA task we schedule outlives it (deadlines are re-armed in shorter steps).
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    "socket_connect_timeout": 2,
    # Above kombu's 1 s BRPOP poll, so an idle worker is never cut off.
    "socket_timeout": 10,
    "retry_on_timeout": True,
}
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    # Monitoring safety net: overdue deadlines, messages whose task was lost, due alert e-mails.
    "monitoring-sweep": {
        "task": "monitoring.tasks.sweep",
        "schedule": env.float("BALAS_SWEEP_INTERVAL_S", default=30.0),
    },
    # Members' e-mail digests (each at its own interval; this only looks for those that are due).
    "notification-digests": {
        "task": "monitoring.tasks.notification_digests",
        "schedule": env.float("BALAS_DIGEST_CHECK_INTERVAL_S", default=60.0),
    },
}

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            # Like the broker: connecting gives up after 2 s; socket_timeout is above
            # channels-redis' 5 s blocking receive.
            "hosts": [
                {
                    "address": env("CHANNELS_REDIS_URL", default=REDIS_URL),
                    "socket_connect_timeout": 2,
                    "socket_timeout": 10,
                }
            ],
            "prefix": env("CHANNELS_PREFIX", default="balas"),
            # channels-redis drops events silently past a socket's queue capacity (default 100): a
            # burst of alerts or messages to a busy shop must not lose live events.
            "capacity": env.int("CHANNELS_CAPACITY", default=1000),
            "expiry": 60,
        },
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
AUTHENTICATION_BACKENDS = [
    # django-axes' lockout check first: a locked-out client is refused before its password is tried.
    "inbox.throttling.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "id"
LANGUAGES = [("id", _("Bahasa Indonesia")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Jakarta"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

REST_FRAMEWORK = {
    # The client's address is REMOTE_ADDR as inbox.middleware.TrustedProxyMiddleware set it; with
    # the default (None) DRF keys anonymous throttling on whatever X-Forwarded-For a client sends.
    "NUM_PROXIES": 0,
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "inbox.auth.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Documents every operation's error answers (inbox/api/autoschema.py).
    "DEFAULT_SCHEMA_CLASS": "inbox.api.autoschema.BalasAutoSchema",
    # JSON bodies only: form and multipart bodies cannot carry the nested objects the API takes
    # (a channel's secrets, a pushed message's contact), so they get 415, as the schema says. A
    # view that takes a file sets its own parser_classes (and the schema follows). JSON with a depth
    # limit and without NaN / Infinity (inbox/jsonbody.py): a 400, never a 500.
    "DEFAULT_PARSER_CLASSES": ["inbox.parsers.BoundedJSONParser"],
    # Limit/offset with bounds PostgreSQL accepts: a huge ?limit= or ?offset= was a 500.
    "DEFAULT_PAGINATION_CLASS": "inbox.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 50,
    # Per member token or login, per `api` channel token, per IP when anonymous; the rates are
    # BALAS_THROTTLE_RATES below.
    "DEFAULT_THROTTLE_CLASSES": ["inbox.throttling.ApiRateThrottle"],
    "EXCEPTION_HANDLER": "rest_framework.views.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Balas API",
    "DESCRIPTION": "One inbox for WhatsApp, Instagram, Messenger, Shopee and TikTok Shop, "
    "with reply-time and tone monitoring.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI served from the installed sidecar package: no CDN at run time.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Message and Conversation both have a `status`: give each enum its own stable name.
    "ENUM_NAME_OVERRIDES": {
        "MessageStatusEnum": "inbox.models.Message.Status",
        "ConversationStatusEnum": "inbox.models.Conversation.Status",
        "MessageKindEnum": "inbox.models.Message.Kind",
    },
    # A required text field refuses "" (DRF's allow_blank=False): the schema says so (minLength 1).
    "ENFORCE_NON_BLANK_FIELDS": True,
    # The error bodies every operation documents (inbox/api/autoschema.py).
    "APPEND_COMPONENTS": {"schemas": ERROR_COMPONENTS},
}

# Enforced, not report-only: no inline script, handler or style anywhere (pages load their code
# from static/; htmx runs with allowEval off and no injected indicator <style>, see base.html).
# tests/browser/test_csp.py visits every page and fails on any violation.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # Attachment images and avatars live on each platform's CDN (hosts vary by platform and
        # region), so any https image; data: for the SVG icons in Swagger UI's stylesheet. An
        # image cannot run code.
        "img-src": [SELF, "https:", "data:"],
        # inbox.csp adds ws:// and wss:// of the request's own host for /ws/inbox/.
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Fernet key (urlsafe base64, 32 bytes) that encrypts channel secrets at rest.
BALAS_SECRETS_KEY = env("BALAS_SECRETS_KEY", default="")
# Public base URL of this deployment, used to show each channel's webhook URL.
BALAS_PUBLIC_URL = env("BALAS_PUBLIC_URL", default="http://127.0.0.1:8000")
# Web Push (VAPID, RFC 8292): the application server's key pair, base64url (the public key as the
# uncompressed P-256 point browsers take as applicationServerKey, the private key as its 32 raw
# bytes), and the contact the push services may reach ("mailto:..." or "https://...").
# Empty: Web Push is off (production requires them, config/settings/production.py).
VAPID_PUBLIC_KEY = env("VAPID_PUBLIC_KEY", default="")
VAPID_PRIVATE_KEY = env("VAPID_PRIVATE_KEY", default="")
VAPID_SUBJECT = env("VAPID_SUBJECT", default="mailto:admin@balas.local")
# How long a push service keeps an undelivered alert for an offline phone.
BALAS_PUSH_TTL_S = env.int("BALAS_PUSH_TTL_S", default=3600)
# Push services are HTTPS; plain-HTTP subscription endpoints are taken only with DEBUG or this
# (the tests' local push service stand-in, devtools/push_service.py).
BALAS_PUSH_ALLOW_HTTP = env.bool("BALAS_PUSH_ALLOW_HTTP", default=False)
# An admin's follow-ups this soon after a reply are judged with it (monitoring.services.tone_runs).
BALAS_TONE_FOLLOWUP_S = env.float("BALAS_TONE_FOLLOWUP_S", default=90.0)
# Webhook bodies above this are refused before parsing (platform payloads are a few KB).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024)

# Outbound platform APIs; tests and the demo point these at local stand-in servers.
WHATSAPP_API_BASE = env("WHATSAPP_API_BASE", default="https://graph.facebook.com/v21.0")
INSTAGRAM_API_BASE = env("INSTAGRAM_API_BASE", default="https://graph.instagram.com/v21.0")
MESSENGER_API_BASE = env("MESSENGER_API_BASE", default="https://graph.facebook.com/v21.0")
SHOPEE_API_BASE = env("SHOPEE_API_BASE", default="https://partner.shopeemobile.com")
TIKTOKSHOP_API_BASE = env("TIKTOKSHOP_API_BASE", default="https://open-api.tiktokglobalshop.com")
PLATFORM_SEND_TIMEOUT_S = env.float("PLATFORM_SEND_TIMEOUT_S", default=10.0)
# The first retry's wait (doubled each time) of a customer-profile fetch the platform failed (inbox.tasks).
BALAS_PROFILE_FETCH_BACKOFF_S = env.float("BALAS_PROFILE_FETCH_BACKOFF_S", default=5.0)

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Balas <noreply@balas.local>")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # urllib3 logs each request URL at DEBUG, and Shopee's and TikTok Shop's carry access
        # tokens and signing keys in the query string: keep it quiet even with LOG_LEVEL=DEBUG.
        "urllib3": {"level": "INFO"},
    },
}

# Monitoring: deadlines are armed in steps well under the broker's visibility timeout.
BALAS_DEADLINE_ARM_STEP_S = env.int("BALAS_DEADLINE_ARM_STEP_S", default=30 * 60)
# At most one alert e-mail per shop per this many minutes; later alerts go out as one summary.
BALAS_ALERT_EMAIL_THROTTLE_MINUTES = env.float("BALAS_ALERT_EMAIL_THROTTLE_MINUTES", default=10.0)
# At most one browser notification per member per this many seconds, summarising what arrived
# (monitoring.services.browser_notify); the first alert of a burst waits GATHER_S for the rest.
BALAS_ALERT_NOTIFY_INTERVAL_S = env.int("BALAS_ALERT_NOTIFY_INTERVAL_S", default=60)
BALAS_ALERT_NOTIFY_GATHER_S = env.float("BALAS_ALERT_NOTIFY_GATHER_S", default=2.0)
# The sweep leaves messages younger than this to their own measuring task.
BALAS_SWEEP_MEASURE_GRACE_S = env.int("BALAS_SWEEP_MEASURE_GRACE_S", default=20)

# --- reliability and abuse limits ---------------------------------------------------------------
# After a Redis failure, skip further best-effort publishes for this long (per process).
BALAS_REDIS_BREAKER_COOLDOWN_S = env.float("BALAS_REDIS_BREAKER_COOLDOWN_S", default=5.0)

# Shared by every web process: API throttling and wrong-token counters.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env("CACHE_URL", default=REDIS_URL),
        "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="balas"),
        "TIMEOUT": 300,
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}

# API throttling (REST_FRAMEWORK's DEFAULT_THROTTLE_CLASSES): rates per scope, as
# "<n>/<second|minute|hour|day>"; a view may name its own scope with `throttle_scope`.
BALAS_THROTTLE_RATES: dict[str, str | None] = {
    "anon": env("BALAS_THROTTLE_ANON", default="120/minute"),
    "member_read": env("BALAS_THROTTLE_MEMBER_READ", default="1200/minute"),
    "member_write": env("BALAS_THROTTLE_MEMBER_WRITE", default="300/minute"),
    "channel_push": env("BALAS_THROTTLE_CHANNEL_PUSH", default="3000/minute"),
}

# The proxies in front of Balas (addresses or CIDRs, comma-separated): X-Forwarded-For counts only
# from these peers (inbox.middleware.TrustedProxyMiddleware under gunicorn; uvicorn reads the same
# variable through --forwarded-allow-ips in docker-compose.yml). docs/operations.md, "Behind a proxy".
BALAS_TRUSTED_PROXIES: list[str] = env.list("BALAS_TRUSTED_PROXIES", default=["127.0.0.1"])

# Browser and admin login (django-axes): an address + username is locked out after this many
# failures, an address after BALAS_LOGIN_MAX_FAILURES_PER_IP over any usernames (password
# spraying), for BALAS_LOGIN_LOCKOUT_S after the last failure. inbox/throttling.py: LockoutHandler.
BALAS_LOGIN_MAX_FAILURES = env.int("BALAS_LOGIN_MAX_FAILURES", default=5)
BALAS_LOGIN_MAX_FAILURES_PER_IP = env.int("BALAS_LOGIN_MAX_FAILURES_PER_IP", default=50)
BALAS_LOGIN_LOCKOUT_S = env.int("BALAS_LOGIN_LOCKOUT_S", default=15 * 60)
AXES_FAILURE_LIMIT = BALAS_LOGIN_MAX_FAILURES
AXES_LOCKOUT_PARAMETERS = [["ip_address", "username"], "ip_address"]
AXES_COOLOFF_TIME = timedelta(seconds=BALAS_LOGIN_LOCKOUT_S)
AXES_HANDLER = "inbox.throttling.LockoutHandler"
AXES_USERNAME_CALLABLE = "inbox.throttling.lockout_username"
AXES_CLIENT_IP_CALLABLE = "inbox.throttling.client_address"
AXES_LOCKOUT_CALLABLE = "inbox.throttling.login_lockout_response"
# A correct password clears its address + username's failures; guesses made while locked out
# neither count nor push the lockout's end further away.
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Only failures are kept (a row per address + username); successful logins are not logged.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False

# Wrong API tokens (Authorization: Token ...): after this many from one address in the window,
# that address gets 429 with Retry-After until the window ends (inbox/auth.py).
BALAS_TOKEN_MAX_FAILURES = env.int("BALAS_TOKEN_MAX_FAILURES", default=20)
BALAS_TOKEN_FAILURE_WINDOW_S = env.int("BALAS_TOKEN_FAILURE_WINDOW_S", default=10 * 60)

# JSON bodies (webhooks, the API) nested deeper than this are refused with 400 (inbox/jsonbody.py).
BALAS_JSON_MAX_DEPTH = env.int("BALAS_JSON_MAX_DEPTH", default=64)

# Request bodies above this get 413 before any view reads them (platform payloads are a few KB).
BALAS_MAX_BODY_BYTES = env.int("BALAS_MAX_BODY_BYTES", default=DATA_UPLOAD_MAX_MEMORY_SIZE)
