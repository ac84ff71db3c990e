"""A Celery worker killed with SIGKILL in the middle of work: nothing lost, no alert doubled.

    python scripts/faults/worker_kill.py                    # full size: 600 conversations
    python scripts/faults/worker_kill.py --conversations 120 --redis-port 6393 --name worker_kill_short

A burst of conversations (answered within the target, never answered, answered late) is posted
as fast as the server takes it. When a share of the messages is measured, the worker and its
pool children get SIGKILL together (an OOM kill or a lost machine): the tasks they held
(acks_late, reserved ETA deadline checks) are neither finished nor acknowledged. The supervisor
restarts the worker as systemd would. Afterwards every message is measured, every latency stored
once, every due alert raised once, and it stays so after the broker has redelivered what the
dead worker held (visibility timeout) and after more sweeps.
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
    parser.add_argument("--name", default="worker_kill")
    parser.add_argument("--conversations", type=int, default=600)
    parser.add_argument("--kill-at", type=float, default=0.3, help="share of messages measured when the kill comes")
    parser.add_argument("--target-s", type=int, default=20)
    parser.add_argument("--visibility-s", type=int, default=20, help="broker redelivery of unacknowledged tasks")
    parser.add_argument("--sweep-s", type=float, default=5.0)
    parser.add_argument("--redis-port", type=int, default=6393)
    parser.add_argument("--settle-timeout-s", type=float, default=240.0)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    exit_on_sigterm()

    stack = Stack(
        args.name,
        redis_port=args.redis_port,
        sweep_interval_s=args.sweep_s,
        sweep_grace_s=3,
        visibility_timeout_s=args.visibility_s,
        # Re-arm steps must stay under the visibility timeout.
        deadline_step_s=max(2, args.visibility_s // 2),
    )
    figures: dict[str, Any] = {"scenario": "worker_kill", "args": vars(args)}
    ok = False
    try:
        stack.start()
        shop = stack.shop_create(target_s=args.target_s)
        stack.django()
        from monitoring.models import MessageTrack

        rng = random.Random(4242)  # noqa: S311 - reproducible test data
        now = int(time.time())
        conversations = []
        for n in range(args.conversations):
            kind = n % 3
            delay = {0: max(1, args.target_s // 4), 1: None, 2: args.target_s + 5}[kind]
            # Asked a little in the past: the deadlines fall during and after the kill.
            asked_at = now - rng.randint(0, args.target_s)
            conversations.append(
                build_conversation(shop["channels"], PLATFORMS[n % len(PLATFORMS)], asked_at, delay, rng)
            )
        deliveries = [c.question for c in conversations] + [c.reply for c in conversations if c.reply]
        rng.shuffle(deliveries)
        expected = len(deliveries)
        log(f"{len(conversations)} conversations, {expected} deliveries")

        sender = Sender(stack.base_url, threads=8)
        import threading

        posting = threading.Thread(target=sender.post_all, args=(deliveries,))
        posting.start()
        threshold = int(expected * args.kill_at)
        wait_until(lambda: MessageTrack.objects.count() >= threshold, 120, interval=0.05)
        measured_at_kill = MessageTrack.objects.count()
        pid = stack.worker_kill()
        killed_at = time.time()
        log(f"SIGKILL worker pid {pid} with {measured_at_kill}/{expected} messages measured")
        posting.join()
        log(f"traffic done: {dict(sender.statuses())}")

        state = wait_until(
            lambda: (s := monitoring_state(conversations, args.target_s)) and state_complete(s) and s,
            args.settle_timeout_s,
        )
        settled_in = time.time() - killed_at
        if not state:
            state = monitoring_state(conversations, args.target_s)
        # Let the broker redeliver what the dead worker held, and a few more sweeps run.
        time.sleep(args.visibility_s + 2 * args.sweep_s + 5)
        state_after = monitoring_state(conversations, args.target_s)
        figures.update(
            {
                "conversations": len(conversations),
                "deliveries_sent": len(sender.results),
                "deliveries_by_status": {str(k): v for k, v in sender.statuses().items()},
                "messages_measured_when_killed": measured_at_kill,
                "settled_after_kill_s": round(settled_in, 1),
                "supervisor_restarts": dict(stack.restarts),
                "state": state,
                "state_after_redelivery_and_sweeps": state_after,
            }
        )
        checks = {
            "every delivery answered 200": all(r.status == 200 for r in sender.results),
            "the kill came in the middle of the work": 0 < measured_at_kill < expected,
            "everything measured, every latency exact, every due alert": state_complete(state_after),
            "no alert twice": state_after["alerts_doubled"] == 0,
            "redelivery and sweeps changed nothing": state == state_after,
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
