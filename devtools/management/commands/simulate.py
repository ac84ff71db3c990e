"""`python manage.py simulate`: customers chatting with the demo shop through signed platform webhooks."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from devtools.demo import default_demo_path
from devtools.simulator import DEFAULT_INTERVAL_S, Simulator


class Command(BaseCommand):
    help = (
        "Post realistic, correctly signed customer chats (WhatsApp, Instagram, Messenger, Shopee, TikTok Shop "
        "and the API channel) to a running Balas. Run `seeddemo` first: it writes the secrets this reads."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--config", default=None, help="the demo secrets file (default var/demo.json)")
        parser.add_argument("--url", default=None, help="the server's base URL (default: the one in the file)")
        parser.add_argument(
            "--interval",
            type=float,
            default=float(os.environ.get("SIM_INTERVAL", str(DEFAULT_INTERVAL_S))),
            help=f"seconds between new customers (default $SIM_INTERVAL or {DEFAULT_INTERVAL_S:g})",
        )
        parser.add_argument(
            "--time-scale",
            type=float,
            default=1.0,
            help="multiply every pause, between customers too (0.1 = ten times faster)",
        )
        parser.add_argument("--scenes", type=int, default=0, help="stop after this many customers (0 = forever)")
        parser.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
        parser.add_argument("--seed", type=int, default=None, help="random seed, for a repeatable run")
        parser.add_argument("--wait", type=float, default=120, help="seconds to wait for the server to answer")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["config"]) if options["config"] else default_demo_path()
        if not path.exists():
            raise CommandError(f"{path} does not exist: run `python manage.py seeddemo` first")
        simulator = Simulator.from_demo_file(
            path,
            base_url=options["url"],
            interval=options["interval"],
            time_scale=options["time_scale"],
            seed=options["seed"],
        )
        self.stdout.write(f"simulating customers against {simulator.base_url} (Ctrl-C stops)")
        if not simulator.wait_for_server(options["wait"]):
            self.stderr.write(f"{simulator.base_url} did not answer within {options['wait']:.0f} s; posting anyway")
        try:
            stats = simulator.run(scenes=options["scenes"] or None, duration=options["duration"])
        except KeyboardInterrupt:
            stats = simulator.stats
        total = sum(stats.values())
        accepted = sum(n for (_, _, status), n in stats.items() if status.startswith("2"))
        self.stdout.write(f"posted {total} deliveries, {accepted} accepted")
