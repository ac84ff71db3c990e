"""Redis stops for a minute while webhooks arrive at a steady rate; nothing may be lost or doubled.

    python scripts/faults/redis_outage.py                 # the full scenario: 60 s outage
    python scripts/faults/redis_outage.py --outage-s 10 --rate 4 --before-s 4 --after-s 8 \\
        --target-s 6 --sweep-s 3 --grace-s 2 --redis-port 6392 --name redis_outage_short   # CI size

Conversations start at a steady rate in three kinds, in turn: answered within the target,
never answered (a slow-reply alert is due) and answered after the target. Every delivery must
get 200 with its message committed, during the outage too. Once Redis is back, every message
must be measured, every reply's latency stored once and exactly, every due alert raised, none
twice. Figures go to var/faults/<name>.json; the exit code is 0 only if every check holds.
"""

from __future__ import annotations

import argparse
import heapq
import random
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
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
    percentile,
    state_complete,
    wait_until,
    write_figures,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--name", default="redis_outage")
    parser.add_argument("--outage-s", type=float, default=60.0)
    parser.add_argument("--before-s", type=float, default=15.0, help="steady traffic before Redis stops")
    parser.add_argument("--after-s", type=float, default=30.0, help="steady traffic after Redis is back")
    parser.add_argument("--rate", type=float, default=8.0, help="new conversations per second")
    parser.add_argument("--target-s", type=int, default=20, help="the shop's reply target")
    parser.add_argument("--sweep-s", type=float, default=30.0, help="beat's monitoring sweep interval")
    parser.add_argument("--grace-s", type=int, default=20, help="the sweep's grace before measuring a message")
    parser.add_argument("--redis-port", type=int, default=6391)
    parser.add_argument("--settle-timeout-s", type=float, default=240.0)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)
    exit_on_sigterm()

    stack = Stack(args.name, redis_port=args.redis_port, sweep_interval_s=args.sweep_s, sweep_grace_s=args.grace_s)
    figures: dict[str, Any] = {"scenario": "redis_outage", "args": vars(args)}
    ok = False
    try:
        stack.start()
        shop = stack.shop_create(target_s=args.target_s)
        stack.django()
        rng = random.Random(20261123)  # noqa: S311 - reproducible test data
        fast_s, late_s = max(1, args.target_s // 3), args.target_s + 4
        window = args.before_s + args.outage_s + args.after_s
        t0 = time.time() + 1.0
        # Every delivery on a timeline of wall-clock send times; the payload carries that time.
        timeline: list[tuple[float, int, Any]] = []
        conversations = []
        n = 0
        start = 0.0
        while start < window - late_s - 1:
            kind = n % 3
            delay = {0: fast_s, 1: None, 2: late_s}[kind]
            asked_at = int(t0 + start)
            conv = build_conversation(shop["channels"], PLATFORMS[n % len(PLATFORMS)], asked_at, delay, rng)
            conversations.append(conv)
            heapq.heappush(timeline, (asked_at, n * 2, conv.question))
            if conv.reply is not None:
                heapq.heappush(timeline, (conv.reply.at, n * 2 + 1, conv.reply))
            n += 1
            start += 1.0 / args.rate
        deliveries_planned = len(timeline)
        log(f"{len(conversations)} conversations, {deliveries_planned} deliveries over {window:.0f} s")

        sender = Sender(stack.base_url)
        outage: dict[str, float] = {}

        def break_redis() -> None:
            time.sleep(max(0.0, t0 + args.before_s - time.time()))
            log("stopping redis")
            outage["down_at"] = time.time()
            stack.redis_stop()
            time.sleep(args.outage_s)
            log("starting redis")
            stack.redis_start()
            outage["up_at"] = time.time()

        breaker = threading.Thread(target=break_redis, daemon=True, name="redis-breaker")
        breaker.start()
        pool = ThreadPoolExecutor(16)
        try:
            while timeline:
                due, _, delivery = heapq.heappop(timeline)
                time.sleep(max(0.0, due - time.time()))
                pool.submit(sender.post, delivery)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        breaker.join()
        log(f"traffic done: {dict(sender.statuses())}")

        settle_started = time.time()
        state = wait_until(
            lambda: (s := monitoring_state(conversations, args.target_s)) and state_complete(s) and s,
            args.settle_timeout_s,
            interval=1.0,
        )
        settled_in = time.time() - settle_started
        if not state:
            state = monitoring_state(conversations, args.target_s)
        # One more sweep and deadline round: nothing may be raised twice.
        time.sleep(args.sweep_s + 3)
        state_after = monitoring_state(conversations, args.target_s)

        during = [r for r in sender.results if outage["down_at"] <= r.sent_at < outage["up_at"]]
        normal = [r for r in sender.results if r not in during]
        figures.update(
            {
                "conversations": len(conversations),
                "deliveries_sent": len(sender.results),
                "deliveries_by_status": {str(k): v for k, v in sender.statuses().items()},
                "deliveries_during_outage": len(during),
                "deliveries_during_outage_not_200": sum(1 for r in during if r.status != 200),
                "outage_s": round(outage["up_at"] - outage["down_at"], 1),
                "webhook_seconds_during_outage": {
                    "p50": round(percentile([r.seconds for r in during], 0.5), 4),
                    "p99": round(percentile([r.seconds for r in during], 0.99), 4),
                    "max": round(max((r.seconds for r in during), default=0), 4),
                },
                "webhook_seconds_otherwise": {
                    "p50": round(percentile([r.seconds for r in normal], 0.5), 4),
                    "p99": round(percentile([r.seconds for r in normal], 0.99), 4),
                    "max": round(max((r.seconds for r in normal), default=0), 4),
                },
                "settled_after_traffic_s": round(settled_in, 1),
                "state": state,
                "state_one_sweep_later": state_after,
                "errors": [r.error for r in sender.results if r.status != 200][:5],
                "processes_alive_at_end": {name: proc.poll() is None for name, proc in stack.procs.items()},
                "supervisor_restarts": dict(stack.restarts),
            }
        )
        checks = {
            "every delivery answered 200": len(sender.results) == deliveries_planned
            and all(r.status == 200 for r in sender.results),
            "deliveries happened during the outage": len(during) > 0,
            "every message committed, measured, every latency exact, every due alert": state_complete(state_after),
            "no alert twice": state_after["alerts_doubled"] == 0,
            "nothing changed in the extra sweep": {k: v for k, v in state.items()} == state_after,
            "web, worker and beat running at the end": all(figures["processes_alive_at_end"].values()),
        }
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
