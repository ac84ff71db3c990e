"""Scale-out proof: two webs, two workers and one beat, each in its own network namespace.

    sudo python scripts/scaleout.py                      # 10,000 webhooks, one worker killed and restarted
    sudo python scripts/scaleout.py --deliveries 2000    # smaller

Layout (docs/operations.md, "Several machines"): a bridge `balasbr0` (10.77.0.1/24) on the host and
five namespaces joined to it by veth pairs, one process each, nothing else shared but the network:

    balas-web1  10.77.0.11  gunicorn config.wsgi, 2 sync workers (docker-compose.yml's `web`)
    balas-web2  10.77.0.12  the same
    balas-wk1   10.77.0.21  celery worker (prefork, 1 process)
    balas-wk2   10.77.0.22  celery worker (prefork, 1 process)
    balas-beat  10.77.0.30  celery beat

They share one PostgreSQL and one Redis at 10.77.0.1. The machine's PostgreSQL listens on 127.0.0.1
only and is left as it is: a `socat` owned by this script forwards 10.77.0.1:5432 to it (the least
invasive way: no configuration of the shared server changes, and the database is the script's own,
`balas_scaleout`, dropped at the end). Redis is the script's own `redis-server`, bound to 10.77.0.1
with a password made for the run (off loopback, Redis' protected mode refuses clients without one).

Traffic from the host: conversations in every platform's signed format (answered in time, answered
late, never answered; asked up to a minute ago so deadlines fall during the run), every delivery
posted to one web and a tenth of them posted again to the other (a platform's retry landing
elsewhere). Midway, worker 1 gets SIGKILL (its whole process group) and is started again 10 s later.
Then: every message stored once, every message measured, every reply's latency stored once and
exact, every unanswered conversation's slow alert raised exactly once, no alert doubled, and the
same a sweep later. Everything the script created (namespaces, veths, bridge, socat, redis,
database) is removed at the end, also on failure or Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts" / "faults"))
sys.path.insert(0, str(ROOT))

from common import (  # noqa: E402 - after the path set-up
    PLATFORMS,
    PYTHON,
    Sender,
    Stack,
    build_conversation,
    exit_on_sigterm,
    log,
    monitoring_state,
    state_complete,
    wait_until,
    write_figures,
)

BRIDGE = "balasbr0"
HOST_IP = "10.77.0.1"
NAMESPACES = {
    "balas-web1": "10.77.0.11",
    "balas-web2": "10.77.0.12",
    "balas-wk1": "10.77.0.21",
    "balas-wk2": "10.77.0.22",
    "balas-beat": "10.77.0.30",
}
REDIS_PORT = 6398
WEB_PORT = 8000


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), check=check, capture_output=True, text=True)  # noqa: S603


class Network:
    """The bridge and the namespaces; `down()` removes whatever of it exists."""

    def up(self) -> None:
        self.down()
        sh("ip", "link", "add", BRIDGE, "type", "bridge")
        sh("ip", "addr", "add", f"{HOST_IP}/24", "dev", BRIDGE)
        sh("ip", "link", "set", BRIDGE, "up")
        for n, (ns, address) in enumerate(NAMESPACES.items()):
            host_end, ns_end = f"balasv{n}h", f"balasv{n}n"
            sh("ip", "netns", "add", ns)
            sh("ip", "link", "add", host_end, "type", "veth", "peer", "name", ns_end)
            sh("ip", "link", "set", ns_end, "netns", ns)
            sh("ip", "link", "set", host_end, "master", BRIDGE)
            sh("ip", "link", "set", host_end, "up")
            sh("ip", "netns", "exec", ns, "ip", "addr", "add", f"{address}/24", "dev", ns_end)
            sh("ip", "netns", "exec", ns, "ip", "link", "set", ns_end, "up")
            sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
            sh("ip", "netns", "exec", ns, "ip", "route", "add", "default", "via", HOST_IP)

    def down(self) -> None:
        for ns in NAMESPACES:
            sh("ip", "netns", "del", ns, check=False)  # takes its veth end, and so the pair, along
        for n in range(len(NAMESPACES)):
            sh("ip", "link", "del", f"balasv{n}h", check=False)
        sh("ip", "link", "del", BRIDGE, check=False)

    @staticmethod
    def leftovers() -> list[str]:
        names = sh("ip", "netns", "list", check=False).stdout
        links = sh("ip", "-o", "link", "show", check=False).stdout
        return [ns for ns in NAMESPACES if ns in names] + ([BRIDGE] if f" {BRIDGE}:" in links else [])


class Cluster:
    """The processes: each in its namespace, each in its own process group (SIGKILL takes it whole)."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.dir = stack.dir

    def spawn(self, name: str, ns: str | None, args: list[str], env: dict[str, str] | None = None) -> None:
        out = open(self.dir / f"{name}.log", "ab")
        prefix = ["ip", "netns", "exec", ns] if ns else []
        self.procs[name] = subprocess.Popen(  # noqa: S603 - fixed command lines
            [*prefix, *args],
            cwd=ROOT,
            env={**self.stack.env, **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def web(self, name: str) -> None:
        ns = f"balas-{name}"
        self.spawn(
            name,
            ns,
            [
                PYTHON, "-m", "gunicorn", "config.wsgi:application", "--bind", f"{NAMESPACES[ns]}:{WEB_PORT}",
                "--workers", "2", "--worker-class", "sync",
            ],
            env={"DATABASE_POOL": "false"},
        )  # fmt: skip

    def worker(self, name: str) -> None:
        self.spawn(
            name,
            f"balas-{name}",
            [
                PYTHON, "-m", "celery", "-A", "config", "worker", "--loglevel", "INFO", "--pool", "prefork",
                "--concurrency", "1", "--hostname", f"{name}@scaleout", "--without-gossip", "--without-mingle",
            ],
            env={"DATABASE_POOL": "false"},
        )  # fmt: skip

    def beat(self) -> None:
        self.spawn(
            "beat",
            "balas-beat",
            [PYTHON, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO", "-s", str(self.dir / "beat-sched")],
        )

    def kill(self, name: str) -> None:
        proc = self.procs.pop(name)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def stop(self) -> None:
        for proc in self.procs.values():
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for proc in self.procs.values():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        self.procs.clear()


def _reachable(host: str, port: int) -> bool:
    import socket

    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--name", default="scaleout")
    parser.add_argument("--deliveries", type=int, default=10_000, help="distinct webhooks (copies come on top)")
    parser.add_argument("--copies-share", type=float, default=0.1, help="share posted again to the other web")
    parser.add_argument("--target-s", type=int, default=30)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--kill-at", type=float, default=0.4, help="share of deliveries sent when worker 1 dies")
    parser.add_argument("--down-s", type=float, default=10.0)
    parser.add_argument("--sweep-s", type=float, default=30.0)
    parser.add_argument("--visibility-s", type=int, default=60)
    parser.add_argument("--settle-timeout-s", type=float, default=400.0)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args(argv)
    exit_on_sigterm()
    if os.geteuid() != 0 or not shutil.which("ip") or not shutil.which("socat"):
        raise SystemExit("needs root, iproute2 and socat")

    stack = Stack(
        args.name,
        redis_port=REDIS_PORT,
        sweep_interval_s=args.sweep_s,
        sweep_grace_s=10,
        visibility_timeout_s=args.visibility_s,
        deadline_step_s=max(2, args.visibility_s // 2),
    )
    hosts = ",".join(["127.0.0.1", "localhost", *NAMESPACES.values()])
    # Off loopback Redis wants a password (protected mode): a fresh one per run.
    redis_password = secrets.token_urlsafe(24)
    redis_url = f"redis://:{redis_password}@{HOST_IP}:{REDIS_PORT}/0"
    stack.env.update(
        {
            "DATABASE_URL": f"postgres://postgres@{HOST_IP}:5432/{stack.db_name}",
            "REDIS_URL": redis_url,
            "DJANGO_ALLOWED_HOSTS": hosts,
        }
    )
    network = Network()
    cluster = Cluster(stack)
    figures: dict[str, Any] = {"scenario": "scaleout", "args": vars(args)}
    ok = False
    try:
        network.up()
        log(f"network: bridge {BRIDGE} {HOST_IP}, namespaces {', '.join(f'{k}={v}' for k, v in NAMESPACES.items())}")
        # Shared services on the bridge address: PostgreSQL through a forwarder, Redis our own.
        cluster.spawn(
            "socat-postgres",
            None,
            ["socat", f"TCP-LISTEN:5432,bind={HOST_IP},fork,reuseaddr", "TCP:127.0.0.1:5432"],
        )
        cluster.spawn(
            "redis",
            None,
            [
                "redis-server", "--port", str(REDIS_PORT), "--bind", HOST_IP, "--requirepass", redis_password,
                "--save", "", "--appendonly", "no",
            ],
        )  # fmt: skip
        stack._wait(lambda: _reachable(HOST_IP, 5432), 10, "the PostgreSQL forwarder")
        stack.redis_url = redis_url
        stack._wait(stack._redis_ping, 10, "redis-server")
        # Migrations and the shop from the host, over the forwarder like everyone else.
        stack.database_create()
        for name in ("web1", "web2"):
            cluster.web(name)
        webs = [f"http://{NAMESPACES['balas-web1']}:{WEB_PORT}", f"http://{NAMESPACES['balas-web2']}:{WEB_PORT}"]
        for url in webs:
            stack.base_url = url
            stack._wait(stack._web_up, 90, f"{url} to answer")
        cluster.worker("wk1")
        cluster.worker("wk2")
        cluster.beat()
        stack.base_url = webs[0]
        shop = stack.shop_create(target_s=args.target_s)
        stack.django()
        from inbox.models import Message
        from monitoring.models import Alert, MessageTrack

        rng = random.Random(8080)  # noqa: S311 - reproducible test data
        now = int(time.time())
        conversations = []
        count, n = 0, 0
        while count < args.deliveries:
            kind = n % 3
            delay = {0: max(1, args.target_s // 3), 1: None, 2: args.target_s * 2}[kind]
            asked_at = now - rng.randint(0, 60)
            conv = build_conversation(shop["channels"], PLATFORMS[n % len(PLATFORMS)], asked_at, delay, rng)
            conversations.append(conv)
            count += 2 if conv.reply else 1
            n += 1
        deliveries = [c.question for c in conversations] + [c.reply for c in conversations if c.reply]
        rng.shuffle(deliveries)
        senders = [Sender(url, threads=args.threads // 2) for url in webs]
        plan: list[tuple[int, Any]] = []
        for i, delivery in enumerate(deliveries):
            plan.append((i % 2, delivery))
            if rng.random() < args.copies_share:
                plan.append(((i + 1) % 2, delivery))  # the same delivery again, at the other web
        log(f"{len(conversations)} conversations, {len(deliveries)} deliveries, {len(plan)} posts over 2 webs")

        sent = [0]
        lock = threading.Lock()

        def post(item: tuple[int, Any]) -> None:
            senders[item[0]].post(item[1])
            with lock:
                sent[0] += 1

        from concurrent.futures import ThreadPoolExecutor

        started = time.time()
        with ThreadPoolExecutor(args.threads) as pool:
            futures = [pool.submit(post, item) for item in plan]
            wait_until(lambda: sent[0] >= len(plan) * args.kill_at, 3600, interval=0.1)
            cluster.kill("wk1")
            killed_at = time.time()
            log(f"SIGKILL worker wk1 (process group) after {sent[0]} posts")
            time.sleep(args.down_s)
            cluster.worker("wk1")
            log("worker wk1 started again")
            for future in futures:
                future.result()
        traffic_s = time.time() - started
        statuses = Counter(r.status for s in senders for r in s.results)
        log(f"traffic done in {traffic_s:.1f} s: {dict(statuses)}")

        state = wait_until(
            lambda: (s := monitoring_state(conversations, args.target_s)) and state_complete(s) and s,
            args.settle_timeout_s,
            interval=1.0,
        )
        settled_s = time.time() - started - traffic_s
        if not state:
            state = monitoring_state(conversations, args.target_s)
        time.sleep(args.sweep_s + 5)
        state_after = monitoring_state(conversations, args.target_s)
        keys = [d.key for d in deliveries]
        stored = Message.objects.filter(platform_message_id__in=keys).count()
        slow = Counter(
            Alert.objects.filter(kind__in=["slow_first_reply", "slow_reply"]).values_list("conversation_id", flat=True)
        )
        unanswered_ids = list(
            Message.objects.filter(
                platform_message_id__in=[c.question.key for c in conversations if c.reply is None]
            ).values_list("conversation_id", flat=True)
        )
        per_web = [Counter(r.status for r in s.results) for s in senders]
        figures.update(
            {
                "layout": {**NAMESPACES, "postgres": f"{HOST_IP}:5432 (socat to 127.0.0.1)", "redis": HOST_IP},
                "conversations": len(conversations),
                "deliveries_distinct": len(deliveries),
                "posts": len(plan),
                "posts_by_web": [{str(k): v for k, v in c.items()} for c in per_web],
                "traffic_s": round(traffic_s, 1),
                "worker_killed_after_s": round(killed_at - started, 1),
                "settled_after_traffic_s": round(settled_s, 1),
                "messages_stored": stored,
                "messages_measured": MessageTrack.objects.filter(message__platform_message_id__in=keys).count(),
                "unanswered_with_exactly_one_slow_alert": sum(1 for c in unanswered_ids if slow.get(c) == 1),
                "state": state,
                "state_one_sweep_later": state_after,
            }
        )
        checks = {
            "every post answered 200": set(statuses) == {200},
            "both webs took traffic": all(c.get(200, 0) > 0 for c in per_web),
            "every message stored once": stored == len(deliveries) == state_after["messages_committed"],
            "everything measured, every latency exact, every due alert": state_complete(state_after),
            "every unanswered conversation alerted exactly once": figures["unanswered_with_exactly_one_slow_alert"]
            == len(unanswered_ids)
            == state_after["unanswered_conversations"],
            "no alert twice": state_after["alerts_doubled"] == 0,
            "a sweep later nothing changed": state == state_after,
        }
        figures["checks"] = checks
        ok = all(checks.values())
    finally:
        cluster.stop()
        if not args.keep:
            try:
                stack.pg_url = "postgres://postgres@127.0.0.1:5432"
                stack.database_drop()
            except Exception as exc:  # noqa: BLE001 - clean up the rest regardless
                log(f"could not drop {stack.db_name}: {exc}")
        network.down()
        figures["left_behind"] = Network.leftovers()
        write_figures(args.name, figures)
    for name, passed in figures.get("checks", {}).items():
        log(f"{'PASS' if passed else 'FAIL'}: {name}")
    log(f"left behind: {figures['left_behind'] or 'nothing'}")
    return 0 if ok and not figures["left_behind"] else 1


if __name__ == "__main__":
    sys.exit(main())
