"""Per-unit costs: one webhook request, one measuring task, one deadline check (statements and ms each).

    python bench/bench_units.py [--n 300] [--keep]

Runs in this process on a fresh database (`balas_perf_units`, dropped afterwards) with the production
settings, its own redis-server on port 6396 (broker and channel layer, so enqueue and publish are real
round trips) and no Celery worker: each unit is called directly and timed alone, so the figures stay
meaningful on a busy machine (a loaded machine inflates ms, never the statement counts).

Units:
- bare: the throughput benchmark's yardstick view (one INSERT) through the same client and middleware.
- webhook: a signed WhatsApp POST from a known customer through Django's test client (middleware,
  verification, ingest fast path, on_commit enqueue and publish).
- measure `in`: `monitoring.tasks.message_measure` for those messages (half open a period, half join one).
- measure `out`: the same for a human reply to each conversation (closes the period, judge, rollups).
- deadline due: `period_deadline_check` of an unanswered period past its deadline (raises the alert),
  with batches of 1 (the deadline task of a worker that keeps up: it finds only its own period due).
- deadline batch: `due_slow_alerts_raise` over 20 due periods at a time (a task that finds a backlog,
  or the sweep); divide by 20 for the cost per alert.
- deadline ended: the same check for a period already answered (a re-arm step or a late-armed
  check whose customer got a reply in time; near deadlines share one task per half second now).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import PG, database_drop, database_recreate, whatsapp_body  # noqa: E402

# Its own database and Redis port, so two people can run it at once (BENCH_UNITS_DB, BENCH_UNITS_REDIS_PORT).
DB = os.environ.get("BENCH_UNITS_DB", "balas_perf_units")
REDIS_PORT = int(os.environ.get("BENCH_UNITS_REDIS_PORT", "6396"))
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "bench-only-secret-key-0000000000000000000000000000000000",
        "BALAS_SECRETS_KEY": "YmVuY2gtb25seS1iYWxhcy1zZWNyZXRzLWtleS0wMDA=",
        "VAPID_PUBLIC_KEY": "BAVUxhB1f11g9kyncZ4eWW7--hJmHKwve8llODITSP2rjTeQY3v1qbCtAnvmJMEBmyyGCSmOVeS5kAsqNdom_2U",
        "VAPID_PRIVATE_KEY": "uGM4xO9CE3kdjwzosdY8iFiUOvOw0o1cX-OWQ8xK02M",
        "VAPID_SUBJECT": "mailto:bench@balas.example.com",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": f"{PG}/{DB}",
        "DATABASE_POOL": "false",
        "REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/0",
        "CHANNELS_PREFIX": "balas-perf-units",
        "LOG_LEVEL": "WARNING",
    }
)


def stats(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[int(0.9 * (len(ordered) - 1))]
    return f"{statistics.median(ordered):.2f} ({ordered[len(ordered) // 10]:.2f}–{p90:.2f})"


def _backend_pid() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def _proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process on this machine (the PostgreSQL backend serving us)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_units(name: str, items: list[Any], unit: Callable[[Any], Any]) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times: list[float] = []
    statements: list[int] = []
    profiler = cProfile.Profile() if os.environ.get("BENCH_UNITS_PROFILE") == name.split()[0] else None
    if profiler is not None:
        profiler.enable()
    backend = _backend_pid()
    cpu_start, db_cpu_start = time.process_time(), _proc_cpu_s(backend)
    for item in items:
        connection.queries_log.clear()  # a full log (9,000) would make every count 0
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            unit(item)
            times.append((time.perf_counter() - start) * 1000)
        statements.append(len(ctx.captured_queries))
    time.sleep(0.5)  # the sender threads finish the last units' publishing and enqueueing
    cpu_ms = (time.process_time() - cpu_start) * 1000 / max(1, len(items))
    db_cpu_ms = (_proc_cpu_s(backend) - db_cpu_start) * 1000 / max(1, len(items))
    if os.environ.get("BENCH_UNITS_SQL"):
        for query in ctx.captured_queries:
            print("   ", query["time"], (query["sql"] or "(prepared statement)")[:300])
    if profiler is not None:
        profiler.disable()
        pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_UNITS_SORT", "cumulative")).print_stats(45)
    row = {
        "unit": name,
        "n": len(items),
        "statements": statistics.median(statements),
        "statements_max": max(statements),
        "ms": statistics.median(times),
        "ms_text": stats(times),
        "cpu_ms": cpu_ms,
        "db_cpu_ms": db_cpu_ms,
    }
    counts = f"statements {row['statements']:g} (max {row['statements_max']})"
    print(
        f"{name:<38} n={row['n']:<5} {counts}  {row['ms_text']}; CPU {cpu_ms:.2f} ms, PostgreSQL CPU {db_cpu_ms:.2f} ms"
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    redis = subprocess.Popen(
        ["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    database_recreate(DB)
    try:
        time.sleep(0.3)
        bench(args.n)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            database_drop(DB)
        redis.terminate()
        redis.wait(10)


def bench(n: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from django.test import Client

    from bench.seed import customers_create, waiting_create
    from inbox.models import Message
    from inbox.services import channel_create, shop_create
    from monitoring.business_hours import ALWAYS_OPEN
    from monitoring.models import WaitingPeriod
    from monitoring.services import overdue
    from monitoring.services.overdue import period_deadline_check
    from monitoring.services.policy import policy_update
    from monitoring.tasks import message_measure

    shop, _owner, _token = shop_create(name="Toko Units", owner_email="owner@units.local", owner_password="x" * 16)
    app_secret, account_id = "units-secret-0123456789", "1098765432199"
    channel, _ = channel_create(
        shop=shop,
        platform="whatsapp",
        name="WA Units",
        account_id=account_id,
        secrets={"app_secret": app_secret, "verify_token": "units-verify", "access_token": "units-token"},
    )
    policy_update(shop_id=shop.pk, data={"business_hours": ALWAYS_OPEN, "first_reply_target_s": 300})
    contacts = max(1, n // 2)
    customers_create(channel=channel, prefix="62812", count=contacts)

    client = Client()
    now = int(time.time()) - 60
    bodies = [
        whatsapp_body(
            account_id=account_id,
            app_secret=app_secret,
            message_id=f"wamid.units.{i}",
            wa_id=f"62812{i % contacts:08d}",
            name=f"Pelanggan {i % contacts}",
            text="Kak, yang warna navy ukuran M masih ready?",
            timestamp=now + i // contacts,
        )
        for i in range(n + 20)
    ]

    def webhook(item: tuple[bytes, str]) -> None:
        body, signature = item
        response = client.post(
            "/webhooks/whatsapp/", body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=signature
        )
        assert response.status_code == 200, response.content

    for item in bodies[:20]:  # warm-up: imports, connections, caches
        webhook(item)
    rows = [run_units("webhook (known customer)", bodies[20:], webhook)]

    # The throughput benchmark's yardstick, through the same client, settings and middleware.
    from django.db import connection
    from django.test import override_settings

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_bare (id bigserial PRIMARY KEY, body text NOT NULL, at timestamptz NOT NULL)"
        )

    def bare(item: tuple[bytes, str]) -> None:
        response = client.post("/bare/", item[0], content_type="application/json")
        assert response.status_code == 200, response.content

    with override_settings(ROOT_URLCONF="bench.baseline_app.urls"):
        for item in bodies[:20]:
            bare(item)
        rows.append(run_units("bare one-INSERT view (the yardstick)", bodies[20:], bare))

    in_ids = list(Message.objects.filter(direction="in").order_by("id").values_list("id", flat=True))
    for message_id in in_ids[:20]:
        message_measure(message_id)
    rows.append(run_units("measure `in` message", in_ids[20:], message_measure))

    replies = Message.objects.bulk_create(
        Message(
            shop_id=shop.pk,
            channel=channel,
            conversation_id=conversation_id,
            platform_message_id=f"wamid.units.reply.{conversation_id}",
            direction="out",
            source="inbox",
            text="Masih ready kak, silakan diorder ya. Terima kasih!",
            sent_at=datetime.fromtimestamp(now + 30, UTC),
            status="sent",
        )
        for conversation_id in Message.objects.filter(direction="in")
        .values_list("conversation_id", flat=True)
        .distinct()
    )
    rows.append(run_units("measure `out` reply", [m.pk for m in replies], message_measure))

    waiting_create(channel=channel, count=n, first=time.time() - 120, spread=60, target=300)
    due = list(
        WaitingPeriod.objects.filter(
            ended_at__isnull=True, first_message__platform_message_id__startswith="wamid.bench"
        )
        .order_by("id")
        .values_list("id", "deadline_at")
    )
    single, batched = due[: len(due) // 3], due[len(due) // 3 :]
    overdue.DEADLINE_BATCH = 1
    rows.append(
        run_units(
            "deadline check, due (alert, batch of 1)",
            single,
            lambda p: period_deadline_check(period_id=p[0], armed_for=p[1]),
        )
    )
    overdue.DEADLINE_BATCH = 20
    rows.append(
        run_units(
            "deadline batch of 20 due (20 alerts)",
            list(range(len(batched) // 20)),
            lambda _: overdue.due_slow_alerts_raise(),
        )
    )
    rows.append(
        run_units(
            "deadline check, alert already raised",
            due,
            lambda p: period_deadline_check(period_id=p[0], armed_for=p[1]),
        )
    )
    ended = list(WaitingPeriod.objects.filter(ended_at__isnull=False).order_by("id").values_list("id", "deadline_at"))
    rows.append(
        run_units(
            "deadline check, period answered",
            ended,
            lambda p: period_deadline_check(period_id=p[0], armed_for=p[1]),
        )
    )
    print("\n| unit | n | statements median (max) | wall ms median (p10–p90) | CPU ms per unit: Python | PostgreSQL |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['unit']} | {row['n']} | {row['statements']:g} ({row['statements_max']}) "
            f"| {row['ms_text']} | {row['cpu_ms']:.2f} | {row['db_cpu_ms']:.2f} |"
        )
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")


if __name__ == "__main__":
    main()
