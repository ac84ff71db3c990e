"""Dashboard benchmark: 1,000,000 messages over 30 days in PostgreSQL, timing one page load's queries.

    . .venv/bin/activate && python bench/bench_dashboard.py [--runs 7] [--no-write] [--keep] [--reuse]

What it does:
1. drops and recreates its own database `balas_bench` (never the dev or test databases) and migrates it;
2. seeds one shop, 6 admins and the owner, 5 channels, 20,000 contacts and conversations, 1,000,000
   messages (500,000 customer messages, each answered by one shop reply) and 500,000 reply
   measurements over the last 30 days, with PostgreSQL COPY (psycopg), plus waiting conversations and
   alerts; then VACUUM ANALYZE;
3. pass 1, no rollups yet (so every report is the exact computation): loads `/dashboard/` as the owner
   through Django's test client (the real view, template and all) for several scenarios, a warm-up and
   then `--runs` timed loads each, recording every SQL statement's time with `connection.execute_wrapper`;
   also times the reports API;
4. builds the rollups (`manage.py rebuildrollups`, as after any bulk load), ANALYZE, and runs pass 2;
5. checks the rollup percentiles against the exact ones for every group of the 7- and 30-day periods;
6. prints the figures and writes them to the "Dashboard" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Its own database; BENCH_DASHBOARD_DB lets a second copy run beside `make bench` without a clash.
BENCH_DB = os.environ.get("BENCH_DASHBOARD_DB", "balas_bench")
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
os.environ["DATABASE_URL"] = f"{PG}/{BENCH_DB}"
os.environ["DATABASE_POOL"] = "false"
os.environ["DJANGO_DEBUG"] = "false"
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"

MESSAGES = 1_000_000
DAYS = 30
CHANNELS = [
    ("whatsapp", "WA Glow"),
    ("instagram", "IG Glow"),
    ("messenger", "FB Glow"),
    ("shopee", "Shopee Glow"),
    ("tiktokshop", "TikTok Glow"),
]
ADMINS = ["Ani", "Budi", "Citra", "Dewi", "Eko", "Fajar"]
CONTACTS_PER_CHANNEL = 4_000
TZ = ZoneInfo("Asia/Jakarta")
# Customers write more in the evening; relative weight per local hour.
HOUR_WEIGHT = [1, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 8, 9, 9, 8, 8, 8, 9, 10, 11, 12, 11, 8, 4]


def admin_connection() -> Any:
    import psycopg

    return psycopg.connect(f"{PG}/postgres", autocommit=True)


def database_recreate() -> None:
    with admin_connection() as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [BENCH_DB],
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}"')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')


def database_drop() -> None:
    with admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}"')


# ---------------------------------------------------------------------------------------------
# COPY helpers


def _text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def copy_rows(model: Any, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """COPY rows into the model's table; columns left out get the field's default (or NULL if nullable).

    Fails loudly if a NOT NULL column without a default is missing, so a new model field shows here.
    """
    from django.db import connection

    fields = {f.column: f for f in model._meta.concrete_fields}
    extra_cols: list[str] = []
    extra_vals: list[str] = []
    for column, f in fields.items():
        if column in columns:
            continue
        if f.has_default():
            value = f.get_default()
            extra_cols.append(column)
            extra_vals.append(json.dumps(value) if isinstance(value, (list, dict)) else _text(value))
        elif not f.null:
            raise RuntimeError(f"{model._meta.db_table}.{column} is NOT NULL and the benchmark gives no value")
    suffix = ("\t" + "\t".join(extra_vals)) if extra_vals else ""
    cols = ", ".join(f'"{c}"' for c in [*columns, *extra_cols])
    n = 0
    raw = connection.connection  # the psycopg connection under Django's
    with raw.cursor() as cur, cur.copy(f'COPY "{model._meta.db_table}" ({cols}) FROM STDIN') as copy:
        buf = io.StringIO()
        for row in rows:
            buf.write("\t".join(_text(v) for v in row) + suffix + "\n")
            n += 1
            if n % 50_000 == 0:
                copy.write(buf.getvalue())
                buf = io.StringIO()
        copy.write(buf.getvalue())
    return n


def sequence_reset(model: Any) -> None:
    from django.db import connection

    table = model._meta.db_table
    with connection.cursor() as cur:
        cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM \"{table}\"))")


# ---------------------------------------------------------------------------------------------
# Seed


def seed(now: datetime, replies_total: int) -> dict[str, Any]:
    from django.db import connection, transaction

    from inbox.models import Channel, Contact, Conversation, Member, Message
    from inbox.services.shops import shop_create
    from monitoring.models import Alert, ReplyMeasurement
    from tests.factories import SAMPLE_SECRETS

    rng = random.Random(20260302)
    t0 = time.perf_counter()
    shop, owner, _token = shop_create(name="Glow Beauty", owner_email="owner@bench.local", owner_password="bench")
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    admins = []
    for name in ADMINS:
        user = user_model.objects.create_user(username=f"{name.lower()}@bench.local", password="x", first_name=name)
        admins.append(Member.objects.create(shop=shop, user=user, role=Member.Role.ADMIN))
    channels = [
        Channel.objects.create(
            shop=shop, platform=p, name=name, account_id=f"bench-{p}", secrets=dict(SAMPLE_SECRETS.get(p, {}))
        )
        for p, name in CHANNELS
    ]

    with transaction.atomic():
        contact_rows = []
        conv_by_channel: dict[int, list[int]] = {c.pk: [] for c in channels}
        cid = 0
        for ch in channels:
            for _ in range(CONTACTS_PER_CHANNEL):
                cid += 1
                contact_rows.append((cid, shop.pk, ch.pk, f"62812{cid:07d}", f"Pelanggan {cid}", now))
                conv_by_channel[ch.pk].append(cid)
        copy_rows(Contact, ["id", "shop_id", "channel_id", "external_id", "name", "created_at"], contact_rows)
        copy_rows(
            Conversation,
            ["id", "shop_id", "channel_id", "contact_id", "platform_conversation_id", "created_at"],
            ((r[0], shop.pk, r[2], r[0], "", now - timedelta(days=DAYS)) for r in contact_rows),
        )
        channel_ids = [c.pk for c in channels]
        admin_ids = [a.pk for a in admins]
        admin_weights = [30, 22, 18, 14, 10, 6]
        start = now - timedelta(days=DAYS)
        span = DAYS * 86400.0
        max_w = max(HOUR_WEIGHT)

        replies: list[tuple[Any, ...]] = []
        for i in range(replies_total):
            # Reply time: uniform over 30 days, thinned by the local hour's weight (rejection sampling).
            while True:
                replied_at = start + timedelta(seconds=rng.random() * span)
                if rng.random() * max_w < HOUR_WEIGHT[replied_at.astimezone(TZ).hour]:
                    break
            channel_id = channel_ids[i % 5 if rng.random() < 0.6 else rng.randrange(5)]
            conversation_id = rng.choice(conv_by_channel[channel_id])
            wall = min(math.exp(rng.gauss(math.log(240), 1.3)), 2 * 86400.0) + rng.random()
            started_at = replied_at - timedelta(seconds=wall)
            local_hour = started_at.astimezone(TZ).hour
            business = wall * (0.95 if 8 <= local_hour < 21 else 0.35)
            r = rng.random()
            if r < 0.75:
                source, member_id = "inbox", rng.choices(admin_ids, admin_weights)[0]
            elif r < 0.95:
                source, member_id = "echo", None
            else:
                source, member_id = "api", None
            kind = "first" if rng.random() < 0.1 else "reply"
            target = 300 if kind == "first" else 600
            t = rng.random()
            terse: bool | None = False if t < 0.85 else (True if t < 0.95 else None)
            score = None if terse is None else (0.6 + 0.4 * rng.random() if terse else 0.5 * rng.random())
            replies.append(
                (i, channel_id, conversation_id, started_at, replied_at, wall, business, source, member_id, kind,
                 target, business <= target, terse, score)
            )  # fmt: skip
        t_gen = time.perf_counter() - t0

        texts_in = ["Kak, ready?", "Ongkir ke Bandung berapa?", "Size M ada?", "Halo min", "Sudah dikirim belum?"]
        texts_out = ["Ready kak 😊", "ok", "Halo kak, stok ready ya 🙏", "cek sendiri", "Sudah dikirim ya kak"]

        def messages() -> Iterator[tuple[Any, ...]]:
            for i, ch, conv, started, replied, _w, _b, source, member_id, *_ in replies:
                yield (2 * i + 1, shop.pk, ch, conv, f"in-{i}", "in", "customer", texts_in[i % 5], started, "received",
                       "", None, "", started, started)  # fmt: skip
                yield (2 * i + 2, shop.pk, ch, conv, f"out-{i}", "out", source, texts_out[i % 5], replied, "sent",
                       "", member_id, "", replied, replied)  # fmt: skip

        n_msg = copy_rows(
            Message,
            ["id", "shop_id", "channel_id", "conversation_id", "platform_message_id", "direction", "source", "text",
             "sent_at", "status", "error", "sent_by_id", "sender_label", "created_at", "updated_at"],
            messages(),
        )  # fmt: skip
        n_meas = copy_rows(
            ReplyMeasurement,
            ["id", "message_id", "shop_id", "channel_id", "conversation_id", "member_id", "source", "kind",
             "started_at", "replied_at", "response_seconds", "response_business_seconds", "target_seconds",
             "sla_met", "terse", "terse_score", "terse_reasons", "created_at", "updated_at"],
            (
                (i + 1, 2 * i + 2, shop.pk, ch, conv, member_id, source, kind, started, replied, w, b, target,
                 met, terse, score, '["bare_acknowledgement"]' if terse else "[]", replied, replied)
                for i, ch, conv, started, replied, w, b, source, member_id, kind, target, met, terse, score in replies
            ),
        )  # fmt: skip
        # Right now: 150 customers waiting, 2,000 alerts over the month of which 40 still open.
        all_convs = [c for ids in conv_by_channel.values() for c in ids]
        waiting = rng.sample(all_convs, 150)
        with connection.cursor() as cur:
            cur.execute(
                "UPDATE inbox_conversation SET waiting_since = %s::timestamptz - (random() * interval '3 hours') "
                "WHERE id = ANY(%s)",
                [now, waiting],
            )
        alert_rows = []
        for k in range(2000):
            created = start + timedelta(seconds=rng.random() * span)
            state = "open" if k < 40 else rng.choice(["acknowledged", "resolved"])
            conv = waiting[k] if k < 40 else rng.choice(all_convs)
            alert_kind = rng.choice(["slow_first_reply", "slow_reply", "terse_reply"])
            alert_rows.append((k + 1, shop.pk, conv, alert_kind, state, f"Bench alert {k}", "", "", created, created))
        copy_rows(
            Alert,
            ["id", "shop_id", "conversation_id", "kind", "state", "title", "detail", "suggestion", "created_at",
             "updated_at"],
            alert_rows,
        )  # fmt: skip
        for model in (Contact, Conversation, Message, ReplyMeasurement, Alert):
            sequence_reset(model)
    t_copy = time.perf_counter() - t0 - t_gen
    connection.close()
    import psycopg

    with psycopg.connect(f"{PG}/{BENCH_DB}", autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    t_total = time.perf_counter() - t0
    return {
        "shop": shop,
        "owner": owner,
        "channels": channels,
        "messages": n_msg,
        "measurements": n_meas,
        "seconds_generate": t_gen,
        "seconds_copy": t_copy,
        "seconds_total": t_total,
    }


# ---------------------------------------------------------------------------------------------
# Timing


class QueryTimer:
    def __init__(self) -> None:
        self.records: list[tuple[str, float]] = []

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        t = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.records.append((sql, time.perf_counter() - t))


@contextmanager
def timed_queries() -> Iterator[QueryTimer]:
    from django.db import connection

    timer = QueryTimer()
    with connection.execute_wrapper(timer):
        yield timer


def _label(sql: str) -> str:
    s = " ".join(sql.split())
    if "GROUPING SETS" in s:
        return "grouped stats (percentile_cont, GROUPING SETS)"
    if "monitoring_replyrollupday" in s:
        return "rollups per day (member, channel)"
    if "monitoring_replyrolluphour" in s:
        return "rollups per hour"
    if "django_session" in s:
        return "session"
    if 'FROM "auth_user"' in s:
        return "user"
    if 'FROM "inbox_member"' in s:
        return "member (+labels)"
    if "monitoring_shoppolicy" in s:
        return "policy time zone"
    if '"terse_score" DESC' in s:
        return "tersest replies"
    if '"response_seconds" DESC' in s:
        return "slowest replies"
    if 'FROM "inbox_conversation"' in s:
        return "waiting customers"
    if 'FROM "monitoring_alert"' in s:
        return "open alerts (count)" if "COUNT(" in s else "open alerts"
    if 'FROM "inbox_channel"' in s:
        return "channels"
    return s[:60]


def run_scenarios(ctx: dict[str, Any], runs: int, now: datetime) -> list[dict[str, Any]]:
    from django.test import Client

    client = Client()
    client.force_login(ctx["owner"].user)
    today = now.astimezone(TZ).date()
    wa = ctx["channels"][0].pk
    month = {"since": (today - timedelta(days=DAYS - 1)).isoformat(), "until": today.isoformat()}
    scenarios = [
        ("default page: last 7 days, all channels", "/dashboard/", {}),
        ("last 7 days, one channel", "/dashboard/", {"channel": wa}),
        ("30 days, all channels", "/dashboard/", month),
        ("30 days, one channel", "/dashboard/", {**month, "channel": wa}),
        ("API group_by=member, 30 days", "/api/v1/reports/response-times/", {**month, "group_by": "member"}),
        ("API group_by=day, 30 days", "/api/v1/reports/response-times/", {**month, "group_by": "day"}),
    ]
    results = []
    for name, path, params in scenarios:
        response = client.get(path, params)  # warm-up (and a check that it works)
        assert response.status_code == 200, (name, response.status_code, response.content[:500])
        db_totals, wall_totals, per_query, nqueries = [], [], {}, 0
        for _ in range(runs):
            with timed_queries() as timer:
                t = time.perf_counter()
                response = client.get(path, params)
                wall = time.perf_counter() - t
            assert response.status_code == 200
            db_totals.append(sum(d for _, d in timer.records) * 1000)
            wall_totals.append(wall * 1000)
            nqueries = len(timer.records)
            for sql, d in timer.records:
                per_query.setdefault(_label(sql), []).append(d * 1000)
        results.append(
            {
                "name": name,
                "path": path,
                "params": params,
                "queries": nqueries,
                "db_ms": db_totals,
                "wall_ms": wall_totals,
                "per_query_ms": {k: statistics.median(v) for k, v in per_query.items()},
            }
        )
        print(
            f"{name:45s} queries={nqueries:2d}  DB median {statistics.median(db_totals):7.1f} ms "
            f"(min {min(db_totals):.1f}, max {max(db_totals):.1f})  "
            f"request median {statistics.median(wall_totals):7.1f} ms",
            flush=True,
        )
    return results


def replies_in(ctx: dict[str, Any], days: int, now: datetime) -> int:
    from monitoring.models import ReplyMeasurement

    start = datetime.combine(now.astimezone(TZ).date() - timedelta(days=days - 1), datetime.min.time(), tzinfo=TZ)
    return ReplyMeasurement.objects.filter(shop=ctx["shop"], replied_at__gte=start).count()


def rollups_build() -> float:
    """What a deployment runs after a bulk load: `rebuildrollups`, then ANALYZE the new tables."""
    import psycopg
    from django.core.management import call_command

    t = time.perf_counter()
    call_command("rebuildrollups", stdout=io.StringIO())
    with psycopg.connect(f"{PG}/{BENCH_DB}", autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE monitoring_replyrollupday")
        conn.execute("VACUUM ANALYZE monitoring_replyrolluphour")
    return time.perf_counter() - t


def rollup_sizes() -> dict[str, str]:
    from django.db import connection

    out = {}
    with connection.cursor() as cur:
        for table in ("monitoring_replyrollupday", "monitoring_replyrolluphour"):
            cur.execute(f"SELECT count(*), pg_size_pretty(pg_total_relation_size('{table}')) FROM {table}")
            rows, size = cur.fetchone()
            out[table] = f"{rows:,} rows, {size}"
    return out


def accuracy(ctx: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    """Rollup percentiles against exact percentile_cont, every group and measure, for the timed periods."""
    from monitoring.reports import GROUPINGS, report_filters_build, report_groups

    today = now.astimezone(TZ).date()
    month = {"since": (today - timedelta(days=DAYS - 1)).isoformat(), "until": today.isoformat()}
    out = []
    for name, params in (
        ("last 7 days, all channels", {}),
        ("30 days, all channels", month),
        ("30 days, one channel", {**month, "channel": ctx["channels"][0].pk}),
    ):
        filters = report_filters_build(shop=ctx["shop"], now=now, **params)
        fast = report_groups(filters, GROUPINGS, method="rollup")
        exact = report_groups(filters, GROUPINGS, method="exact")
        worst_rel, worst_abs, compared, beyond = 0.0, 0.0, 0, 0
        other_equal = True
        for grouping in GROUPINGS:
            a = [fast.total] if grouping == "total" else getattr(fast, grouping)
            b = [exact.total] if grouping == "total" else getattr(exact, grouping)
            assert [x.key for x in a] == [x.key for x in b], (name, grouping)
            for x, y in zip(a, b, strict=True):
                other_equal &= x.count == y.count and math.isclose(x.avg_s or 0, y.avg_s or 0, rel_tol=1e-9)
                other_equal &= math.isclose(x.sla_met_pct or 0, y.sla_met_pct or 0, rel_tol=1e-9)
                other_equal &= math.isclose(x.terse_pct or 0, y.terse_pct or 0, rel_tol=1e-9)
                for field in ("p50_s", "p90_s", "p50_business_s", "p90_business_s"):
                    got, want = getattr(x, field), getattr(y, field)
                    if want is None:
                        continue
                    compared += 1
                    error = abs(got - want)
                    worst_abs = max(worst_abs, error)
                    worst_rel = max(worst_rel, error / want if want else 0.0)
                    beyond += error >= 1.0 + 0.05 * want
        out.append(
            {
                "name": name,
                "compared": compared,
                "worst_rel_pct": 100 * worst_rel,
                "worst_abs_s": worst_abs,
                "beyond_bound": beyond,
                "other_equal": other_equal,
            }
        )
        print(
            f"accuracy {name}: {compared} percentiles, worst {100 * worst_rel:.2f}% ({worst_abs:.1f} s), "
            f"beyond the bound: {beyond}; counts/averages/shares equal: {other_equal}",
            flush=True,
        )
    return out


# ---------------------------------------------------------------------------------------------
# Report


def machine_info() -> dict[str, str]:
    from django.db import connection

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        kb = int(Path("/proc/meminfo").read_text().split("\n")[0].split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        pg = cur.fetchone()[0]
        settings = {}
        for name in ("shared_buffers", "work_mem", "max_parallel_workers_per_gather", "jit"):
            cur.execute(f"SHOW {name}")
            settings[name] = cur.fetchone()[0]
        cur.execute("SELECT pg_size_pretty(pg_total_relation_size('monitoring_replymeasurement'))")
        size = cur.fetchone()[0]
    import django

    return {
        "cpu": f"{cpu}, {os.cpu_count()} cores",
        "memory": mem,
        "os": platform.platform(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": f"{pg} ({', '.join(f'{k}={v}' for k, v in settings.items())}), same machine",
        "measurement_table": size,
    }


def loadavg() -> str:
    try:
        return " / ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def wait_quiet(max_wait_s: float, threshold: float = 1.0) -> str:
    """Other people's test runs share this machine: wait (bounded) for a quieter moment."""
    deadline = time.monotonic() + max_wait_s
    while time.monotonic() < deadline:
        try:
            one_minute = float(Path("/proc/loadavg").read_text().split()[0])
        except (OSError, ValueError):
            break
        if one_minute < threshold:
            break
        time.sleep(10)
    return loadavg()


def _verdict(ms: float, target_ms: float = 300.0) -> str:
    return "met" if ms <= target_ms else "NOT met"


def _table(results: list[dict[str, Any]]) -> list[str]:
    lines = ["| scenario | SQL statements | DB median (min–max) | request median |", "|---|---|---|---|"]
    for r in results:
        lines.append(
            f"| {r['name']} | {r['queries']} | {statistics.median(r['db_ms']):.1f} ms "
            f"({min(r['db_ms']):.1f}–{max(r['db_ms']):.1f}) | {statistics.median(r['wall_ms']):.1f} ms |"
        )
    return lines


def _breakdown(result: dict[str, Any]) -> list[str]:
    lines = ["| statement | median ms |", "|---|---|"]
    for label, ms in sorted(result["per_query_ms"].items(), key=lambda kv: -kv[1]):
        lines.append(f"| {label} | {ms:.1f} |")
    return lines


def markdown(ctx: dict[str, Any], passes: dict[str, dict[str, Any]], info: dict[str, str], runs: int,
             counts: dict[str, int], acc: list[dict[str, Any]], sizes: dict[str, str]) -> str:  # fmt: skip
    base, best = passes["exact"], passes["rollups"]
    worst = max(statistics.median(r["db_ms"]) for r in best["results"])
    worst_name = max(best["results"], key=lambda r: statistics.median(r["db_ms"]))["name"]
    lines = [
        "## Dashboard",
        "",
        f"Run: `python bench/bench_dashboard.py` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        "",
        f"**Result: with the rollups every timed view takes at most {worst:.0f} ms of SQL per load (slowest: "
        f"{worst_name}); target at most 300 ms: {_verdict(worst)} for every view. The default page (last 7 days, "
        f"all channels, {counts['7']:,} replies) takes {statistics.median(best['results'][0]['db_ms']):.0f} ms "
        f"(exact computation: {statistics.median(base['results'][0]['db_ms']):.0f} ms); 30 days, all channels "
        f"({counts['30']:,} replies): {statistics.median(best['results'][2]['db_ms']):.0f} ms (exact: "
        f"{statistics.median(base['results'][2]['db_ms']):.0f} ms).** Medians of {runs} loads; the spread "
        "(min–max) is in the tables.",
        "",
        "Data: one shop, 5 channels, 6 admins (+ the owner), 20,000 conversations, "
        f"{ctx['messages']:,} messages over the last 30 days (each customer message answered by one shop reply), "
        f"{ctx['measurements']:,} reply measurements with a long-tailed response time (median about 4 minutes), "
        "busier in the evening (local time), 75% sent from Balas by the 6 admins, 20% from the platforms' apps, "
        "5% by API; 150 customers waiting, 2,000 alerts (40 open). "
        f"Seeded with COPY (psycopg) in {ctx['seconds_total']:.0f} s, then VACUUM ANALYZE; the rollups were then "
        f"built with `manage.py rebuildrollups` + ANALYZE in {best['build_seconds']:.0f} s "
        f"({'; '.join(f'{k}: {v}' for k, v in sizes.items())}).",
        "",
        "Method: the real `/dashboard/` view (and the reports API), requested as the owner through Django's test "
        "client in the benchmark process: session, permission check, every query, template rendering. Each SQL "
        "statement is timed with `connection.execute_wrapper` (client side, so the round trip to PostgreSQL is "
        f'included). One warm-up load, then {runs} timed loads per scenario. "DB" is the sum of one load\'s '
        'statements (the target); "request" is the whole view including Python work and rendering. Pass 1 runs '
        "before the rollups exist, so every report is the exact computation (with the model's indexes, which "
        "now include the covering, slowest and tersest indexes); pass 2 after `rebuildrollups`. PostgreSQL runs "
        "on the same 2-core machine, which other engineers' test suites and benchmarks were also using: the load "
        "average (1/5/15 min) at the start of each pass is given, and every figure is inflated accordingly.",
        "",
        f"### Pass 1: exact computation, no rollups (load average {base['load']})",
        "",
        *_table(base["results"]),
        "",
        f"### Pass 2: from the rollups (load average {best['load']})",
        "",
        *_table(best["results"]),
        "",
        "Where the time of one 30-day, all-channel load goes (pass 2, median per statement):",
        "",
        *_breakdown(best["results"][2]),
        "",
        "Same view in pass 1:",
        "",
        *_breakdown(base["results"][2]),
        "",
        "Rollup percentiles against exact `percentile_cont` (every group of every grouping, p50/p90 of wall-clock "
        "and business seconds; the stated bound is |error| < 1 s + 5% of the exact value):",
        "",
        "| period | percentiles compared | worst relative error | worst absolute error | beyond the bound | "
        "counts, averages, SLA and terse shares equal |",
        "|---|---|---|---|---|---|",
        *[
            f"| {a['name']} | {a['compared']} | {a['worst_rel_pct']:.2f}% | {a['worst_abs_s']:.1f} s | "
            f"{a['beyond_bound']} | {'yes' if a['other_equal'] else 'NO'} |"
            for a in acc
        ],
        "",
        "How: two rollup tables are kept in the same transaction as every measurement write "
        "(`monitoring/services/rollups.py`): per (shop, local day, member, channel) and per (shop, local day, "
        "local hour, channel), each row holding the count, sums of wall-clock and business seconds, SLA-met, terse "
        "and judged counts, and two log-scale histograms (5% wide buckets from 1 s up, one bucket below 1 s) "
        "stored as packed uint32 arrays. A page load reads the period's rows (about 1,000 day rows and 3,600 "
        "hour rows for 30 days of this shop) in two index range scans and merges the histograms in Python: a "
        "stored histogram read as one little-endian integer adds to another field by field, so a month merges "
        "with a few thousand big-integer additions. Percentiles interpolate inside the bucket; periods with at "
        "most 20,000 replies, or not made of whole local days, still get the exact statement (they are cheap: "
        "see the one-channel 7-day row of pass 1). The slowest and tersest lists use the "
        "`replymeasurement_slowest` / `replymeasurement_tersest` indexes (walk from the slowest, stop at 10 in "
        "the period).",
        "",
        "Why not one row per histogram bucket (per shop, day, member, channel, measure, bucket): at this size "
        "that is about 240,000 rows for 30 days (each day-member-channel holds about 115 occupied buckets), and "
        "merging them with GROUP BY GROUPING SETS took 160–260 ms on its own on this machine; the packed "
        "histograms are about 4,600 rows.",
        "",
        "Machine:",
        "",
    ]
    lines += [f"- {k}: {v}" for k, v in info.items()]
    lines.append("")
    return "\n".join(lines)


def section_write(section: str) -> Path:
    """Replace (or append) the "## Dashboard" section only; other sections belong to other people."""
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == "## Dashboard"), None)
    if start is None:
        new = text.rstrip("\n") + "\n\n" + section
    else:
        end = next((j for j in range(start + 1, len(lines)) if lines[j].startswith("## ")), len(lines))
        new = "\n".join([*lines[:start], *section.rstrip("\n").splitlines(), "", *lines[end:]]).rstrip("\n") + "\n"
    path.write_text(new if new.endswith("\n") else new + "\n")
    return path


def context_reuse(now_hint: datetime | None = None) -> tuple[dict[str, Any], datetime]:
    """The shop of an already seeded database (--reuse), and the seed's "now" (the last reply)."""
    from django.db.models import Max

    from inbox.models import Channel, Member, Message, Shop
    from monitoring.models import ReplyMeasurement

    shop = Shop.objects.get(name="Glow Beauty")
    last = ReplyMeasurement.objects.filter(shop=shop).aggregate(m=Max("replied_at"))["m"]
    ctx = {
        "shop": shop,
        "owner": Member.objects.get(shop=shop, role=Member.Role.OWNER),
        "channels": list(Channel.objects.filter(shop=shop).order_by("pk")),
        "messages": Message.objects.filter(shop=shop).count(),
        "measurements": ReplyMeasurement.objects.filter(shop=shop).count(),
        "seconds_generate": 0.0,
        "seconds_copy": 0.0,
        "seconds_total": 0.0,
    }
    return ctx, (now_hint or last.replace(microsecond=0) + timedelta(seconds=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--messages", type=int, default=MESSAGES, help="for a quick trial; the figure uses 1,000,000")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database afterwards")
    parser.add_argument("--reuse", action="store_true", help="reuse a kept database (skips seeding; for trials)")
    parser.add_argument("--quiet-wait", type=float, default=300, help="seconds to wait for load average < 1")
    args = parser.parse_args()

    if not args.reuse:
        database_recreate()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if args.reuse:
        from monitoring.models import ReplyRollupDay, ReplyRollupHour, ReplyRollupState

        ReplyRollupState.objects.all().delete()
        ReplyRollupDay.objects.all().delete()
        ReplyRollupHour.objects.all().delete()
        ctx, now = context_reuse()
    else:
        now = datetime.now(UTC).replace(microsecond=0)
        print(f"seeding {args.messages:,} messages ...", flush=True)
        ctx = seed(now, args.messages // 2)
    print(
        f"seeded {ctx['messages']:,} messages, {ctx['measurements']:,} measurements in {ctx['seconds_total']:.1f} s",
        flush=True,
    )
    counts = {"7": replies_in(ctx, 7, now), "30": replies_in(ctx, 30, now)}
    passes: dict[str, dict[str, Any]] = {}
    load = wait_quiet(args.quiet_wait)
    print(f"pass 1 (exact, no rollups), load average {load}", flush=True)
    passes["exact"] = {"load": load, "results": run_scenarios(ctx, args.runs, now)}
    build_seconds = rollups_build()
    print(f"rollups built in {build_seconds:.1f} s", flush=True)
    load = wait_quiet(args.quiet_wait)
    print(f"pass 2 (rollups), load average {load}", flush=True)
    passes["rollups"] = {"load": load, "results": run_scenarios(ctx, args.runs, now), "build_seconds": build_seconds}
    acc = accuracy(ctx, now)
    info = machine_info()
    section = markdown(ctx, passes, info, args.runs, counts, acc, rollup_sizes())
    print()
    print(section)
    if not args.no_write:
        print(f"written to {section_write(section)}")
    from django.db import connections

    connections.close_all()
    if not args.keep:
        database_drop()


if __name__ == "__main__":
    main()
