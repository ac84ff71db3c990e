"""The documented layout's servers, started with docker-compose.yml's exact commands.

- Deliverable 2 of issue 14: a 200 from a webhook means the complete body was verified and
  stored, on gunicorn (`web`) and uvicorn (`ws`, which serves the same app), with Content-Length
  and with `Transfer-Encoding: chunked`. Under gunicorn a chunked Shopee push used to be read
  as empty: 200 and nothing stored.
- Attack 4: the `ws` log never holds an API token, though uvicorn logs each handshake line,
  query string included, on `uvicorn.error`.
- Attack 9 on the real server: a `?token=` socket without an Origin header is accepted.

The figures (sent, accepted, stored, lost, doubled) go to var/reliability/servers.json for
docs/reliability.md.
"""

from __future__ import annotations

import asyncio
import json
import random
import shutil
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import websockets

from devtools.simulator import ChannelSpec, customer_message, customer_new, signed
from inbox.models import Channel, Member, Message, WebhookEvent
from tests.factories import ChannelFactory, MemberFactory, ShopFactory
from tests.reliability.compose_servers import ROOT, compose_server
from tests.support import redis_flush

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("sh") is None, reason="the compose commands run through sh -c"),
]

PLATFORMS = ("whatsapp", "instagram", "messenger", "shopee", "tiktokshop")
FIGURES = ROOT / "var" / "reliability" / "servers.json"


@pytest.fixture
def redis_clean() -> Iterator[None]:
    # The servers queue Celery work on this run's broker; no later test may inherit it.
    redis_flush()
    yield
    redis_flush()


@pytest.fixture
def platform_channels(redis_clean: None) -> dict[str, Channel]:
    shop = ShopFactory(name="Toko Server")
    return {p: ChannelFactory(shop=shop, platform=p) for p in PLATFORMS}


def _chunks(raw: bytes, size: int = 97) -> Iterator[bytes]:
    # A generator body: requests sends it with Transfer-Encoding: chunked and no Content-Length.
    for start in range(0, len(raw), size):
        yield raw[start : start + size]


def _deliver(base_url: str, platform: str, raw: bytes, headers: dict[str, str], *, chunked: bool) -> int:
    url = f"{base_url}/webhooks/{platform}/"
    body: Any = _chunks(raw) if chunked else raw
    response = requests.post(url, data=body, headers=headers, timeout=30)
    sent_chunked = response.request.headers.get("Transfer-Encoding") == "chunked"
    assert sent_chunked == chunked, response.request.headers
    return response.status_code


def _record(name: str, figures: dict[str, Any]) -> None:
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    existing = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
    existing[name] = figures
    FIGURES.write_text(json.dumps(existing, indent=2, sort_keys=True) + "\n")


@pytest.mark.parametrize("service", ["web", "ws"])
def test_every_delivery_answered_200_is_stored_once_on_both_servers(platform_channels, service):
    rng = random.Random(14)
    specs = {p: ChannelSpec(p, c.account_id, dict(c.secrets)) for p, c in platform_channels.items()}
    rows: list[dict[str, Any]] = []
    with compose_server(service) as server:
        for platform, spec in specs.items():
            for chunked in (False, True):
                for n in range(3):
                    webhook = customer_message(spec, customer_new(platform, rng), text=f"Kak ready? {n}")
                    raw, headers = signed(spec, webhook)
                    key = {"channel__platform": platform, "platform_message_id": webhook.message_id}
                    status = _deliver(server.base_url, platform, raw, headers, chunked=chunked)
                    stored = Message.objects.filter(**key).count()
                    # The platform's retry of the same delivery, sent the same way.
                    retry = _deliver(server.base_url, platform, raw, headers, chunked=chunked)
                    rows.append(
                        {
                            "encoding": "chunked" if chunked else "content-length",
                            "status": status,
                            "stored": stored,
                            "retry_status": retry,
                            "stored_after_retry": Message.objects.filter(**key).count(),
                        }
                    )
        output = server.output()

    figures: dict[str, Any] = {"command": service}
    for encoding in ("content-length", "chunked"):
        mine = [r for r in rows if r["encoding"] == encoding]
        figures[encoding] = {
            "sent": len(mine),
            "accepted": sum(r["status"] == 200 for r in mine),
            "refused": sum(r["status"] != 200 for r in mine),
            "stored": sum(r["stored"] >= 1 for r in mine),
            # A 200 with nothing stored: the platform will not send it again.
            "lost": sum(r["status"] == 200 and r["stored"] == 0 for r in mine),
            "doubled": sum(r["stored_after_retry"] > 1 for r in mine),
            "retries_accepted": sum(r["retry_status"] == 200 for r in mine),
        }
    _record(f"webhooks_{service}", figures)
    for encoding in ("content-length", "chunked"):
        assert figures[encoding] == {
            "sent": 15,
            "accepted": 15,
            "refused": 0,
            "stored": 15,
            "lost": 0,
            "doubled": 0,
            "retries_accepted": 15,
        }, (figures, output[-3000:])
    events = Counter(WebhookEvent.objects.values_list("outcome", flat=True))
    assert events == {"accepted": 30, "duplicate": 30}


def _ws_exchange(url: str, frame: str, origin: str | None = None) -> str:
    async def run() -> str:
        async with websockets.connect(url, open_timeout=10, origin=origin) as socket:  # type: ignore[arg-type]
            await socket.send(frame)
            return str(await asyncio.wait_for(socket.recv(), timeout=10))

    return asyncio.run(run())


def test_the_ws_log_never_holds_an_api_token(redis_clean):
    owner = MemberFactory(shop=ShopFactory(name="Toko Log"), role=Member.Role.OWNER)
    token = owner.api_token
    with compose_server("ws") as server:
        # A browser's socket (with its Origin), answered so we know it was accepted.
        url = f"ws://127.0.0.1:{server.port}/ws/inbox/?token={token}"
        _ws_exchange(url, "not json", origin=f"http://127.0.0.1:{server.port}")
        refused = None
        try:
            _ws_exchange(f"ws://127.0.0.1:{server.port}/ws/inbox/?token=wrong-{token[:8]}", "{}")
        except websockets.exceptions.InvalidStatus as exc:
            refused = exc.response.status_code
        # The webhook handshake's verify token is a secret too, on the access log.
        requests.get(
            f"{server.base_url}/webhooks/whatsapp/",
            params={"hub.mode": "subscribe", "hub.verify_token": "verify-secret-xyz", "hub.challenge": "1"},
            timeout=10,
        )
        output = server.output()
    assert refused == 403
    # The handshake lines are there (the test can fail), with their query values blanked.
    assert '"WebSocket /ws/inbox/?token=[redacted]" [accepted]' in output, output[-3000:]
    assert token not in output
    assert token[:8] not in output
    assert "verify-secret-xyz" not in output
    _record("ws_log", {"sockets": 2, "token_in_log": token in output, "lines": output.count("\n")})


def test_a_token_socket_without_origin_and_a_bad_frame_on_the_real_ws_server(redis_clean):
    """Attacks 9 and 8 against uvicorn: accepted without Origin, and an error frame back."""
    owner = MemberFactory(shop=ShopFactory(name="Toko Tanpa Origin"), role=Member.Role.OWNER)
    with compose_server("ws") as server:
        answer = json.loads(_ws_exchange(f"ws://127.0.0.1:{server.port}/ws/inbox/?token={owner.api_token}", "{oops"))
    assert answer["type"] == "socket.error"
    assert "frame is not valid JSON" in answer["error"]


def _anon_statuses(base_url: str, forwarded: list[str]) -> list[int]:
    return [
        requests.get(f"{base_url}/api/schema/", headers={"X-Forwarded-For": f}, timeout=30).status_code
        for f in forwarded
    ]


@pytest.mark.parametrize("service", ["web", "ws"])
def test_forwarded_for_counts_only_from_a_trusted_proxy_on_both_servers(redis_clean, service):
    """Attacks 6 and 7 against the real servers: the anonymous throttle keys on the client's
    address, which comes from X-Forwarded-For only when the peer (here 127.0.0.1) is trusted."""
    with compose_server(service, BALAS_THROTTLE_ANON="2/minute", BALAS_TRUSTED_PROXIES="127.0.0.1") as server:
        # Behind the proxy: each client has its own budget, whatever it prepends itself.
        behind = _anon_statuses(server.base_url, ["9.9.9.1, 203.0.113.1", "9.9.9.2, 203.0.113.1", "203.0.113.1"])
        other = _anon_statuses(server.base_url, ["203.0.113.2"])
        trusted_output = server.output()
    with compose_server(service, BALAS_THROTTLE_ANON="2/minute", BALAS_TRUSTED_PROXIES="10.255.0.0/16") as server:
        # Not from a trusted proxy: a new header per request changes nothing.
        spoofed = _anon_statuses(server.base_url, ["198.51.100.1", "198.51.100.2", "198.51.100.3"])
    assert behind == [200, 200, 429], trusted_output[-2000:]
    assert other == [200]
    assert spoofed == [200, 200, 429]
