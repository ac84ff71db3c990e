"""Schemathesis with every check over every operation of /api/schema/: the schema says what the server does.

The run is the schemathesis CLI (`schemathesis run --checks all`, the tool and flags the security
tester used) against this test's live server: every phase (examples, coverage, fuzzing, stateful),
a bounded number of examples per operation in deterministic mode, so CI sends the same cases each
run. Operations come from the served schema, so an endpoint added later is covered without touching
this file. Two identities: a shop owner's member token for every operation a member calls, and an
`api` channel's own token for the channel push (which refuses member tokens by design; its path id
is that channel's). The figures are printed (pytest -s) and written to schemathesis-<name>.json in
the test's tmp directory.

One setting per operation comes from the document too: where an operation documents 422 (a valid
request the object's current state refuses: a reply outside WhatsApp's 24-hour window, a retry of
a message that is not a failed reply), `positive_data_acceptance` counts 422 as an answer to valid
data. Every other check runs with schemathesis' defaults.

Objects no operation creates come from the fixture, their ids given to the operations that need
them (schemathesis' per-operation `parameters`): the terse alert the alert operations act on, and the
owner's Web Push subscription the unsubscribe names. An operation that removes one of them (the
unsubscribe) removes the fixture's own, so later cases get the documented 404; no operation is left out.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from django.utils import timezone

from inbox.models import Channel, Member
from inbox.tokens import token_generate
from monitoring.models import Alert, PushSubscription
from monitoring.services.alerts import alert_raise
from tests.factories import (
    ChannelFactory,
    ContactFactory,
    ConversationFactory,
    MemberFactory,
    MessageFactory,
    ShopFactory,
)
from tests.support import redis_flush

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25"))
CHANNEL_PUSH = "POST /api/v1/channels/{id}/messages/"
# Operations on one alert get the fixture's terse alert (no operation creates alerts): every one of
# them takes it, feedback included, so each case reaches the operation's own logic, not only its 404.
ALERT_OPERATIONS = ("POST /api/v1/alerts/{id}/acknowledge/", "POST /api/v1/alerts/{id}/feedback/")
# The owner's own Web Push subscription, which the unsubscribe names in its body: its first call
# removes it (204), the later ones get the documented 404.
PUSH_UNSUBSCRIBE = "DELETE /api/v1/me/push-subscriptions/"
PUSH_ENDPOINT = "https://push.example/conformance"
# schemathesis' default for positive_data_acceptance, plus 422 where an operation documents it.
POSITIVE_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _schemathesis() -> str:
    found = shutil.which("schemathesis", path=str(Path(sys.executable).parent)) or shutil.which("schemathesis")
    assert found, "schemathesis is pinned in requirements-dev.txt"
    return found


@pytest.fixture
def shop_data(db: Any) -> dict[str, Any]:
    now = timezone.now()
    shop = ShopFactory()
    owner = MemberFactory(shop=shop, role=Member.Role.OWNER)
    admin = MemberFactory(shop=shop, role=Member.Role.ADMIN)
    channel = ChannelFactory(shop=shop, platform="whatsapp")
    api_channel = ChannelFactory(shop=shop, platform="api", account_id="conformance-api", name="Web")
    raw, digest = token_generate("bc")
    Channel.objects.filter(pk=api_channel.pk).update(token_hash=digest)
    contact = ContactFactory(channel=channel, shop=shop)
    conversation = ConversationFactory(contact=contact, channel=channel, shop=shop, assignee=admin, last_inbound_at=now)
    MessageFactory(conversation=conversation, text="Kak ready?", sent_at=now - timedelta(minutes=1))
    MessageFactory(
        conversation=conversation, direction="out", source="inbox", status="failed", text="gagal", sent_by=admin
    )
    alert, _created = alert_raise(conversation=conversation, kind=Alert.Kind.TERSE_REPLY, title="Ketus")
    PushSubscription.objects.create(member=owner, endpoint=PUSH_ENDPOINT, p256dh="B" * 87, auth="A" * 22)
    return {"owner": owner, "api_channel": api_channel, "channel_token": raw, "alert": alert}


def _config(schema: dict[str, Any], api_channel_id: int, alert_id: int) -> str:
    """schemathesis.toml: per-operation settings derived from the document (see the module doc)."""
    lines: list[str] = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            name = f"{method.upper()} {path}"
            entries: list[str] = []
            if "422" in operation.get("responses", {}):
                statuses = ", ".join(f'"{s}"' for s in [*POSITIVE_STATUSES, "422"])
                entries.append(f"checks.positive_data_acceptance.expected-statuses = [{statuses}]")
            if name == CHANNEL_PUSH:
                entries.append(f'parameters = {{ "path.id" = {api_channel_id} }}')
            if name in ALERT_OPERATIONS:
                entries.append(f'parameters = {{ "path.id" = {alert_id} }}')
            if name == PUSH_UNSUBSCRIBE:
                entries.append(f'parameters = {{ "body.endpoint" = "{PUSH_ENDPOINT}" }}')
            if entries:
                lines += ["[[operations]]", f'include-name = "{name}"', *entries, ""]
    return "\n".join(lines)


def _run(base: str, config: Path, token: str, tmp: Path, name: str, *filters: str) -> dict[str, Any]:
    report = tmp / f"schemathesis-{name}.json"
    command = [
        _schemathesis(),
        "--no-color",
        "--config-file",
        str(config),
        "run",
        f"{base}/api/schema/",
        "--checks",
        "all",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--generation-deterministic",
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "-H",
        f"Authorization: Token {token}",
        "--report",
        "json",
        "--report-json-path",
        str(report),
        *filters,
    ]
    # cwd: schemathesis keeps a cache folder in the working directory.
    result = subprocess.run(command, capture_output=True, text=True, timeout=1500, check=False, cwd=tmp)
    output = result.stdout + result.stderr
    (tmp / f"schemathesis-{name}.log").write_text(output)
    assert report.exists(), output[-4000:]
    return {"code": result.returncode, "output": output, "report": json.loads(report.read_text())}


def test_every_operation_conforms_to_the_schema(live_server, shop_data, fake_platforms, settings, tmp_path):
    settings.BALAS_THROTTLE_RATES = {}  # one token, thousands of requests: not what throttling is for
    redis_flush()
    schema = requests.get(f"{live_server.url}/api/schema/?format=json", timeout=30).json()
    every = {f"{m.upper()} {p}" for p, ops in schema["paths"].items() for m in ops}
    assert CHANNEL_PUSH in every
    config = tmp_path / "schemathesis.toml"
    config.write_text(_config(schema, shop_data["api_channel"].pk, shop_data["alert"].pk))
    runs = {
        "member": _run(
            live_server.url, config, shop_data["owner"].api_token, tmp_path, "member", "--exclude-name", CHANNEL_PUSH
        ),
        "channel": _run(
            live_server.url,
            config,
            shop_data["channel_token"],
            tmp_path,
            "channel",
            "--include-name",
            CHANNEL_PUSH,
        ),
    }
    tested = sum(run["report"]["operations"]["tested"] for run in runs.values())
    cases = sum(run["report"]["test_cases"]["generated"] for run in runs.values())
    failures = sum(run["report"]["test_cases"]["unique_failures"] for run in runs.values())
    print(f"\nschemathesis: {tested} of {len(every)} operations, {cases} test cases, all checks, {failures} failures")
    for name, run in runs.items():
        assert run["code"] == 0, f"{name} run:\n{run['output'][-12000:]}"
    assert tested == len(every), "every operation of the schema is tested"
