"""What the system benchmark's parts share: processes in their own groups, databases, bodies, statistics.

Nothing here imports Django: the orchestrator drives the system from outside, as a load balancer would.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import platform
import signal
import statistics
import subprocess
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
WORK = Path(os.environ.get("BENCH_WORK", "/tmp/balas-bench"))


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of unsorted values; nan when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values: Iterable[float]) -> float:
    items = list(values)
    return statistics.median(items) if items else float("nan")


# --- databases -------------------------------------------------------------------------------


def pg_admin(sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        cur = conn.execute(sql, params)  # type: ignore[arg-type]
        return cur.fetchall() if cur.description else []


def database_recreate(name: str) -> None:
    database_drop(name)
    pg_admin(f'CREATE DATABASE "{name}"')


def database_drop(name: str) -> None:
    pg_admin(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
        [name],
    )
    pg_admin(f'DROP DATABASE IF EXISTS "{name}"')


def pg_query(db: str, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(f"{PG}/{db}", autocommit=True) as conn:
        cur = conn.execute(sql, params)  # type: ignore[arg-type]
        return cur.fetchall() if cur.description else []


# --- processes -------------------------------------------------------------------------------


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pgid(self) -> int:
        return self.popen.pid  # started with start_new_session: its own process group

    def members(self) -> list[int]:
        """Every live process of this group (the server and the workers it forked)."""
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[2]) == self.pgid:
                pids.append(int(entry.name))
        return pids


@dataclass
class Procs:
    started: list[Proc] = field(default_factory=list)

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> Proc:
        WORK.mkdir(parents=True, exist_ok=True)
        log = WORK / f"{name}.log"
        handle = log.open("wb")
        popen = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        proc = Proc(name, popen, log)
        self.started.append(proc)
        return proc

    def stop(self, proc: Proc, timeout: float = 15.0) -> None:
        """SIGTERM to the process group we created, SIGKILL to what is left after `timeout`."""
        if proc.popen.poll() is None:
            try:
                os.killpg(proc.pgid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and (proc.popen.poll() is None or proc.members()):
            time.sleep(0.1)
        if proc.popen.poll() is None or proc.members():
            try:
                os.killpg(proc.pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.popen.wait(timeout=5)
        if proc in self.started:
            self.started.remove(proc)

    def stop_all(self) -> None:
        for proc in reversed(list(self.started)):
            self.stop(proc)


def rss_kb(pid: int) -> tuple[int, int]:
    """(current RSS, peak RSS = VmHWM) of a process in kB; (0, 0) when it is gone."""
    now = peak = 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                now = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                peak = int(line.split()[1])
    except OSError:
        pass
    return now, peak


def wait_http(url: str, timeout: float = 30.0) -> None:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return  # any HTTP answer: the server is up
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer within {timeout:.0f} s") from None
            time.sleep(0.2)


# --- signed WhatsApp bodies ------------------------------------------------------------------


def whatsapp_body(
    *, account_id: str, app_secret: str, message_id: str, wa_id: str, name: str, text: str, timestamp: int
) -> tuple[bytes, str]:
    """One customer text message as WhatsApp Cloud posts it, and its X-Hub-Signature-256."""
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "WABA-BENCH",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "6281100000000", "phone_number_id": account_id},
                            "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
                            "messages": [
                                {
                                    "from": wa_id,
                                    "id": message_id,
                                    "timestamp": str(timestamp),
                                    "type": "text",
                                    "text": {"body": text},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    body = json.dumps(payload, separators=(",", ":")).encode()
    signature = "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return body, signature


TEXTS = [
    "Kak, yang warna navy ukuran M masih ready?",
    "Halo min, ongkir ke Surabaya berapa ya?",
    "Kapan dikirim kak? Sudah transfer tadi pagi",
    "Bisa COD nggak kak?",
    "Serum yang 30ml harganya berapa?",
]


def bodies_generate(
    *, account_id: str, app_secret: str, run: str, count: int, contacts: int, timestamp: int | None = None
) -> list[tuple[bytes, str, str]]:
    """`count` distinct messages from `contacts` customers: (body, signature, platform message id)."""
    ts = int(time.time()) if timestamp is None else timestamp
    out = []
    for i in range(count):
        message_id = f"wamid.bench.{run}.{i}"
        customer = i % contacts
        body, signature = whatsapp_body(
            account_id=account_id,
            app_secret=app_secret,
            message_id=message_id,
            wa_id=f"62812{customer:08d}",
            name=f"Pelanggan {customer}",
            text=TEXTS[i % len(TEXTS)],
            timestamp=ts,
        )
        out.append((body, signature, message_id))
    return out


def bodies_write_jsonl(path: Path, bodies: Sequence[tuple[bytes, str, str]]) -> None:
    with path.open("w") as handle:
        for body, signature, message_id in bodies:
            handle.write(json.dumps({"b": body.decode(), "s": signature, "id": message_id}) + "\n")


def bodies_write_lua(path: Path, bodies: Sequence[tuple[bytes, str, str]]) -> None:
    """A Lua chunk returning {{body, signature}, ...} for wrk (long brackets: JSON never holds ]==])."""
    with path.open("w") as handle:
        handle.write("return {\n")
        for body, signature, _ in bodies:
            handle.write(f'{{[==[{body.decode()}]==], "{signature}"}},\n')
        handle.write("}\n")


# --- the machine -----------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])

    def version(argv: list[str]) -> str:
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout.strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return "?"

    import django

    return {
        "cpu": cpu,
        "nproc": str(os.cpu_count()),
        "memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "kernel": platform.release(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": pg_admin("SHOW server_version")[0][0],
        "redis": version(["redis-server", "--version"]).split(" v=")[1].split()[0]
        if "v=" in version(["redis-server", "--version"])
        else "?",
        "wrk": version(["wrk", "--version"]).split(" [")[0],
        "gunicorn": version([str(ROOT / ".venv/bin/gunicorn"), "--version"]),
        "uvicorn": version([str(ROOT / ".venv/bin/uvicorn"), "--version"]).split(" with ")[0],
        "celery": version([str(ROOT / ".venv/bin/celery"), "--version"]),
    }
