"""A duplicate storm: every message delivered many times, interleaved and concurrent.

    python scripts/faults/duplicate_storm.py                   # 10,000 deliveries of 1,000 messages
    python scripts/faults/duplicate_storm.py --messages 100 --copies 5 --redis-port 6394 --name duplicate_storm_short

Half of the messages are customer questions, half the shop's replies to them (echoes from the
platform's app), spread over all five platforms. Each is delivered `--copies` times; the whole
list is shuffled (a reply may arrive before its question) and posted from `--threads` threads at
once. Exactly one row per message may be stored, every delivery recorded once as a raw event,
every reply's latency counted once and exactly, and the report API must count each reply once.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path
from typing import Any

import requests

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
    parser.add_argument("--name", default="duplicate_storm")
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--redis-port", type=int, default=6394)
    parser.add_argument("--settle-timeout-s", type=float, default=300.0)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    exit_on_sigterm()

    target_s = 600
    stack = Stack(args.name, redis_port=args.redis_port, sweep_interval_s=10, sweep_grace_s=5)
    figures: dict[str, Any] = {"scenario": "duplicate_storm", "args": vars(args)}
    ok = False
    try:
        stack.start()
        shop = stack.shop_create(target_s=target_s)
        stack.django()
        rng = random.Random(10_000)  # noqa: S311 - reproducible test data
        now = int(time.time())
        conversations = [
            build_conversation(
                shop["channels"],
                PLATFORMS[n % len(PLATFORMS)],
                now - 300 + rng.randint(0, 120),
                rng.randint(5, 200),
                rng,
            )
            for n in range(args.messages // 2)
        ]
        unique = [c.question for c in conversations] + [c.reply for c in conversations if c.reply is not None]
        deliveries = [d for d in unique for _ in range(args.copies)]
        rng.shuffle(deliveries)
        log(f"{len(unique)} messages, {len(deliveries)} deliveries from {args.threads} threads")
        sender = Sender(stack.base_url, threads=args.threads)
        started = time.monotonic()
        sender.post_all(deliveries)
        storm_s = time.monotonic() - started
        log(f"storm done in {storm_s:.1f} s: {dict(sender.statuses())}")

        state = wait_until(
            lambda: (s := monitoring_state(conversations, target_s)) and state_complete(s) and s,
            args.settle_timeout_s,
        )
        if not state:
            state = monitoring_state(conversations, target_s)
        time.sleep(12)  # one more sweep
        state_after = monitoring_state(conversations, target_s)
        report = requests.get(
            f"{stack.base_url}/api/v1/reports/response-times/",
            params={
                "group_by": "channel",
                "since": time.strftime("%Y-%m-%d", time.gmtime(now - 86400)),
                "until": time.strftime("%Y-%m-%d", time.gmtime(now + 86400)),
            },
            headers={"Authorization": f"Token {shop['token']}"},
            timeout=30,
        )
        report_count = sum(row.get("count", 0) for row in report.json().get("results", report.json().get("groups", [])))
        figures.update(
            {
                "messages": len(unique),
                "deliveries_sent": len(sender.results),
                "deliveries_by_status": {str(k): v for k, v in sender.statuses().items()},
                "storm_seconds": round(storm_s, 1),
                "deliveries_per_second": round(len(deliveries) / storm_s, 1),
                "report_status": report.status_code,
                "report_error": "" if report.ok else report.text[:300],
                "report_reply_count": report_count,
                "state": state_after,
                "supervisor_restarts": dict(stack.restarts),
            }
        )
        events = state_after["webhook_events_by_outcome"]
        checks = {
            "every delivery answered 200": all(r.status == 200 for r in sender.results),
            "exactly one row per message": state_after["messages_committed"] == len(unique),
            "every delivery recorded once as a raw event": state_after["webhook_events"] == len(deliveries),
            "one accepted event per message, the rest duplicates": events.get("accepted") == len(unique)
            and events.get("duplicate") == len(deliveries) - len(unique),
            "every reply's latency counted once and exactly": state_complete(state_after),
            "the report counts each reply once": report_count == len(conversations),
            "no alerts (all replies within target), none doubled": state_after["alerts_total"] == 0,
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
