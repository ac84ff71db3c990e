"""The system benchmark: Balas as deployed on this machine, driven from separate load processes on loopback.

    . .venv/bin/activate && python bench/bench_system.py [--no-write] [--only throughput,latency,ws,alerts]

It starts, in their own process groups, on private ports (8800-8802, Redis 6395) and databases:
  web     gunicorn config.wsgi, sync workers, persistent DB connections (webhooks, API, pages)
  ws      uvicorn config.asgi, the WebSocket server (/ws/), psycopg pool
  worker  celery worker (prefork, as deployed), beat
  bare    gunicorn bench.baseline_app.wsgi: the same server and settings with one bare INSERT view,
          started only for the throughput comparison
and measures:
  1. webhook -> admin WebSocket latency at 100 messages/s (loadgen.py, open loop);
  2. webhook latency at a steady 300 messages/s (loadgen.py, open loop, timed from the scheduled send);
  3. sustained throughput, bare view vs signed webhook, alternating rounds (wrk, pre-signed distinct bodies);
  4. on a fresh database: 10,000 conversations waiting with deadlines spread 90-150 s ahead, a real
     worker and beat; alert.created_at - deadline_at for every alert, and the owner's socket receipt.
Figures are printed and written to the "System" section of docs/benchmarks.md, and the summary table at
the top of that file is refreshed. Every process started here is stopped and the databases dropped.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    PG,
    ROOT,
    WORK,
    Proc,
    Procs,
    bodies_generate,
    bodies_write_jsonl,
    bodies_write_lua,
    database_drop,
    database_recreate,
    machine,
    median,
    percentile,
    pg_query,
    rss_kb,
    wait_http,
)

PY = sys.executable
VENV_BIN = Path(PY).parent
DB_WEB = os.environ.get("BENCH_DB_WEB", "balas_bench_web")
DB_ALERTS = os.environ.get("BENCH_DB_ALERTS", "balas_bench_alerts")
# Its own redis-server (no persistence), so nothing it does can touch anyone else's Redis data.
REDIS_PORT = int(os.environ.get("BENCH_REDIS_PORT", "6395"))
REDIS_URL = f"redis://127.0.0.1:{REDIS_PORT}/0"
_PORT_BASE = int(os.environ.get("BENCH_PORT_BASE", "8800"))
PORT_BARE, PORT_WEB, PORT_WS = _PORT_BASE, _PORT_BASE + 1, _PORT_BASE + 2
# The Celery worker's niceness: the web server wins the cores during bursts, the worker catches up after.
WORKER_NICE = 10
# The deployed layout (docker-compose.yml): as many sync workers as cores for HTTP.
WEB_WORKERS = int(os.environ.get("BENCH_WEB_WORKERS", str(os.cpu_count() or 2)))
BENCHMARKS = ROOT / "docs" / "benchmarks.md"
SECTION_RE = re.compile(r"^## System\n.*?(?=^## |\Z)", re.S | re.M)
SUMMARY_RE = re.compile(r"^## Summary\n.*?(?=^## |\Z)", re.S | re.M)

TP_SECONDS = float(os.environ.get("BENCH_TP_SECONDS", "10"))
TP_ROUNDS = int(os.environ.get("BENCH_TP_ROUNDS", "3"))
WRK_THREADS, WRK_CONNECTIONS = 2, 32


def log(text: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {text}", flush=True)


def server_env(db: str, *, pool: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "CELERY_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": "bench-only-secret-key-0000000000000000000000000000000000",
            "BALAS_SECRETS_KEY": "YmVuY2gtb25seS1iYWxhcy1zZWNyZXRzLWtleS0wMDA=",
            "VAPID_PUBLIC_KEY": "BAVUxhB1f11g9kyncZ4eWW7--hJmHKwve8llODITSP2r"
            "jTeQY3v1qbCtAnvmJMEBmyyGCSmOVeS5kAsqNdom_2U",
            "VAPID_PRIVATE_KEY": "uGM4xO9CE3kdjwzosdY8iFiUOvOw0o1cX-OWQ8xK02M",
            "VAPID_SUBJECT": "mailto:bench@balas.example.com",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            # Plain HTTP on loopback stands in for the TLS proxy's hop.
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": f"{PG}/{db}",
            "DATABASE_POOL": "true" if pool else "false",
            "REDIS_URL": REDIS_URL,
            "CHANNELS_PREFIX": "balas-bench-system",
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
            "BALAS_PUBLIC_URL": f"http://127.0.0.1:{PORT_WEB}",
            # No mail server here: alert e-mails are rendered and "sent" in memory, not refused.
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        }
    )
    return env


def redis_start(procs: Procs) -> Proc:
    proc = procs.start(
        "redis",
        ["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        dict(os.environ),
    )
    deadline = time.monotonic() + 10
    while subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "PING"], capture_output=True).stdout.strip() != b"PONG":
        if time.monotonic() > deadline:
            raise RuntimeError(f"redis-server on port {REDIS_PORT} did not start; see {proc.log}")
        time.sleep(0.1)
    return proc


def redis_flush() -> None:
    subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "FLUSHDB"], check=True, capture_output=True)


def redis_llen(key: str = "celery") -> int:
    out = subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "LLEN", key], capture_output=True, text=True)
    return int(out.stdout.strip() or 0)


class System:
    """Web, ws, worker and beat on one database, as docker-compose.yml runs them."""

    def __init__(self, procs: Procs, db: str, *, first_reply_target: int = 300, seed_args: list[str] = ()) -> None:
        self.procs = procs
        self.db = db
        database_recreate(db)
        redis_flush()
        env = server_env(db, pool=False)
        subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
        seed_file = WORK / f"seed-{db}.json"
        subprocess.run(
            [PY, "-m", "bench.seed", str(seed_file), "--first-reply-target", str(first_reply_target), *seed_args],
            cwd=ROOT,
            env=env,
            check=True,
        )
        self.seed: dict[str, Any] = json.loads(seed_file.read_text())
        self.web = procs.start("web", gunicorn_argv("config.wsgi:application", PORT_WEB), env)
        self.ws = procs.start(
            "ws",
            [
                str(VENV_BIN / "uvicorn"),
                "config.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(PORT_WS),
                "--no-access-log",
            ],
            server_env(db, pool=True),
        )
        # Lower CPU priority: on this one machine the worker's backlog must not starve the web server
        # during a burst (deployed, workers get their own cores or machines: docs/benchmarks.md).
        self.worker = procs.start(
            "worker",
            ["nice", "-n", str(WORKER_NICE), str(VENV_BIN / "celery"), "-A", "config", "worker", "--loglevel", "INFO"],
            env,
        )
        self.beat = procs.start(
            "beat",
            [
                str(VENV_BIN / "celery"),
                "-A",
                "config",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(WORK / f"celerybeat-{db}"),
            ],
            env,
        )
        wait_http(f"http://127.0.0.1:{PORT_WEB}/api/schema/")
        wait_http(f"http://127.0.0.1:{PORT_WS}/api/schema/")
        self._worker_ready()

    def _worker_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while b"ready." not in self.worker.log.read_bytes():
            if time.monotonic() > deadline:
                raise RuntimeError("the celery worker did not start; see " + str(self.worker.log))
            time.sleep(0.2)

    def ws_url(self, token_key: str) -> str:
        return f"ws://127.0.0.1:{PORT_WS}/ws/inbox/?token={self.seed[token_key]}"

    def peak_rss(self) -> dict[str, dict[str, int]]:
        return {p.name: group_rss(p) for p in (self.web, self.ws, self.worker, self.beat)}

    def stop(self) -> None:
        for proc in (self.beat, self.worker, self.ws, self.web):
            self.procs.stop(proc)


def gunicorn_argv(app: str, port: int) -> list[str]:
    return [
        str(VENV_BIN / "gunicorn"), app, "--bind", f"127.0.0.1:{port}", "--workers", str(WEB_WORKERS),
        "--worker-class", "sync", "--backlog", "2048", "--log-level", "warning",
    ]  # fmt: skip


def group_rss(proc: Proc) -> dict[str, int]:
    """Peak RSS (VmHWM) of the group's largest process and of all of them together, in MiB."""
    peaks = [rss_kb(pid)[1] for pid in proc.members()]
    return {"max_mib": round(max(peaks, default=0) / 1024), "sum_mib": round(sum(peaks) / 1024), "n": len(peaks)}


def count_messages(db: str, prefix: str) -> int:
    return pg_query(db, "SELECT count(*) FROM inbox_message WHERE platform_message_id LIKE %s", [prefix + "%"])[0][0]


# --- 1 and 2: open-loop latency --------------------------------------------------------------


def loadgen(system: System, *, run: str, rate: float, seconds: float, ws: bool) -> dict[str, Any]:
    bodies = bodies_generate(
        account_id=system.seed["account_id"], app_secret=system.seed["app_secret"], run=run,
        count=int(rate * seconds), contacts=KNOWN_CUSTOMERS,
    )  # fmt: skip
    path = WORK / f"bodies-{run}.jsonl"
    bodies_write_jsonl(path, bodies)
    out = WORK / f"loadgen-{run}.json"
    argv = [PY, str(ROOT / "bench" / "loadgen.py"), "rate", "--url", f"http://127.0.0.1:{PORT_WEB}/webhooks/whatsapp/",
            "--bodies", str(path), "--rate", str(rate), "--seconds", str(seconds), "--out", str(out)]  # fmt: skip
    if ws:
        argv += ["--ws", system.ws_url("admin_token")]
    subprocess.run(argv, check=True, cwd=ROOT)
    result = json.loads(out.read_text())
    reqs = result["requests"]
    ok = [r for r in reqs if r["status"] == 200]
    lat = [(r["done"] - r["scheduled"]) * 1000 for r in ok]
    lag = [(r["sent"] - r["scheduled"]) * 1000 for r in reqs]
    summary: dict[str, Any] = {
        "rate": rate,
        "seconds": seconds,
        "sent": len(reqs),
        "ok": len(ok),
        "committed": count_messages(system.db, f"wamid.bench.{run}."),
        "p50_ms": percentile(lat, 50),
        "p90_ms": percentile(lat, 90),
        "p99_ms": percentile(lat, 99),
        "max_ms": max(lat, default=float("nan")),
        "send_lag_p99_ms": percentile(lag, 99),
        "loadgen_cpu_pct": 100 * result["cpu_s"] / result["wall_s"],
    }
    if ws:
        got = [r for r in ok if r["ws"] is not None]
        from_send = [(r["ws"] - r["scheduled"]) * 1000 for r in got]
        from_answer = [(r["ws"] - r["done"]) * 1000 for r in got]
        summary.update(
            {
                "ws_received": len(got),
                "ws_p50_ms": percentile(from_send, 50),
                "ws_p90_ms": percentile(from_send, 90),
                "ws_p99_ms": percentile(from_send, 99),
                "ws_max_ms": max(from_send, default=float("nan")),
                "ws_after_200_p50_ms": percentile(from_answer, 50),
                "ws_after_200_p99_ms": percentile(from_answer, 99),
            }
        )
    return summary


# --- 3: throughput, bare vs webhook -----------------------------------------------------------


def wrk_run(url: str, data: Path, seconds: float) -> dict[str, float]:
    env = {**os.environ, "BENCH_WRK_DATA": str(data), "BENCH_WRK_THREADS": str(WRK_THREADS)}
    out = subprocess.run(
        ["wrk", "-t", str(WRK_THREADS), "-c", str(WRK_CONNECTIONS), "-d", f"{seconds:g}s", "--latency",
         "-s", str(ROOT / "bench" / "wrk_post.lua"), url],
        capture_output=True, text=True, env=env, check=True,
    ).stdout  # fmt: skip
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)

    def lat(label: str) -> float:
        m = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return float("nan")
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    return {
        "rps": rps,
        "requests": total,
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": sum(int(x) for x in sock.groups()) if sock else 0,
        "p50_ms": lat("50%"),
        "p99_ms": lat("99%"),
    }


def throughput(system: System, procs: Procs) -> dict[str, Any]:
    bare = procs.start("bare", gunicorn_argv("bench.baseline_app.wsgi:application", PORT_BARE), server_env(
        system.db, pool=False))  # fmt: skip
    pg_query(system.db, "CREATE TABLE IF NOT EXISTS bench_bare (id bigserial PRIMARY KEY, body text NOT NULL, "
             "at timestamptz NOT NULL)")  # fmt: skip
    wait_http(f"http://127.0.0.1:{PORT_BARE}/bare/")
    per_run = 4000 * TP_SECONDS  # more distinct bodies than any run can send

    def data(run: str) -> Path:
        bodies = bodies_generate(
            account_id=system.seed["account_id"], app_secret=system.seed["app_secret"], run=run,
            count=int(per_run), contacts=KNOWN_CUSTOMERS,
        )  # fmt: skip
        path = WORK / f"wrk-{run}.lua"
        bodies_write_lua(path, bodies)
        return path

    urls = {"bare": f"http://127.0.0.1:{PORT_BARE}/bare/", "webhook": f"http://127.0.0.1:{PORT_WEB}/webhooks/whatsapp/"}
    rounds: list[dict[str, Any]] = []
    # Warm-up: imports, connections, first contacts and conversations, PostgreSQL's caches.
    wrk_run(urls["bare"], data("tpwarmbare"), 3)
    wrk_run(urls["webhook"], data("tpwarm"), 3)
    backlog_before = redis_llen()
    for i in range(TP_ROUNDS):
        row: dict[str, Any] = {}
        for kind in ("bare", "webhook"):
            run = f"tp{i}{kind}"
            path = data(run)
            time.sleep(1)
            row[kind] = wrk_run(urls[kind], path, TP_SECONDS)
            if kind == "webhook":
                row[kind]["committed"] = count_messages(system.db, f"wamid.bench.{run}.")
            log(f"throughput round {i + 1}: {kind} {row[kind]['rps']:,.0f} req/s p99 {row[kind]['p99_ms']:.1f} ms")
        row["ratio"] = row["webhook"]["rps"] / row["bare"]["rps"]
        rounds.append(row)
    rss_bare = group_rss(bare)
    procs.stop(bare)
    # The monitoring work queued meanwhile: how much is left and how fast the worker drains it.
    backlog = redis_llen()
    time.sleep(10)
    drained = (backlog - redis_llen()) / 10
    return {
        "rounds": rounds,
        "bare_rss": rss_bare,
        "backlog_before": backlog_before,
        "backlog_after": backlog,
        "drain_per_s": drained,
    }


# --- 4: slow-reply alert lateness ------------------------------------------------------------

ALERT_CONVERSATIONS = int(os.environ.get("BENCH_ALERT_CONVERSATIONS", "10000"))
ALERT_FIRST_S, ALERT_SPREAD_S = 90, 60
ALERT_TARGET_S = 300
# Load traffic comes from this many customers, all known (seeded): the common case of a busy shop.
KNOWN_CUSTOMERS = 2000


def alerts(procs: Procs) -> dict[str, Any]:
    t0 = time.time()
    first = t0 + ALERT_FIRST_S
    system = System(
        procs,
        DB_ALERTS,
        first_reply_target=ALERT_TARGET_S,
        seed_args=["--waiting", str(ALERT_CONVERSATIONS), "--deadlines-from", str(first),
                   "--deadlines-spread", str(ALERT_SPREAD_S)],
    )  # fmt: skip
    try:
        ready_s = time.time() - t0
        out = WORK / "alerts-ws.json"
        ready = out.with_suffix(".ready")
        ready.unlink(missing_ok=True)
        listener = subprocess.Popen(
            [PY, str(ROOT / "bench" / "loadgen.py"), "alerts", "--ws", system.ws_url("owner_token"),
             "--count", str(ALERT_CONVERSATIONS), "--timeout", str(first + ALERT_SPREAD_S + 60 - time.time()),
             "--out", str(out)], cwd=ROOT,
        )  # fmt: skip
        while not ready.exists():
            time.sleep(0.1)
        log(f"alerts: {ALERT_CONVERSATIONS} periods armed and the system up {ready_s:.0f} s after the start")
        listener.wait(timeout=first + ALERT_SPREAD_S + 120 - time.time())
        received = {int(k): v for k, v in json.loads(out.read_text())["alerts"].items()}
        rows = pg_query(
            system.db,
            "SELECT a.id, extract(epoch FROM a.created_at), extract(epoch FROM p.deadline_at) "
            "FROM monitoring_alert a JOIN monitoring_waitingperiod p ON p.id = a.waiting_period_id",
        )
        lateness = [float(created) - float(deadline) for _, created, deadline in rows]
        ws_late = [received[aid] - float(deadline) for aid, _, deadline in rows if aid in received]
        rss = system.peak_rss()
    finally:
        system.stop()
    return {
        "conversations": ALERT_CONVERSATIONS,
        "alerts": len(rows),
        "ready_s": ready_s,
        "p50_s": percentile(lateness, 50),
        "p99_s": percentile(lateness, 99),
        "max_s": max(lateness, default=float("nan")),
        "min_s": min(lateness, default=float("nan")),
        "ws_received": len(ws_late),
        "ws_p50_s": percentile(ws_late, 50),
        "ws_p99_s": percentile(ws_late, 99),
        "rss": rss,
    }


# --- the report ------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--only", default="ws,latency,throughput,alerts")
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    args = parser.parse_args()
    only = set(args.only.split(","))
    WORK.mkdir(parents=True, exist_ok=True)
    procs = Procs()
    results: dict[str, Any] = {"machine": machine(), "started": datetime.now(UTC).isoformat(timespec="seconds")}
    load_watch = LoadWatch()
    load_watch.start()
    try:
        redis_start(procs)
        if only & {"ws", "latency", "throughput"}:
            log(f"starting the system on {DB_WEB} (web: {WEB_WORKERS} gunicorn sync workers)")
            system = System(procs, DB_WEB, seed_args=["--contacts", str(KNOWN_CUSTOMERS)])
            try:
                # Warm-up, not measured: the first requests of a fresh process import modules, open
                # its PostgreSQL connection, prepare the statement, start the event loop and sender
                # threads and read the shop's policy (the first ~0.8 s answered in 100-570 ms).
                loadgen(system, run="warm", rate=100, seconds=3, ws=False)
                time.sleep(1)
                if "ws" in only:
                    results["ws"] = loadgen(system, run="ws", rate=100, seconds=15, ws=True)
                    log(f"ws: {fmt(results['ws'])}")
                if "latency" in only:
                    time.sleep(2)
                    results["latency"] = loadgen(system, run="lat", rate=300, seconds=20, ws=False)
                    log(f"latency: {fmt(results['latency'])}")
                if "throughput" in only:
                    time.sleep(2)
                    results["throughput"] = throughput(system, procs)
                results["rss"] = system.peak_rss()
                log(f"peak RSS: {results['rss']}")
            finally:
                system.stop()
        if "alerts" in only:
            log(f"alerts: starting a fresh system on {DB_ALERTS}")
            results["alerts"] = alerts(procs)
            log(f"alerts: {fmt(results['alerts'])}")
    finally:
        procs.stop_all()  # the redis-server too: its data goes with it
        load_watch.stop()
        if not args.keep:
            database_drop(DB_WEB)
            database_drop(DB_ALERTS)
    results["load"] = load_watch.summary()
    # results.json always matches what docs/benchmarks.md shows (re-rendering reads it); a trial run
    # with --no-write keeps its figures apart.
    (WORK / ("results-no-write.json" if args.no_write else "results.json")).write_text(json.dumps(results, indent=2))
    section = render(results)
    print(section)
    if not args.no_write:
        write(section, results)


def fmt(d: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in d.items() if k != "rss")


class LoadWatch(threading.Thread):
    """Samples the 1-minute load average while the benchmark runs (the machine is shared)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[float] = []
        self._stop = threading.Event()

    def run(self) -> None:
        while not self._stop.wait(5):
            self.samples.append(os.getloadavg()[0])

    def stop(self) -> None:
        self._stop.set()

    def summary(self) -> str:
        return f"{median(self.samples):.1f} median, {max(self.samples, default=0):.1f} max"


def render(r: dict[str, Any]) -> str:
    from bench.report import system_section

    return system_section(r)


def write(section: str, r: dict[str, Any]) -> None:
    from bench.report import summary_refresh

    text = BENCHMARKS.read_text(encoding="utf-8") if BENCHMARKS.exists() else "# Benchmarks\n\n"
    if SECTION_RE.search(text):
        text = SECTION_RE.sub(lambda _m: section, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    BENCHMARKS.write_text(summary_refresh(text, r), encoding="utf-8")
    (WORK / "results.json").write_text(json.dumps(r, indent=2))


if __name__ == "__main__":
    main()
