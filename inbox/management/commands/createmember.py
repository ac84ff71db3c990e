"""`createmember --shop <id> --email a@example.com --password ... --role admin`: prints one JSON object."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from inbox.models import Member, Shop
from inbox.services import EmailTakenError, member_create


class Command(BaseCommand):
    help = 'Add a member to a shop; prints {"member": id, "token": api token}.'

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--shop", type=int, required=True, help="The shop's id.")
        parser.add_argument("--email", required=True, help="The member's email (their login).")
        parser.add_argument("--password", required=True, help="The member's password.")
        parser.add_argument("--role", choices=Member.Role.values, default=Member.Role.ADMIN)

    def handle(self, *args: Any, **options: Any) -> None:
        shop = Shop.objects.filter(pk=options["shop"]).first()
        if shop is None:
            raise CommandError(f"No shop has id {options['shop']}.")
        try:
            member, token = member_create(
                shop=shop, email=options["email"], password=options["password"], role=options["role"]
            )
        except EmailTakenError as exc:
            raise CommandError(str(exc)) from exc
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(json.dumps({"member": member.pk, "token": token}))
