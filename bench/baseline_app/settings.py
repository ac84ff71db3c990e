"""The deployed settings with only the URLconf swapped: same middleware, database settings and server."""

from config.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.baseline_app.urls"
