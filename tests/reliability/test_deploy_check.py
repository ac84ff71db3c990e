"""`manage.py check --deploy` is clean under the production settings with the required env set."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]


def _production_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "BALAS_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="k" * 20 + "-production-like-secret-key-for-the-check-0123456789",
        DJANGO_ALLOWED_HOSTS="balas.example.com",
        BALAS_SECRETS_KEY=Fernet.generate_key().decode(),
        DATABASE_URL=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/balas"),
        VAPID_PUBLIC_KEY="BAVUxhB1f11g9kyncZ4eWW7--hJmHKwve8llODITSP2rjTeQY3v1qbCtAnvmJMEBmyyGCSmOVeS5kAsqNdom_2U",
        VAPID_PRIVATE_KEY="uGM4xO9CE3kdjwzosdY8iFiUOvOw0o1cX-OWQ8xK02M",
        VAPID_SUBJECT="mailto:ops@balas.example.com",
    )
    env.update(extra)
    return env


def _check(env: dict[str, str], *, program: tuple[str, ...] = ("manage.py",)) -> subprocess.CompletedProcess[str]:
    return _manage(env, "check", "--deploy", "--fail-level", "WARNING", program=program)


def _manage(env: dict[str, str], *args: str, program: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *program, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean():
    result = _check(_production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_can_fail():
    # The check is real: a short secret key and an HTTP-only deployment are reported.
    result = _check(_production_env(DJANGO_SECRET_KEY="short", DJANGO_SECURE_SSL_REDIRECT="false"))
    assert result.returncode != 0
    assert "security.W009" in result.stderr + result.stdout
    assert "security.W008" in result.stderr + result.stdout


def test_production_refuses_to_start_without_its_secrets():
    env = _production_env()
    del env["BALAS_SECRETS_KEY"]
    result = _check(env)
    assert result.returncode != 0
    assert "BALAS_SECRETS_KEY" in result.stderr


# Production images leave devtools/ out (.dockerignore): make the package unimportable and run
# the deploy check, which loads every installed app, the URLconf and the views.
_WITHOUT_DEVTOOLS = """
import sys
from importlib.abc import MetaPathFinder

class NoDevtools(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "devtools":
            raise ModuleNotFoundError(f"No module named {name!r} (left out of production)", name=name)
        return None

sys.meta_path.insert(0, NoDevtools())
from django.core.management import execute_from_command_line
execute_from_command_line(sys.argv)
"""


def test_production_needs_no_devtools():
    result = _check(_production_env(), program=("-c", _WITHOUT_DEVTOOLS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    # The demo's commands are not there at all, not merely broken.
    commands = _manage(_production_env(), "help", "--commands", program=("-c", _WITHOUT_DEVTOOLS))
    assert commands.returncode == 0, commands.stderr
    assert "createshop" in commands.stdout.split()
    assert "seeddemo" not in commands.stdout.split()
    assert "simulate" not in commands.stdout.split()
