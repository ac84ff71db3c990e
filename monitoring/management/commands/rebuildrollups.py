"""`rebuildrollups [--shop <id> ...]`: recompute the dashboard's rollups from the reply measurements.

Prints one JSON object: {"shops": {"<id>": <measurements counted>, ...}, "seconds": <elapsed>}.
"""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from inbox.models import Shop
from monitoring.services.rollups import rollups_rebuild, rollups_rebuild_all


class Command(BaseCommand):
    help = "Recompute the dashboard's per-day and per-hour rollups from the reply measurements."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--shop", type=int, action="append", help="Only this shop (repeatable); default: every shop."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        shop_ids: list[int] | None = options.get("shop")
        if shop_ids:
            missing = sorted(set(shop_ids) - set(Shop.objects.filter(pk__in=shop_ids).values_list("pk", flat=True)))
            if missing:
                raise CommandError(f"No shop has id {', '.join(str(i) for i in missing)}.")
            counted = {shop_id: rollups_rebuild(shop_id=shop_id) for shop_id in shop_ids}
        else:
            counted = rollups_rebuild_all()
        result = {"shops": {str(k): v for k, v in counted.items()}, "seconds": round(time.perf_counter() - started, 2)}
        self.stdout.write(json.dumps(result))
