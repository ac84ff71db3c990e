"""The servers of docker-compose.yml, started with its exact commands on loopback for a test.

The command is read from the file (so a change there is what gets tested), with only the
listening address changed: `0.0.0.0:8000` / `--host 0.0.0.0 --port 8001` become 127.0.0.1 and a
free port. `$$` is compose's escape for a `$` the container's shell expands. The server runs
the production settings against this test run's database and Redis; its output (stdout and
stderr) is kept for the test to read. Like scripts/faults/common.py, each server gets its own
session so it is stopped as a whole (gunicorn's and uvicorn's workers too).
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def compose_command(service: str, port: int) -> list[str]:
    """docker-compose.yml's command for `service`, listening on 127.0.0.1:`port`."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    command = compose["services"][service]["command"]
    text = command if isinstance(command, str) else shlex.join(command)
    text = text.replace("$$", "$")
    replaced = re.sub(r"0\.0\.0\.0:\d+", f"127.0.0.1:{port}", text)
    replaced = re.sub(r"--host 0\.0\.0\.0 --port \d+", f"--host 127.0.0.1 --port {port}", replaced)
    if replaced == text:
        raise AssertionError(f"no listening address to replace in the {service} command: {text}")
    return shlex.split(replaced)


def compose_environment(service: str) -> dict[str, str]:
    """The service's own `environment:` values that need no secrets (DATABASE_POOL, ...)."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    values = compose["services"][service].get("environment") or {}
    plain = {k: str(v) for k, v in values.items() if "${" not in str(v)}
    return plain


def server_environment(service: str, **extra: str) -> dict[str, str]:
    database = settings.DATABASES["default"]
    url = f"postgres://{database['USER'] or 'postgres'}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "BALAS_", "CELERY_"))}
    env.update(compose_environment(service))
    env.update(
        PYTHONUNBUFFERED="1",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="server-test-" + "k" * 50,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_SSL_REDIRECT="false",
        # The secrets the factories encrypted channel secrets with.
        BALAS_SECRETS_KEY=settings.BALAS_SECRETS_KEY,
        # Production requires a VAPID key pair: the test settings' dev-only one.
        VAPID_PUBLIC_KEY=settings.VAPID_PUBLIC_KEY,
        VAPID_PRIVATE_KEY=settings.VAPID_PRIVATE_KEY,
        VAPID_SUBJECT="mailto:ops@balas.example.com",
        DATABASE_URL=f"{url}/{database['NAME']}",
        REDIS_URL=settings.REDIS_URL,
        CHANNELS_PREFIX=settings.CHANNEL_LAYERS["default"]["CONFIG"].get("prefix", "balas-test"),
        CACHE_KEY_PREFIX=str(settings.CACHES["default"].get("KEY_PREFIX", "balas-test")),
        WEB_CONCURRENCY="1",
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        BALAS_THROTTLE_ANON="1000000/minute",
    )
    env.update(extra)
    return env


@dataclass
class Server:
    service: str
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.3)
        return s.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def compose_server(service: str, **extra_env: str) -> Iterator[Server]:
    port = free_port()
    argv = compose_command(service, port)
    log = tempfile.NamedTemporaryFile(prefix=f"balas-{service}-", suffix=".log", delete=False)
    proc = subprocess.Popen(
        argv,
        cwd=ROOT,
        env=server_environment(service, **extra_env),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = Server(service, port, proc, Path(log.name))
    try:
        deadline = time.monotonic() + 60
        while not _listening(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{service} did not start: {' '.join(argv)}\n{server.output()[-3000:]}")
            time.sleep(0.2)
        yield server
    finally:
        _stop(proc)
        log.close()


def _stop(proc: subprocess.Popen[Any]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)
