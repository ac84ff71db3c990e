"""`createshop "Glow Beauty" --owner owner@example.com --password S3cret!`: prints one JSON object."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from inbox.services import EmailTakenError, shop_create


class Command(BaseCommand):
    help = 'Create a shop and its owner; prints {"shop": id, "owner": email, "token": api token}.'

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="The shop's name.")
        parser.add_argument("--owner", required=True, help="The owner's email (their login).")
        parser.add_argument("--password", required=True, help="The owner's password.")
        parser.add_argument("--timezone", default="Asia/Jakarta", help="The shop's time zone (default Asia/Jakarta).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            shop, owner, token = shop_create(
                name=options["name"],
                owner_email=options["owner"],
                owner_password=options["password"],
                timezone=options["timezone"],
            )
        except EmailTakenError as exc:
            raise CommandError(str(exc)) from exc
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(json.dumps({"shop": shop.pk, "owner": owner.user.get_username(), "token": token}))
