"""Hypothesis-generated webhook bodies, correctly signed, for every platform.

Mutations of the real samples (a leaf replaced by any JSON value, a key dropped, a list emptied)
and wholly random JSON or bytes: the answer is never a 5xx, a refused body leaves no row behind,
and every 4xx says in words what is wrong.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inbox.models import Contact, Conversation, Message, WebhookEvent
from tests.conftest import post_webhook, sample, signed_headers

pytestmark = pytest.mark.django_db

PLATFORMS = ("whatsapp", "instagram", "messenger", "shopee", "tiktokshop")
SAMPLES = {p: [json.loads(sample(f"{p}_{kind}.json")) for kind in ("text", "echo", "image")] for p in PLATFORMS}
EXAMPLES = 40

json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
)
json_value = st.recursive(
    json_leaf,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += _paths(value, (*prefix, index))
    return out


def _mutate(doc: Any, path: tuple[Any, ...], action: str, value: Any) -> Any:
    if not path:
        return value
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if action == "drop" and isinstance(parent, dict):
        del parent[last]
    elif action == "empty" and isinstance(parent[last], list | dict):
        parent[last] = type(parent[last])()
    else:
        parent[last] = value
    return doc


@st.composite
def mutated_bodies(draw: Any, platform: str) -> bytes:
    kind = draw(st.sampled_from(["mutate", "mutate", "mutate", "mutate2", "random_json", "random_bytes"]))
    if kind == "random_bytes":
        return draw(st.binary(max_size=200))
    if kind == "random_json":
        return json.dumps(draw(json_value)).encode()
    doc = json.loads(json.dumps(draw(st.sampled_from(SAMPLES[platform]))))
    for _ in range(2 if kind == "mutate2" else 1):
        path = draw(st.sampled_from(_paths(doc)))
        doc = _mutate(doc, path, draw(st.sampled_from(["replace", "drop", "empty"])), draw(json_value))
    return json.dumps(doc).encode()


def _counts() -> tuple[int, ...]:
    return (
        Message.objects.count(),
        WebhookEvent.objects.count(),
        Conversation.objects.count(),
        Contact.objects.count(),
    )


@pytest.mark.parametrize("platform", PLATFORMS)
def test_signed_random_bodies_never_fail_the_server(platform, channels):
    channel = channels[platform]
    client = Client()
    seen: dict[int, int] = {}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(raw=mutated_bodies(platform))
    def check(raw: bytes) -> None:
        before = _counts()
        response = post_webhook(client, platform, raw, signed_headers(channel, raw))
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        assert response.status_code < 500, (response.status_code, raw[:300])
        if response.status_code >= 400:
            assert _counts() == before, f"a refused body ({response.status_code}) left rows behind: {raw[:300]!r}"
            error = response.json()["error"]
            assert isinstance(error, str) and len(error) >= 10, error
        else:
            assert response.status_code == 200

    check()
    # The generator reached both sides: bodies refused and bodies accepted.
    assert any(code >= 400 for code in seen), seen
    assert seen.get(200, 0) > 0, seen


@pytest.mark.parametrize("platform", PLATFORMS)
def test_unsigned_or_wrongly_signed_bodies_store_nothing(platform, channels):
    raw = sample(f"{platform}_text.json")
    headers = signed_headers(channels[platform], raw)
    tampered = raw.replace(b"}", b" }", 1)
    for body, hdrs in ((raw, {}), (tampered, headers)):
        response = post_webhook(Client(), platform, body, hdrs)
        assert response.status_code == 401
        assert response.json() == {"error": "signature is missing or wrong"}
    assert _counts() == (0, 0, 0, 0)
