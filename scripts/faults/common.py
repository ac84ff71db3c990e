"""The production-like stack the fault scripts break, and the traffic they send it.

Everything runs on loopback and is owned by the script: its own redis-server (a port of its own,
never the machine's shared Redis), its own PostgreSQL database, uvicorn (2 workers, the
production settings), a Celery worker (prefork) and Celery beat. Traffic is signed webhooks in
each platform's real format (devtools.simulator builders). Checks read the database through
the Django ORM with the same settings.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import requests
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
PLATFORMS = ("whatsapp", "instagram", "messenger", "shopee", "tiktokshop")
ACCOUNT_IDS = {
    "whatsapp": "110223344556601",
    "instagram": "17841400000000001",
    "messenger": "102938475610001",
    "shopee": "880123456",
    "tiktokshop": "7495000000000000001",
}
ALWAYS_OPEN = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def exit_on_sigterm() -> None:
    """SIGTERM ends a script like Ctrl-C does, so its `finally` stops the stack it started."""

    def _raise(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _raise)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def channel_secrets(platform: str) -> dict[str, str]:
    tag = secrets.token_hex(6)
    return {
        "whatsapp": {"app_secret": f"wa-{tag}", "verify_token": f"wav-{tag}", "access_token": f"wat-{tag}"},
        "instagram": {"app_secret": f"ig-{tag}", "verify_token": f"igv-{tag}", "access_token": f"igt-{tag}"},
        "messenger": {
            "app_secret": f"fb-{tag}",
            "verify_token": f"fbv-{tag}",
            "access_token": f"fbt-{tag}",
            "app_id": "990000000000042",
        },
        "shopee": {
            "partner_id": "2001234",
            "partner_key": f"sp-{tag}",
            "access_token": f"spt-{tag}",
            "callback_url": "https://balas.example.com/webhooks/shopee/",
        },
        "tiktokshop": {
            "app_key": f"ttk-{tag}",
            "app_secret": f"tts-{tag}",
            "access_token": f"ttt-{tag}",
            "shop_cipher": f"ROW_{tag}",
        },
    }[platform]


@dataclass
class Stack:
    """One Balas installation on loopback; `env` is what every process of it runs with."""

    name: str
    redis_port: int = 6391
    web_port: int = 0
    web_workers: int = 2
    # "uvicorn" (the demo's server) or "gunicorn" (docker-compose.yml's `web`, with its command and
    # DATABASE_POOL=false for web and worker, as the compose file sets them).
    web_server: str = "uvicorn"
    worker_concurrency: int = 2
    sweep_interval_s: float = 30.0
    sweep_grace_s: int = 20
    visibility_timeout_s: int = 3600
    deadline_step_s: int = 1800
    extra_env: dict[str, str] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    # Like systemd's Restart=always, RestartSec=1 for the worker and beat (see docs/operations.md).
    supervise: bool = True
    restarts: Counter[str] = field(default_factory=Counter)
    # Processes the supervisor leaves down for now (an outage that lasts).
    hold: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.web_port = self.web_port or free_port()
        self.db_name = f"balas_fault_{self.name}"
        self.dir = ROOT / "var" / "faults" / self.name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.base_url = f"http://127.0.0.1:{self.web_port}"
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        pg = os.environ.get("FAULT_PG_URL", "postgres://postgres@127.0.0.1:5432")
        self.pg_url = pg
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "BALAS_", "CELERY_"))},
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "BALAS_SECRETS_KEY": Fernet.generate_key().decode(),
            # Production requires a VAPID key pair: the dev-only one of config/settings/local.py.
            "VAPID_PUBLIC_KEY": "BAVUxhB1f11g9kyncZ4eWW7--hJmHKwve8llODITSP2r"
            "jTeQY3v1qbCtAnvmJMEBmyyGCSmOVeS5kAsqNdom_2U",
            "VAPID_PRIVATE_KEY": "uGM4xO9CE3kdjwzosdY8iFiUOvOw0o1cX-OWQ8xK02M",
            "VAPID_SUBJECT": "mailto:ops@balas.example.com",
            "BALAS_PUBLIC_URL": self.base_url,
            "DATABASE_URL": f"{pg}/{self.db_name}",
            "DATABASE_POOL_MAX": "10",
            "REDIS_URL": self.redis_url,
            "CHANNELS_PREFIX": f"balas-fault-{self.name}",
            "CACHE_KEY_PREFIX": f"balas-fault-{self.name}",
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "BALAS_SWEEP_INTERVAL_S": str(self.sweep_interval_s),
            "BALAS_SWEEP_MEASURE_GRACE_S": str(self.sweep_grace_s),
            "CELERY_VISIBILITY_TIMEOUT": str(self.visibility_timeout_s),
            "BALAS_DEADLINE_ARM_STEP_S": str(self.deadline_step_s),
            # The traffic comes from one IP and one token on purpose: not what throttling is for.
            "BALAS_THROTTLE_MEMBER_READ": "1000000/minute",
            "BALAS_THROTTLE_MEMBER_WRITE": "1000000/minute",
            "BALAS_THROTTLE_ANON": "1000000/minute",
            "LOG_LEVEL": "INFO",
            **self.extra_env,
        }

    # --- processes ------------------------------------------------------------------------

    def _spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        out = open(self.dir / f"{name}.log", "ab")
        # Own session: a process group we can SIGKILL as a whole (the worker's pool children too).
        proc = subprocess.Popen(  # noqa: S603 - our own fixed command lines
            args, cwd=ROOT, env={**self.env, **(env or {})}, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        self.procs[name] = proc
        return proc

    def redis_start(self) -> None:
        if getattr(self, "_stopping", False):
            return  # the script is ending: nothing of this stack may outlive it
        if not shutil.which("redis-server"):
            raise SystemExit("redis-server is not installed (apt-get install redis-server)")
        self._spawn(
            "redis",
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        )
        self._wait(lambda: self._redis_ping(), 10, "redis-server to answer")

    def redis_stop(self) -> None:
        proc = self.procs.pop("redis", None)
        if proc is not None:
            proc.terminate()
            proc.wait(10)

    def _redis_ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis.from_url(self.redis_url, socket_connect_timeout=0.5).ping())
        except Exception:  # noqa: BLE001 - any failure means "not up yet"
            return False

    def database_create(self) -> None:
        with psycopg.connect(f"{self.pg_url}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.db_name}"')
        migrate = [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"]
        subprocess.run(migrate, cwd=ROOT, env=self.env, check=True)  # noqa: S603 - a fixed command

    def database_drop(self) -> None:
        with psycopg.connect(f"{self.pg_url}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')

    def web_start(self) -> None:
        if self.web_server == "gunicorn":
            self._spawn(
                "web",
                [
                    PYTHON, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{self.web_port}",
                    "--workers", str(self.web_workers), "--worker-class", "sync",
                ],
                env={"DATABASE_POOL": "false"},
            )  # fmt: skip
            self._wait(self._web_up, 60, "the web server to answer")
            return
        self._spawn(
            "web",
            [
                PYTHON, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1",
                "--port", str(self.web_port), "--workers", str(self.web_workers), "--no-access-log",
            ],
        )  # fmt: skip
        self._wait(self._web_up, 60, "the web server to answer")

    def _web_up(self) -> bool:
        try:
            return requests.get(f"{self.base_url}/login/", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def worker_start(self, name: str = "worker") -> subprocess.Popen[bytes]:
        return self._spawn(
            name,
            [
                PYTHON, "-m", "celery", "-A", "config", "worker", "--loglevel", "INFO", "--pool", "prefork",
                "--concurrency", str(self.worker_concurrency), "--hostname", f"{name}-{self.name}@%h",
                "--without-gossip", "--without-mingle",
            ],
            env={"DATABASE_POOL": "false"} if self.web_server == "gunicorn" else None,
        )  # fmt: skip

    def worker_kill(self, name: str = "worker") -> int:
        """SIGKILL the worker and its pool children at once: no shutdown, no acks, no cleanup.

        The supervisor then restarts it, as systemd or a container runtime would.
        """
        proc = self.procs[name]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        return proc.pid

    def beat_start(self) -> None:
        self._spawn(
            "beat",
            [
                PYTHON,
                "-m",
                "celery",
                "-A",
                "config",
                "beat",
                "--loglevel",
                "INFO",
                "-s",
                str(self.dir / "beat-schedule"),
            ],
        )

    def start(self) -> None:
        log(f"stack {self.name}: redis :{self.redis_port}, database {self.db_name}, web :{self.web_port}")
        self.redis_start()
        self.database_create()
        self.web_start()
        self.worker_start()
        self.beat_start()
        self._stopping = False
        if self.supervise:
            threading.Thread(target=self._supervisor, daemon=True).start()

    def _supervisor(self) -> None:
        starters: dict[str, Callable[[], object]] = {"worker": self.worker_start, "beat": self.beat_start}
        while not self._stopping:
            time.sleep(1.0)
            for name, starter in starters.items():
                proc = self.procs.get(name)
                if name in self.hold:
                    continue
                if proc is not None and proc.poll() is not None and not self._stopping:
                    log(f"supervisor: {name} exited with {proc.returncode}; restarting it")
                    self.restarts[name] += 1
                    starter()

    def stop(self) -> None:
        self._stopping = True
        for proc in list(self.procs.values()):
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        for name, proc in list(self.procs.items()):
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
            self.procs.pop(name, None)

    @staticmethod
    def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise RuntimeError(f"timed out waiting for {what}")
            time.sleep(0.2)

    # --- set-up through the public interface ----------------------------------------------

    def shop_create(self, *, target_s: int) -> dict[str, Any]:
        command = [PYTHON, "manage.py", "createshop", "Toko Uji", "--owner", "owner@example.com"]
        out = subprocess.run(  # noqa: S603 - a fixed command
            [*command, "--password", "S3cret!pass"], cwd=ROOT, env=self.env, check=True, capture_output=True, text=True
        )
        created = json.loads(out.stdout.strip().splitlines()[-1])
        api = requests.Session()
        api.headers["Authorization"] = f"Token {created['token']}"
        specs: dict[str, dict[str, Any]] = {}
        for platform in PLATFORMS:
            body: dict[str, Any] = {"platform": platform, "name": platform, "account_id": ACCOUNT_IDS[platform]}
            body["secrets"] = channel_secrets(platform)
            response = api.post(f"{self.base_url}/api/v1/channels/", json=body, timeout=10)
            response.raise_for_status()
            specs[platform] = body
        policy = {"first_reply_target_s": target_s, "reply_target_s": target_s, "business_hours": ALWAYS_OPEN}
        api.patch(f"{self.base_url}/api/v1/policy/", json=policy, timeout=10).raise_for_status()
        return {"shop": created["shop"], "token": created["token"], "channels": specs, "session": api}

    def django(self) -> None:
        """Set this process up to read the stack's database through the ORM."""
        os.environ.update(self.env)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()


# --- traffic --------------------------------------------------------------------------------


@dataclass
class Delivery:
    platform: str
    raw: bytes
    headers: dict[str, str]
    key: str  # the platform message id it carries
    kind: str  # customer | echo
    at: int  # the platform timestamp (unix seconds)


@dataclass
class Conversation:
    platform: str
    customer: Any
    asked_at: int
    reply_after_s: int | None  # None: nobody answers
    question: Delivery
    reply: Delivery | None = None


def build_conversation(
    channels: dict[str, Any], platform: str, asked_at: int, reply_after_s: int | None, rng: random.Random
) -> Conversation:
    from devtools.simulator import ChannelSpec, customer_message, customer_new, shop_echo, signed

    spec = ChannelSpec(platform, channels[platform]["account_id"], channels[platform]["secrets"])
    customer = customer_new(platform, rng)
    question = customer_message(spec, customer, text="Kak, serum ini ready? mau order 2", at=asked_at)
    raw, headers = signed(spec, question)
    asked = Delivery(platform, raw, headers, question.message_id, "customer", asked_at)
    conv = Conversation(platform, customer, asked_at, reply_after_s, asked)
    if reply_after_s is not None:
        at = asked_at + reply_after_s
        echo = shop_echo(spec, customer, text="Ready kak, silakan diorder ya. Terima kasih!", at=at)
        raw, headers = signed(spec, echo)
        conv.reply = Delivery(platform, raw, headers, echo.message_id, "echo", at)
    return conv


@dataclass
class Result:
    delivery: Delivery
    status: int | None
    seconds: float
    sent_at: float
    error: str = ""


class Sender:
    """Posts deliveries from a pool of threads; keeps every answer and its time."""

    def __init__(self, base_url: str, threads: int = 8) -> None:
        self.base_url = base_url
        self.threads = threads
        self.results: list[Result] = []
        self._lock = threading.Lock()
        self._local = threading.local()

    def _session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session

    def post(self, delivery: Delivery, timeout: float = 30.0) -> Result:
        started = time.monotonic()
        wall = time.time()
        try:
            response = self._session().post(
                f"{self.base_url}/webhooks/{delivery.platform}/",
                data=delivery.raw,
                headers=delivery.headers,
                timeout=timeout,
            )
            result = Result(delivery, response.status_code, time.monotonic() - started, wall)
            if response.status_code != 200:
                result.error = response.text[:300]
        except requests.RequestException as exc:
            result = Result(delivery, None, time.monotonic() - started, wall, repr(exc)[:300])
        with self._lock:
            self.results.append(result)
        return result

    def post_all(self, deliveries: Iterable[Delivery]) -> None:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(self.threads) as pool:
            list(pool.map(self.post, deliveries))

    def statuses(self) -> Counter[Any]:
        return Counter(r.status for r in self.results)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def wait_until(predicate: Callable[[], Any], timeout: float, interval: float = 1.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            return value
        time.sleep(interval)


def write_figures(name: str, figures: dict[str, Any]) -> Path:
    path = ROOT / "var" / "faults" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, indent=2, default=str))
    log(f"figures: {path}")
    return path


def monitoring_state(conversations: list[Conversation], target_s: int) -> dict[str, Any]:
    """What the database says about these conversations: committed, measured, alerted, doubled."""
    from django.db.models import Count

    from inbox.models import Message, WebhookEvent
    from monitoring.models import Alert, MessageTrack, ReplyMeasurement, WaitingPeriod

    keys = [c.question.key for c in conversations] + [c.reply.key for c in conversations if c.reply]
    messages = {m.platform_message_id: m for m in Message.objects.filter(platform_message_id__in=keys)}
    measured = MessageTrack.objects.filter(message__platform_message_id__in=keys).count()
    measurements = {r.message_id: r for r in ReplyMeasurement.objects.filter(message__platform_message_id__in=keys)}
    slow_by_conversation = Counter(
        Alert.objects.filter(kind__in=["slow_first_reply", "slow_reply"]).values_list("conversation_id", flat=True)
    )
    wrong_latency: list[str] = []
    unanswered_missing: list[str] = []
    fast_alerted: list[str] = []
    for conv in conversations:
        question = messages.get(conv.question.key)
        if question is None:
            continue
        alerts = slow_by_conversation.get(question.conversation_id, 0)
        # build_conversation sets the reply and its delay together.
        if conv.reply is None or conv.reply_after_s is None:
            if alerts == 0:
                unanswered_missing.append(conv.question.key)
            continue
        reply = messages.get(conv.reply.key)
        measurement = measurements.get(reply.pk) if reply is not None else None
        if measurement is None or abs(measurement.response_seconds - conv.reply_after_s) > 0.001:
            wrong_latency.append(conv.reply.key)
        elif measurement.sla_met == (conv.reply_after_s > target_s):
            wrong_latency.append(conv.reply.key)
        if conv.reply_after_s < target_s and alerts:
            fast_alerted.append(conv.reply.key)
    doubled = (
        Alert.objects.filter(waiting_period__isnull=False)
        .values("waiting_period", "kind")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    return {
        "messages_expected": len(keys),
        "messages_committed": len(messages),
        "messages_measured": measured,
        "replies_expected": sum(1 for c in conversations if c.reply),
        "reply_measurements": len(measurements),
        "replies_with_missing_or_wrong_latency": len(wrong_latency),
        "unanswered_conversations": sum(1 for c in conversations if c.reply is None),
        "unanswered_without_slow_alert": len(unanswered_missing),
        "replies_within_target_that_got_a_slow_alert": len(fast_alerted),
        "alerts_total": Alert.objects.count(),
        "alerts_by_kind": dict(Counter(Alert.objects.values_list("kind", flat=True))),
        "alerts_doubled": doubled,
        "waiting_periods": WaitingPeriod.objects.count(),
        "webhook_events": WebhookEvent.objects.count(),
        "webhook_events_by_outcome": dict(Counter(WebhookEvent.objects.values_list("outcome", flat=True))),
    }


def state_complete(state: dict[str, Any]) -> bool:
    return (
        state["messages_committed"] == state["messages_expected"]
        and state["messages_measured"] == state["messages_expected"]
        and state["reply_measurements"] == state["replies_expected"]
        and state["replies_with_missing_or_wrong_latency"] == 0
        and state["unanswered_without_slow_alert"] == 0
    )
