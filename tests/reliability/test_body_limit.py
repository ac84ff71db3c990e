"""Oversized bodies get 413 with a clear message before any view reads them; nothing is stored."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.core.asgi import get_asgi_application

from inbox.middleware import AsgiBodyLimit
from inbox.models import Message, WebhookEvent
from tests.conftest import post_webhook, sample, signed_headers

pytestmark = pytest.mark.django_db

PLATFORMS = ("whatsapp", "instagram", "messenger", "shopee", "tiktokshop")
LIMIT = 8 * 1024


@pytest.fixture(autouse=True)
def _small_limit(settings: Any) -> None:
    settings.BALAS_MAX_BODY_BYTES = LIMIT


def _padded(platform: str, size: int) -> bytes:
    """The platform's real sample, padded with an extra field to `size` bytes: valid JSON, signed."""
    payload = json.loads(sample(f"{platform}_text.json"))
    raw = json.dumps(payload).encode()
    payload["padding"] = "x" * (size - len(raw) - len(', "padding": ""'))
    raw = json.dumps(payload).encode()
    assert len(raw) == size
    return raw


@pytest.mark.parametrize("platform", PLATFORMS)
def test_webhook_above_the_limit_is_413_and_stores_nothing(client, channels, platform):
    raw = _padded(platform, LIMIT + 1)
    response = post_webhook(client, platform, raw, signed_headers(channels[platform], raw))
    assert response.status_code == 413
    assert response.json() == {"error": f"request body is {LIMIT + 1} bytes; the limit is {LIMIT} bytes"}
    assert Message.objects.count() == 0
    assert WebhookEvent.objects.count() == 0


@pytest.mark.parametrize("platform", PLATFORMS)
def test_webhook_at_the_limit_is_accepted(client, channels, platform):
    raw = _padded(platform, LIMIT)
    response = post_webhook(client, platform, raw, signed_headers(channels[platform], raw))
    assert response.status_code == 200, response.content
    assert Message.objects.count() == 1


def test_api_body_above_the_limit_is_413(client, owner):
    body = json.dumps({"customer": "x" * LIMIT, "reply": "ok"})
    response = client.post(
        "/api/v1/tone/check/", data=body, content_type="application/json", HTTP_AUTHORIZATION=f"Token {owner.api_token}"
    )
    assert response.status_code == 413
    assert "the limit is" in response.json()["error"]


def test_a_content_length_that_is_not_a_number_is_400(client, channels):
    response = client.generic(
        "POST", "/webhooks/whatsapp/", b"{}", content_type="application/json", CONTENT_LENGTH="lots"
    )
    assert response.status_code == 400
    assert response.json() == {"error": "Content-Length 'lots' is not a number"}


# --- the ASGI wrapper (chunked bodies without Content-Length) -----------------------------------


def _asgi_post(app: Any, chunks: list[bytes], headers: list[tuple[bytes, bytes]]) -> tuple[int, bytes]:
    async def run() -> tuple[int, bytes]:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/webhooks/whatsapp/",
            "raw_path": b"/webhooks/whatsapp/",
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"), *headers],
            "client": ("127.0.0.1", 5000),
            "server": ("testserver", 80),
        }
        communicator = ApplicationCommunicator(app, scope)
        for i, chunk in enumerate(chunks):
            await communicator.send_input({"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1})
        start = await communicator.receive_output(timeout=10)
        body = b""
        while True:
            message = await communicator.receive_output(timeout=10)
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        return start["status"], body

    return async_to_sync(run)()


@pytest.mark.django_db(transaction=True)
def test_asgi_wrapper_refuses_a_chunked_body_above_the_limit():
    app = AsgiBodyLimit(get_asgi_application(), limit=1000)
    status, body = _asgi_post(app, [b"x" * 600, b"x" * 600], [])
    assert status == 413
    assert json.loads(body) == {"error": "request body is larger than the limit of 1000 bytes"}
    status, body = _asgi_post(app, [b"{}"], [(b"content-length", b"5000")])
    assert status == 413
    assert json.loads(body) == {"error": "request body is 5000 bytes; the limit is 1000 bytes"}
    assert WebhookEvent.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_asgi_wrapper_passes_a_small_chunked_body_through(channels):
    app = AsgiBodyLimit(get_asgi_application(), limit=LIMIT)
    raw = sample("whatsapp_text.json")
    headers = [(k.lower().encode(), v.encode()) for k, v in signed_headers(channels["whatsapp"], raw).items()]
    status, body = _asgi_post(app, [raw[:100], raw[100:]], headers)
    assert status == 200, body
    assert Message.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_deployed_asgi_app_refuses_a_chunked_body_above_the_limit(settings):
    from config.asgi import application

    settings.BALAS_MAX_BODY_BYTES = 1000
    status, body = _asgi_post(application, [b"x" * 600, b"x" * 600], [])
    assert status == 413
    assert json.loads(body) == {"error": "request body is larger than the limit of 1000 bytes"}
    assert WebhookEvent.objects.count() == 0
