"""After an outage: how long until a backlog of 10,000 unmeasured messages is measured and alerted.

    python scripts/faults/outage_catch_up.py                       # worker SIGKILLed, 10,000 messages
    python scripts/faults/outage_catch_up.py --mode redis          # Redis stopped instead
    python scripts/faults/outage_catch_up.py --messages 2000 --name ci_outage   # CI size

The stack is docker-compose.yml's layout on loopback: gunicorn (`config.wsgi`, 2 sync workers,
DATABASE_POOL=false), a prefork Celery worker (2 processes), Celery beat (the production sweep
interval, 30 s, and grace, 20 s), its own redis-server and PostgreSQL database. The worker gets
SIGKILL (or Redis is stopped), and stays down while signed webhooks of every platform bring
conversations (answered in time, answered late, never answered; asked minutes ago, so every
unanswered one is overdue) until the backlog holds `--messages` unmeasured messages. The outage
lasts `--hold-s` more (longer than the sweep's grace period, as any real outage does), then the
worker (or Redis) returns. Measured from that moment: the time until every message is measured,
and until every latency is stored exactly and every due alert raised; then, a sweep later, that
nothing changed and no alert is doubled. `--max-s` makes the time a check (run_all.sh: 60 s).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from common import (
    PLATFORMS,
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--name", default="outage_catch_up")
    parser.add_argument("--mode", choices=("worker", "redis"), default="worker")
    parser.add_argument("--messages", type=int, default=10_000, help="the backlog to build")
    parser.add_argument("--target-s", type=int, default=60)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--hold-s", type=float, default=25.0, help="outage after the last webhook")
    parser.add_argument("--sweep-s", type=float, default=30.0)
    parser.add_argument("--grace-s", type=int, default=20)
    parser.add_argument("--redis-port", type=int, default=6386)
    parser.add_argument("--settle-timeout-s", type=float, default=300.0)
    parser.add_argument("--max-s", type=float, default=None, help="fail if catching up takes longer")
    parser.add_argument(
        "--live", type=int, default=0, help="new conversations (question and in-time reply) at 2 a second after it"
    )
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    exit_on_sigterm()

    stack = Stack(
        args.name,
        redis_port=args.redis_port,
        web_server="gunicorn",
        sweep_interval_s=args.sweep_s,
        sweep_grace_s=args.grace_s,
    )
    figures: dict[str, Any] = {"scenario": "outage_catch_up", "args": vars(args)}
    ok = False
    try:
        stack.start()
        shop = stack.shop_create(target_s=args.target_s)
        stack.django()
        from monitoring.models import Alert, MessageTrack

        rng = random.Random(1414)  # noqa: S311 - reproducible test data
        now = int(time.time())
        conversations = []
        count = 0
        n = 0
        while count < args.messages:
            kind = n % 4
            delay = {0: args.target_s // 3, 1: None, 2: args.target_s * 2, 3: args.target_s // 2}[kind]
            # Asked 10 to 15 minutes ago: every deadline has passed by the time the worker returns.
            asked_at = now - 600 - rng.randint(0, 300)
            conv = build_conversation(shop["channels"], PLATFORMS[n % len(PLATFORMS)], asked_at, delay, rng)
            conversations.append(conv)
            count += 2 if conv.reply else 1
            n += 1
        deliveries = [c.question for c in conversations] + [c.reply for c in conversations if c.reply]
        # Shuffled: replies often arrive before their question (out of order, as after a platform retry).
        rng.shuffle(deliveries)
        expected = len(deliveries)
        unanswered = sum(1 for c in conversations if c.reply is None)
        log(f"{len(conversations)} conversations, {expected} deliveries, {unanswered} never answered")

        # The outage begins.
        stack.hold.add("worker")
        if args.mode == "worker":
            pid = stack.worker_kill()
            log(f"SIGKILL worker pid {pid}; it stays down")
        else:
            stack.redis_stop()
            log("redis-server stopped")
        outage_began = time.time()
        sender = Sender(stack.base_url, threads=args.threads)
        sender.post_all(deliveries)
        sent_s = time.time() - outage_began
        log(f"traffic done in {sent_s:.1f} s: {dict(sender.statuses())}")
        time.sleep(args.hold_s)

        def measured() -> int:
            return MessageTrack.objects.filter(message__shop_id=shop["shop"]).count()

        backlog = len(deliveries) - measured()
        log(f"backlog: {backlog} unmeasured of {expected}; the {args.mode} returns")
        # The outage ends.
        returned = time.time()
        if args.mode == "worker":
            stack.worker_start()
        else:
            stack.redis_start()
            if stack.procs["worker"].poll() is not None:
                stack.worker_start()  # it died with Redis (docs/reliability.md): the supervisor's job
        stack.hold.discard("worker")

        def live_traffic() -> None:
            # Traffic goes on after the outage (as it does in production): new customers, answered
            # in time, asked right now (their platform timestamps are the present).
            for k in range(args.live):
                conv = build_conversation(shop["channels"], PLATFORMS[k % len(PLATFORMS)], int(time.time()), 2, rng)
                sender.post(conv.question)
                assert conv.reply is not None
                sender.post(conv.reply)
                conversations.append(conv)
                time.sleep(0.5)

        import threading

        live_thread = threading.Thread(target=live_traffic, daemon=True)
        live_thread.start()

        timeline: list[tuple[float, int, int]] = []

        def progress() -> bool:
            done = measured()
            alerts = Alert.objects.filter(shop_id=shop["shop"], kind__in=["slow_first_reply", "slow_reply"])
            timeline.append((round(time.time() - returned, 1), done, alerts.count()))
            return done >= expected

        wait_until(progress, args.settle_timeout_s, interval=0.5)
        measured_in = time.time() - returned
        state = wait_until(
            lambda: (s := monitoring_state(conversations, args.target_s)) and state_complete(s) and s,
            args.settle_timeout_s,
            interval=0.5,
        )
        complete_in = time.time() - returned
        live_thread.join(60)
        if not state:
            state = monitoring_state(conversations, args.target_s)
        log(f"measured after {measured_in:.1f} s, everything after {complete_in:.1f} s")
        time.sleep(args.sweep_s + 5)
        state_after = monitoring_state(conversations, args.target_s)
        figures.update(
            {
                "mode": args.mode,
                "web": "gunicorn config.wsgi (2 sync workers)",
                "conversations": len(conversations),
                "deliveries_sent": len(sender.results),
                "deliveries_by_status": {str(k): v for k, v in sender.statuses().items()},
                "traffic_s": round(sent_s, 1),
                "backlog_unmeasured_when_returning": backlog,
                "live_conversations_after_return": args.live,
                "measured_after_return_s": round(measured_in, 1),
                "complete_after_return_s": round(complete_in, 1),
                "timeline_s_measured_alerts": timeline[:: max(1, len(timeline) // 40)],
                "supervisor_restarts": dict(stack.restarts),
                "state": state,
                "state_one_sweep_later": state_after,
            }
        )
        checks = {
            "every delivery answered 200": all(r.status == 200 for r in sender.results),
            "the backlog was built": backlog >= expected * 0.99,
            "everything measured, every latency exact, every due alert": state_complete(state_after),
            "no alert twice": state_after["alerts_doubled"] == 0,
            "no in-time reply alerted": state_after["replies_within_target_that_got_a_slow_alert"] == 0,
            "a sweep later nothing changed": state == state_after,
        }
        if args.max_s is not None:
            checks[f"caught up within {args.max_s:.0f} s"] = complete_in <= args.max_s
        figures["checks"] = checks
        ok = all(checks.values())
    finally:
        stack.stop()
        if not args.keep:
            stack.database_drop()
        write_figures(args.name, figures)
    for name, passed in figures.get("checks", {}).items():
        log(f"{'PASS' if passed else 'FAIL'}: {name}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
