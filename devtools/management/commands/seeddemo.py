"""`python manage.py seeddemo [--port 8000]`: the demo shop, its logins and channels (idempotent)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from devtools.demo import DEMO_SHOP_NAME, default_demo_path, demo_base_url, demo_seed


class Command(BaseCommand):
    help = "Create the demo shop 'Toko Demo' with one channel per platform; prints the logins and an API token."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", default=None, help="the demo server's port (default: $PORT or 8000)")
        parser.add_argument("--host", default="127.0.0.1", help="the host the browser and simulator use")
        parser.add_argument("--output", default=None, help="where to write the demo secrets (default var/demo.json)")
        parser.add_argument("--json", action="store_true", help="print the demo file's content as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        base_url = demo_base_url(options["port"], options["host"])
        path = Path(options["output"]) if options["output"] else default_demo_path()
        info = demo_seed(base_url=base_url, path=path)
        if options["json"]:
            self.stdout.write(json.dumps(info.as_dict(), ensure_ascii=False))
            return
        created = ", ".join(info.created) if info.created else "nothing new (already there)"
        lines = [
            "",
            f"  Balas demo: {DEMO_SHOP_NAME} (created: {created})",
            f"  Open          {info.base_url}/",
            f"  Owner login   {info.owner['email']}  /  {info.owner['password']}",
            f"  Admin login   {info.admin['email']}  /  {info.admin['password']}",
            f"  API token     {info.owner['token']}   (owner; header 'Authorization: Token <token>')",
            f"  API docs      {info.base_url}/api/docs/",
            f"  Try           curl -H 'Authorization: Token {info.owner['token']}' "
            f"{info.base_url}/api/v1/conversations/",
            f"  Reply policy  {info.policy}",
            f"  Secrets file  {path}",
            "",
        ]
        self.stdout.write("\n".join(lines))
