"""Render bench_system.py's results as the "System" section and the summary table of docs/benchmarks.md.

The summary also quotes the Dashboard and Terse judge sections (written by their own scripts).
"""

from __future__ import annotations

import math
import re
import statistics
from typing import Any

# Measured once, with the code as it was before this benchmark's fixes (same machine, same layout:
# gunicorn 2 sync workers, wrk -t2 -c32, 10 s): kept here so every run prints the before/after.
BEFORE = {
    "webhook_rps": 56.5,
    "bare_rps": 1645.0,
    "webhook_p50_ms": 566.0,
    "what": "general ingest path (about ten statements with savepoints), live events through "
    "`async_to_sync` (a new thread, event loop and Redis connection per event), DRF serializers built per event",
}


def _f(value: float, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:,.{digits}f}"


def _spread(values: list[float], digits: int = 0) -> str:
    if not values:
        return "n/a"
    return f"{_f(statistics.median(values), digits)} ({_f(min(values), digits)}–{_f(max(values), digits)})"


def _ok(met: bool | None) -> str:
    return "n/a" if met is None else ("met" if met else "**missed**")


def throughput_figures(r: dict[str, Any]) -> dict[str, Any] | None:
    tp = r.get("throughput")
    if not tp:
        return None
    rounds = tp["rounds"]
    bare = [x["bare"]["rps"] for x in rounds]
    hook = [x["webhook"]["rps"] for x in rounds]
    ratio = [x["ratio"] for x in rounds]
    return {
        "bare": bare,
        "webhook": hook,
        "ratio": ratio,
        "met": statistics.median(ratio) >= 0.7 and statistics.median(hook) >= 1000,
    }


def system_section(r: dict[str, Any]) -> str:
    m = r["machine"]
    out = ["## System\n"]
    out.append(
        f"`make bench` (`bash bench/run.sh`), system part `python bench/bench_system.py`, run {r['started']} UTC. "
        f"Load average (1 min) during the run: {r.get('load', 'n/a')} — the machine is shared with other "
        "engineers' test suites and benchmarks, which inflates every figure here.\n"
    )
    out.append(
        "| machine | nproc | memory | kernel | python | django | postgresql | redis | gunicorn | uvicorn | celery "
        "| wrk |"
    )
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    out.append(
        f"| {m['cpu']} | {m['nproc']} | {m['memory']} | {m['kernel']} | {m['python']} | {m['django']} | "
        f"{m['postgresql']} | {m['redis']} | {m['gunicorn']} | {m['uvicorn']} | {m['celery']} | {m['wrk']} |\n"
    )
    out.append(
        "Layout (as `docker-compose.yml` deploys it): **web** = gunicorn `config.wsgi`, one sync worker per core, "
        "persistent DB connections (`DATABASE_POOL=false` → `CONN_MAX_AGE=None`) for webhooks, API and pages; "
        "**ws** = uvicorn `config.asgi` for `/ws/` only, Django's psycopg pool; **worker** = `celery worker` "
        "(prefork, concurrency = cores) and **beat**; PostgreSQL 15 and Redis on the same machine; "
        "production settings (`config.settings.production`, DEBUG off, logging at INFO). Load comes from separate "
        "processes on loopback: `wrk` (C, with `bench/wrk_post.lua` cycling through pre-signed, distinct WhatsApp "
        "bodies, never the same message twice) for throughput, and `bench/loadgen.py` (asyncio, open loop: request i "
        "is sent at t0 + i/rate whatever the answers do, and timed from that scheduled moment, so a stall is not "
        "hidden) for latency. Bodies are ~560-byte WhatsApp text messages from 2,000 customers who have written "
        "before (seeded, the common case; a first contact takes the general path), signed (X-Hub-Signature-256) "
        "with the channel's app secret.\n"
    )

    tp = r.get("throughput")
    if tp:
        f = throughput_figures(r)
        assert f is not None
        out.append("### Throughput: signed webhook vs a bare one-INSERT view\n")
        out.append(
            "`wrk -t2 -c32 -d10s`, alternating bare / webhook rounds on the same server type and settings "
            "(`bench/baseline_app`: the deployed settings with only the URLconf swapped; its view INSERTs the "
            "request body into one table and answers JSON; never routed in production). A 200 from the webhook "
            "means the message, conversation update, waiting period (opened or joined) and raw event are committed: "
            "the count of stored messages is "
            "checked against the requests after each round (it can exceed them: wrk stops counting with requests "
            "still in flight, which the server completes and commits).\n"
        )
        out.append(
            "| round | bare req/s | webhook req/s | ratio | webhook p50 / p99 ms | webhook non-2xx "
            "| stored / requests |"
        )
        out.append("|---|---|---|---|---|---|---|")
        for i, row in enumerate(tp["rounds"], 1):
            w = row["webhook"]
            out.append(
                f"| {i} | {_f(row['bare']['rps'])} | {_f(w['rps'])} | {row['ratio']:.2f} | "
                f"{_f(w['p50_ms'], 1)} / {_f(w['p99_ms'], 1)} | {w['non2xx'] + w['socket_errors']} | "
                f"{w.get('committed', 'n/a'):,} / {w['requests']:,} |"
            )
        out.append(
            f"| **median (min–max)** | {_spread(f['bare'])} | {_spread(f['webhook'])} | "
            f"{_spread(f['ratio'], 2)} | | | |\n"
        )
        out.append(
            f"Celery tasks waiting when the last round ended: {tp['backlog_after']:,} (the webhook measures a known "
            "customer's message in its own statement; a `message_measure` task is queued only for what it cannot "
            "decide, such as an out-of-order message).\n"
        )
    lat = r.get("latency")
    if lat:
        out.append("### Webhook latency at a steady 300 messages/s\n")
        out.append(
            f"{lat['sent']:,} signed webhooks over {lat['seconds']:.0f} s (open loop), each on a new connection; "
            "timed from the scheduled send to the end of the answer.\n"
        )
        out.append(
            "| sent | 200 | stored | p50 ms | p90 ms | p99 ms | max ms | loadgen send lag p99 ms | loadgen CPU |"
        )
        out.append("|---|---|---|---|---|---|---|---|---|")
        out.append(
            f"| {lat['sent']:,} | {lat['ok']:,} | {lat['committed']:,} | {_f(lat['p50_ms'], 1)} | "
            f"{_f(lat['p90_ms'], 1)} | {_f(lat['p99_ms'], 1)} | {_f(lat['max_ms'], 1)} | "
            f"{_f(lat['send_lag_p99_ms'], 1)} | {_f(lat['loadgen_cpu_pct'])}% |\n"
        )
    ws = r.get("ws")
    if ws:
        out.append("### Webhook → the event on an admin's WebSocket, at 100 messages/s\n")
        out.append(
            "An admin's socket on the ws server (`/ws/inbox/?token=`) receives `message.created`; the load generator "
            "times it from the webhook's scheduled send (so the webhook's own time is included) and, beside it, "
            "from the moment the 200 arrived (negative: the event arrived before the answer, as it is published "
            "right after the commit).\n"
        )
        out.append("| sent | 200 | events received | p50 ms | p90 ms | p99 ms | max ms | after the 200: p50 / p99 ms |")
        out.append("|---|---|---|---|---|---|---|---|")
        out.append(
            f"| {ws['sent']:,} | {ws['ok']:,} | {ws['ws_received']:,} | {_f(ws['ws_p50_ms'], 1)} | "
            f"{_f(ws['ws_p90_ms'], 1)} | {_f(ws['ws_p99_ms'], 1)} | {_f(ws['ws_max_ms'], 1)} | "
            f"{_f(ws['ws_after_200_p50_ms'], 1)} / {_f(ws['ws_after_200_p99_ms'], 1)} |\n"
        )
    al = r.get("alerts")
    if al:
        out.append(f"### Slow-reply alert lateness, {al['conversations']:,} conversations waiting\n")
        out.append(
            f"A fresh database and system. {al['conversations']:,} customers each wait on one unanswered message: "
            "contacts, conversations, messages and open waiting periods are bulk-created (`bench/seed.py`), with the "
            "shop's first-reply target of 300 s (open all week) and deadlines spread evenly from 90 to 150 s after "
            "the start; each deadline is armed by `monitoring.services.periods.deadline_arm`, as the webhook and "
            "the measuring task arm it: one Celery ETA task per half-second bucket of deadlines (a Redis `SET NX` "
            f"per bucket). Everything was armed and the system up {al['ready_s']:.0f} s after the start. Then the "
            "real worker (prefork, 2 processes) runs each bucket's task at the bucket's end "
            "(`deadlines_due` → `due_slow_alerts_raise`: every open, unalerted period due by then, in batches of up "
            "to 500, `alert.created` per alert on commit) while beat runs the 30 s safety-net sweep. So an alert "
            "comes at most half a second after its deadline by design, never before. Lateness = "
            "`alert.created_at - deadline_at` for every alert; the owner's socket (`/ws/inbox/`) also times each "
            "`alert.created` against its deadline.\n"
        )
        if al["alerts"] < al["conversations"] or al["ws_received"] < al["alerts"]:
            out.append(
                f"Only {al['alerts']:,} of {al['conversations']:,} alerts existed when the run ended (the worker "
                "was still behind: the percentiles below cover those raised, so they understate the lateness), and "
                f"{al['ws_received']:,} reached the owner's socket: a burst of alerts overflows the socket's channel "
                "in the Redis channel layer (channels_redis `capacity`, 100 messages by default) and `group_send` "
                "drops what does not fit, silently. A larger `capacity` in CHANNEL_LAYERS (and the browser "
                "re-reading alerts on reconnect, as it already does) would be the fix to try.\n"
            )
        out.append("| alerts | p50 s | p99 s | max s | min s | on the owner's socket | socket p50 s | socket p99 s |")
        out.append("|---|---|---|---|---|---|---|---|")
        out.append(
            f"| {al['alerts']:,} | {_f(al['p50_s'], 2)} | {_f(al['p99_s'], 2)} | {_f(al['max_s'], 2)} | "
            f"{_f(al['min_s'], 2)} | {al['ws_received']:,} | {_f(al['ws_p50_s'], 2)} | {_f(al['ws_p99_s'], 2)} |\n"
        )
    rss = r.get("rss")
    if rss:
        out.append("### Peak memory (VmHWM) under the load\n")
        out.append("| process group | processes | largest process MiB | all together MiB |")
        out.append("|---|---|---|---|")
        groups = dict(rss)
        if tp:
            groups["bare (baseline)"] = tp["bare_rss"]
        if al:
            groups.update({f"{k} (alerts run)": v for k, v in al["rss"].items()})
        for name, g in groups.items():
            out.append(f"| {name} | {g['n']} | {g['max_mib']} | {g['sum_mib']} |")
        out.append("")
    out.append("### What was changed, and before / after\n")
    after = throughput_figures(r)
    after_txt = (
        f"{_f(statistics.median(after['webhook']))} req/s vs bare {_f(statistics.median(after['bare']))} "
        f"(ratio {statistics.median(after['ratio']):.2f})"
        if after
        else "see above"
    )
    out.append(
        f"Before (first measurement, {BEFORE['what']}): webhook {_f(BEFORE['webhook_rps'])} req/s vs bare "
        f"{_f(BEFORE['bare_rps'])} (ratio {BEFORE['webhook_rps'] / BEFORE['bare_rps']:.2f}), webhook p50 "
        f"{_f(BEFORE['webhook_p50_ms'])} ms under wrk -c32. After: {after_txt}.\n"
    )
    out.append(
        "1. **Deployed layout** (`docker-compose.yml`): plain HTTP from gunicorn sync workers with persistent "
        "connections (the fastest server in \"Choosing the server\" below), uvicorn only for `/ws/`; "
        "`config/settings/production.py` takes `DATABASE_POOL=false` for the WSGI/Celery processes (persistent "
        "connection, no pool) and keeps the pool for ASGI.\n"
        "2. **One statement for a known customer's message** (`inbox/services/ingest.py`): an `INSERT ... ON "
        "CONFLICT DO NOTHING` with data-modifying CTEs stores the message (the unique constraint dedupes), updates "
        "the conversation's summary (same waiting_since / unread rules, evaluated on the row the UPDATE locks), "
        "the contact's name when it changed, and the raw WebhookEvent — atomic as one statement, so no BEGIN / "
        "COMMIT / SAVEPOINT round trips. A new customer, an echo, several messages or statuses take the general "
        "path unchanged. The webhook view no longer opens an outer transaction for a single channel. "
        "`tests/inbox/test_ingest_fast_path.py` replays a scenario (retry, late older message, name change, "
        "a reply in between) through both paths and requires identical rows, and checks the statement count "
        "and the live events.\n"
        "3. **Live events through one long-lived event loop per process** (`inbox/realtime.py`) instead of "
        "`async_to_sync` per event, which started a thread, a loop and new Redis connections every time.\n"
        "4. **Event payloads from reused serializer instances** (`inbox/services/events.py`): DRF rebuilt every "
        "field of the message and conversation serializers for each event.\n"
        "5. **The webhook measures the customer message itself, in the same statement** (second session): "
        "every message used to queue a `message_measure` task costing the worker about 3x the whole webhook "
        "(12 statements, ~5 ms), so on 2 cores the worker, not the web, capped throughput at ~140 msg/s. The "
        "statement now locks the conversation row (`FOR UPDATE` reads the version a concurrent measuring task "
        "committed, not the statement's snapshot) and reads two columns monitoring keeps on it under that same "
        "lock (`open_period_since`, `measured_reply_at`): a message at or after the open period's start joins "
        "it (nothing to do); with no open period and after the last counted reply it opens the period (kind, "
        "target and business-hours deadline as the task computes them, from a per-process copy of the policy "
        "the statement re-checks against the stored row) and marks the message measured; the deadline check is "
        "armed after the commit from the sender thread. Everything else (an out-of-order message, a policy "
        "changed since it was read, a shop without a policy) still queues the task, and any pending task "
        "reconciles the same rows. `tests/monitoring/test_inbound.py` replays a scenario (late and early "
        "messages, follow-up replies, same-second messages; serial and racing the worker) through both paths "
        "and requires identical periods, measurements and conversation state. The throughput rounds now queue "
        "no measuring task at all.\n"
        "6. **A prepared statement**: `EXPLAIN ANALYZE` showed PostgreSQL spending 0.55 ms planning the "
        "statement and 0.35 ms running it. It is now bound server-side and prepared once per connection "
        "(psycopg `prepare=True`; Django's own cursors are unchanged).\n"
        "7. **The channel row from a per-process copy, checked inside the statement**: the webhook no longer "
        "reads the channel (an ORM query, Fernet decryption of its secrets) per delivery; the statement checks "
        "the row's `xmin` (new on every UPDATE) and `is_active`, and a mismatch writes nothing and re-verifies "
        "against a fresh read (`tests/inbox/test_webhook_channel_copy.py`: a secret rotated by another process "
        "is refused at once, a deactivated channel is 404). A known customer's message is now one statement.\n"
        "8. **Event payloads built directly** (`_message_data`, `_conversation_data`), held to the DRF "
        "serializers' output by `tests/inbox/test_event_payloads.py`.\n"
        "9. **Slow-reply deadlines raised in batches, armed in half-second buckets** "
        "(`monitoring/services/deadlines.py`): one Celery ETA task per half-second of deadlines (a Redis `SET NX` "
        "per bucket) instead of one per period, which the worker could not keep up with (9,582 one-read tasks "
        "between the batches in a measured run); at the bucket's end it raises every period due by then in "
        "batches of up to 500 per transaction (`FOR NO KEY UPDATE SKIP LOCKED` on the period and its "
        "conversation, one `INSERT ... ON CONFLICT DO NOTHING`, one e-mail task per shop), then checks alone "
        "what a batch left (a reply not measured yet, rows another transaction held). Lateness p99 56 s -> "
        "14.5 s with batches alone -> 0.5 s with buckets. An alert now comes at most half a second after its "
        "deadline by design, never before.\n"
    )
    out.append("### Where the webhook's throughput stops, and why\n")
    out.append(
        "Every target but the throughput pair is met. The webhook stays at about a third of the bare view's rate "
        "(and under 1,000 msg/s) because it does several times the bare view's work per request, on the same two "
        "cores that also run PostgreSQL, Redis and the load generator. `bench/bench_units.py` measures both "
        "through the same Django client, settings and middleware (see Per-unit costs): the bare view costs about "
        "0.6 ms of Python and 0.2 ms of PostgreSQL CPU; the webhook about 2.3-3 ms of Python (its sender threads "
        "included) and 0.65 ms of PostgreSQL. Where the webhook's time goes (cProfile of 1,000 requests, and "
        "switching parts off one at a time):\n"
    )
    out.append(
        "- **The one statement, about half of the request's wall time**: it verifies the channel row, stores the "
        "message (unique constraint), locks and updates the conversation, updates the contact, opens or joins the "
        "waiting period, marks the message measured and stores the raw delivery: seven tables and their indexes "
        "against the bare view's one. Preparing it took planning off (0.55 ms of PostgreSQL per message); psycopg "
        "still converts its parameters on every call (about 0.1 ms: the statement is over psycopg's cache limits "
        "of 4,096 characters and 50 parameters).\n"
        "- **The live events, about 0.7 ms of CPU per message** in the sender thread: even with no socket "
        "listening, each `group_send` of the Redis channel layer is two Redis round trips (a trim and a read of "
        "the group), more with members. Events queued together now share one `group_send` per shop. With "
        "publishing switched off (a local experiment, not a setting) one round gave 767 req/s against about 580: "
        "the events cost about a quarter of the throughput, and even without them the webhook reaches 0.46 x.\n"
        "- **Verifying and parsing** (HMAC, JSON, cleaning, the adapter's normalized dataclasses), building the "
        "statement's parameters and the event payloads, and the per-process policy's deadlines: about 0.5 ms "
        "together.\n"
        "- **Not waiting, working.** More web workers do not help: single rounds on 2026-11-23 (third session) "
        "gave 653 req/s with 4 gunicorn workers and 572 with 8, against about 580 with 2; the bare view went from "
        "about 1,700 to 1,880. The two cores are busy, not idle behind I/O.\n\n"
        "Reaching 0.7 x would mean doing little more than a bare INSERT before answering: storing only the raw "
        "delivery and ingesting it in the worker. One task per message costs the worker more than the statement "
        "costs the web (see Per-unit costs), so on the same two cores that would lower throughput. Only a batched "
        "ingest (one task taking many stored deliveries at once, in set-based statements) could save work "
        "overall; it would delay every live event and the deadline's arming behind the batch, and weaken what a "
        "200 means here (the message, its conversation and its waiting period are committed, and the deadline is "
        "armed). So the webhook keeps its work, and this limit is reported instead. It scales out: the statement "
        "locks only its own conversation row, so web processes on more cores or machines add throughput (one "
        "gunicorn worker per core, PostgreSQL on its own machine).\n"
    )
    return "\n".join(out) + "\n"


def _dashboard_ms(text: str) -> tuple[float, float] | None:
    """(default 7-day page, 30-day all-channel page) SQL ms, from bench_dashboard.py's result line."""
    default = re.search(r"The default page \([^)]*\) takes (\d[\d,]*) ms", text)
    month = re.search(r"30 days, all channels \([^)]*\): (\d[\d,]*) ms", text)
    if not default or not month:
        return None
    return float(default.group(1).replace(",", "")), float(month.group(1).replace(",", ""))


def _tone_rate(text: str) -> float | None:
    section = re.search(r"^## Terse judge\n.*?(?=^## |\Z)", text, re.S | re.M)
    if not section:
        return None
    rows = [line for line in section.group(0).splitlines() if line.startswith("| ") and "---" not in line]
    if len(rows) < 2:
        return None
    cells = [c.strip() for c in rows[1].strip("|").split("|")]
    try:
        return float(cells[5].replace(",", ""))
    except (IndexError, ValueError):
        return None


def summary_refresh(text: str, r: dict[str, Any]) -> str:
    rows = ["## Summary\n", "Medians of this machine's last `make bench`; details and spread in the sections below.\n"]
    rows.append("| measure | target | measured | |")
    rows.append("|---|---|---|---|")
    f = throughput_figures(r)
    if f:
        hook, ratio = statistics.median(f["webhook"]), statistics.median(f["ratio"])
        rows.append(
            "| signed webhook → 200 with the message committed, sustained | >= 0.7 x bare one-INSERT view, and "
            f">= 1,000 msg/s | {_f(hook)} msg/s = {ratio:.2f} x bare ({_f(statistics.median(f['bare']))} req/s); "
            f"rounds {', '.join(_f(x) for x in f['webhook'])} | {_ok(f['met'])}"
            f"{'' if f['met'] else ': the measured limit, see System → Where the webhook’s throughput stops'} |"
        )
    lat = r.get("latency")
    if lat:
        rows.append(
            f"| webhook latency at a steady 300 msg/s | p99 <= 50 ms | p50 {_f(lat['p50_ms'], 1)} ms, "
            f"p99 {_f(lat['p99_ms'], 1)} ms | {_ok(lat['p99_ms'] <= 50)} |"
        )
    ws = r.get("ws")
    if ws:
        rows.append(
            "| webhook → event on an admin's WebSocket at 100 msg/s | p50 <= 30 ms, p99 <= 150 ms | "
            f"p50 {_f(ws['ws_p50_ms'], 1)} ms, p99 {_f(ws['ws_p99_ms'], 1)} ms | "
            f"{_ok(ws['ws_p50_ms'] <= 30 and ws['ws_p99_ms'] <= 150)} |"
        )
    al = r.get("alerts")
    if al:
        rows.append(
            f"| slow-reply alert lateness, {al['conversations']:,} conversations waiting | p99 <= 2 s | "
            f"p50 {_f(al['p50_s'], 2)} s, p99 {_f(al['p99_s'], 2)} s; {al['alerts']:,} raised"
            f"{'' if al['alerts'] == al['conversations'] else ' by the end of the run (the rest later still)'}, "
            f"{al['ws_received']:,} reached the owner's socket | "
            f"{_ok(al['p99_s'] <= 2)} |"
        )
    dash = _dashboard_ms(text)
    dash_text = "see Dashboard"
    if dash is not None:
        dash_text = f"{_f(dash[0])} ms default 7-day page, {_f(dash[1])} ms 30-day page (rollups)"
    rows.append(
        f"| dashboard queries at 1,000,000 messages | <= 300 ms | {dash_text} | "
        f"{_ok(max(dash) <= 300 if dash is not None else None)} |"
    )
    tone = _tone_rate(text)
    rows.append(
        f"| terse judge | >= 20,000 replies/s on one core | "
        f"{_f(tone) + ' replies/s (CPU time)' if tone is not None else 'see Terse judge'} | "
        f"{_ok(tone >= 20000 if tone is not None else None)} |"
    )
    rss = r.get("rss")
    if rss:
        parts = [f"{k} {v['sum_mib']} MiB ({v['n']} process{'es' if v['n'] != 1 else ''})" for k, v in rss.items()]
        rows.append(f"| peak RSS under load | — | {'; '.join(parts)} | |")
    m = r["machine"]
    rows.append(
        f"\nMachine: {m['cpu']}, {m['nproc']} cores, {m['memory']}; load average during the run {r.get('load')}.\n"
    )
    summary = "\n".join(rows) + "\n"
    summary_re = re.compile(r"^## Summary\n.*?(?=^## |\Z)", re.S | re.M)
    if summary_re.search(text):
        return summary_re.sub(lambda _m: summary, text, count=1)
    head, sep, rest = text.partition("\n## ")
    return head.rstrip("\n") + "\n\n" + summary + "\n" + (sep.lstrip("\n") + rest if sep else "")
