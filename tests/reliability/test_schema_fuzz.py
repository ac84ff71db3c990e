"""Schemathesis against the live API (/api/schema/) with a member token: never a 5xx.

Every operation in the OpenAPI schema gets generated requests (valid and invalid by the schema)
from the owner of a shop with data; SCHEMATHESIS_MAX_EXAMPLES raises the per-operation count.
Replies go to the local fake platform APIs. (Schemathesis' own pytest plugin does not run under
pytest 9, so the operations are driven with Hypothesis directly.)
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error

from tests.support import redis_flush

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "12"))

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_no_operation_answers_5xx(live_server, victim, fake_platforms, settings):
    settings.BALAS_THROTTLE_RATES = {}  # one token, many requests: not what throttling is for
    redis_flush()
    headers = {"Authorization": f"Token {victim['owner'].api_token}"}
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 14
    failures: list[str] = []
    calls: dict[str, int] = {}

    def fuzz(operation: Any) -> None:
        label = operation.label

        @hypothesis_settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case: Any) -> None:
            response = case.call(headers=dict(headers), timeout=30)
            calls[label] = calls.get(label, 0) + 1
            try:
                case.validate_response(response, checks=[not_a_server_error])
            except Exception as exc:  # collect every operation's failure, then report them all
                failures.append(f"{label}: {response.status_code} {str(exc)[:300]}")
                raise

        try:
            check()
        except Exception as exc:  # noqa: BLE001 - every operation's failure is reported at the end
            if not any(f.startswith(f"{label}:") for f in failures):
                failures.append(f"{label}: {type(exc).__name__}: {str(exc)[:500]}")

    for operation in operations:
        fuzz(operation)
    assert not failures, "\n".join(failures)
    assert len(calls) == len(operations)
