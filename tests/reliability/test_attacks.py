"""The security tester's holes (issue 14, attacks 1-3 and 6-9), each replayed against the real app.

Attacks 4 (tokens in the ws log) and 3 under a real gunicorn are in test_servers.py; the login
look-alikes and proxies (5-7) also in test_login_guard.py.
"""

from __future__ import annotations

import io
import json
import sys
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.core.handlers.wsgi import WSGIHandler
from django.test import Client

from config.asgi import application
from inbox.models import Member, Message, WebhookEvent
from inbox.tokens import token_generate
from tests.conftest import post_webhook, sample, signed_headers
from tests.factories import ChannelFactory, ConversationFactory, MemberFactory

ORIGIN = (b"origin", b"http://testserver")
EVIL_ORIGIN = (b"origin", b"https://evil.example")

# --- attack 1: NaN / Infinity in a signed webhook ------------------------------------------------


def _shopee_nan() -> bytes:
    # Python's json.dumps writes NaN for float("nan"): exactly what the tester sent.
    body = json.loads(sample("shopee_image.json"))
    body["data"]["content"]["content"]["thumb_height"] = float("nan")
    body["data"]["content"]["content"]["thumb_width"] = float("inf")
    return json.dumps(body).encode()


def _tiktok_nan() -> bytes:
    body = json.loads(sample("tiktokshop_image.json"))
    inner = json.loads(body["data"]["content"])
    inner["width"] = float("nan")
    body["data"]["content"] = json.dumps(inner)
    return json.dumps(body).encode()


def _whatsapp_location_nan() -> bytes:
    body = json.loads(sample("whatsapp_text.json"))
    message = body["entry"][0]["changes"][0]["value"]["messages"][0]
    message.pop("text")
    message["id"] = "wamid.TEST-LOCATION-NAN"
    message["type"] = "location"
    message["location"] = {"latitude": float("nan"), "longitude": float("-inf"), "name": "Toko Glow"}
    return json.dumps(body).encode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("platform", "make_raw", "replaced"),
    [("shopee", _shopee_nan, 2), ("tiktokshop", _tiktok_nan, 0), ("whatsapp", _whatsapp_location_nan, 2)],
)
def test_nan_in_a_signed_webhook_is_stored_and_answered_200(client, channels, platform, make_raw, replaced):
    raw = make_raw()
    assert b"NaN" in raw
    response = post_webhook(client, platform, raw, signed_headers(channels[platform], raw))
    assert response.status_code == 200, response.content
    message = Message.objects.get()
    assert message.channel == channels[platform]
    assert "NaN" not in json.dumps(message.attachments)
    event = WebhookEvent.objects.get()
    assert event.outcome == "accepted"
    assert event.body == raw.decode()  # the signed bytes are kept as they came
    if replaced:
        assert f"stored as null: {replaced}" in event.detail
    # A retry of the same delivery is a duplicate, not a second message.
    again = post_webhook(client, platform, raw, signed_headers(channels[platform], raw))
    assert again.status_code == 200
    assert Message.objects.count() == 1


@pytest.mark.django_db
def test_nan_from_a_member_is_refused_with_400_naming_it(owner):
    caller = Client(HTTP_AUTHORIZATION=f"Token {owner.api_token}")
    response = caller.patch("/api/v1/policy/", data='{"reply_target_s": NaN}', content_type="application/json")
    assert response.status_code == 400
    assert "NaN is not a JSON number" in response.json()["detail"]


# --- attack 2: deeply nested JSON on every JSON endpoint ------------------------------------------

DEEP = '{"a":' + "[" * 50_000 + "]" * 50_000 + "}"


@pytest.fixture
def member_targets(owner: Member) -> list[tuple[str, str, str]]:
    conversation = ConversationFactory(shop=owner.shop, contact__channel__shop=owner.shop)
    raw, digest = token_generate("bc")
    api_channel = ChannelFactory(shop=owner.shop, platform="api", account_id="web-deep")
    api_channel.token_hash = digest
    api_channel.save(update_fields=["token_hash"])
    return [
        ("post", "/api/v1/tone/check/", owner.api_token),
        ("post", f"/api/v1/conversations/{conversation.pk}/replies/", owner.api_token),
        ("patch", f"/api/v1/conversations/{conversation.pk}/", owner.api_token),
        ("patch", "/api/v1/policy/", owner.api_token),
        ("post", f"/api/v1/channels/{api_channel.pk}/messages/", raw),
    ]


@pytest.mark.django_db
def test_deeply_nested_json_is_400_on_every_api_endpoint(member_targets):
    for method, path, token in member_targets:
        caller = Client(HTTP_AUTHORIZATION=f"Token {token}")
        response = getattr(caller, method)(path, data=DEEP, content_type="application/json")
        assert response.status_code == 400, (path, response.status_code, response.content[:200])
        assert "nested deeper than the limit of 64 levels" in response.json()["detail"], path


@pytest.mark.django_db
def test_nesting_just_inside_the_limit_is_parsed(owner):
    caller = Client(HTTP_AUTHORIZATION=f"Token {owner.api_token}")
    body = '{"customer": "Kak ready?", "reply": "ready kak", "x": ' + "[" * 62 + "]" * 62 + "}"
    assert caller.post("/api/v1/tone/check/", data=body, content_type="application/json").status_code == 200
    deeper = '{"customer": "Kak ready?", "reply": "ready kak", "x": ' + "[" * 64 + "]" * 64 + "}"
    assert caller.post("/api/v1/tone/check/", data=deeper, content_type="application/json").status_code == 400


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("platform", ["whatsapp", "shopee", "tiktokshop"])
def test_deeply_nested_json_is_400_on_webhooks(client, channels, platform):
    raw = DEEP.encode()
    response = post_webhook(client, platform, raw, signed_headers(channels[platform], raw))
    assert response.status_code == 400
    assert response.json() == {"error": "body is nested deeper than the limit of 64 levels"}
    assert WebhookEvent.objects.count() == 0


# --- attack 3: a chunked body through Django's WSGI handler (what gunicorn calls) ------------------


def _wsgi_post(path: str, body: bytes | io.BytesIO, headers: dict[str, str]) -> tuple[int, bytes]:
    """POST through WSGIHandler as gunicorn does for `Transfer-Encoding: chunked`: no
    CONTENT_LENGTH, and wsgi.input yields the decoded body until its end."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "HTTP_HOST": "testserver",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "wsgi.input": body if isinstance(body, io.BytesIO) else io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for name, value in headers.items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    status: list[str] = []
    chunks = WSGIHandler()(environ, lambda s, h, *a: status.append(s))
    return int(status[0].split()[0]), b"".join(chunks)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("platform", ["shopee", "whatsapp", "tiktokshop"])
def test_a_chunked_webhook_under_wsgi_is_verified_and_stored(channels, platform):
    raw = sample(f"{platform}_text.json")
    status, body = _wsgi_post(f"/webhooks/{platform}/", raw, signed_headers(channels[platform], raw))
    assert status == 200, body
    assert Message.objects.filter(channel=channels[platform]).count() == 1
    assert WebhookEvent.objects.get().body == raw.decode()


@pytest.mark.django_db(transaction=True)
def test_a_chunked_api_body_under_wsgi_is_read(owner):
    body = json.dumps({"customer": "Kak, ready?", "reply": "ok"}).encode()
    status, answer = _wsgi_post("/api/v1/tone/check/", body, {"Authorization": f"Token {owner.api_token}"})
    assert status == 200, answer
    assert set(json.loads(answer)) >= {"terse", "score", "reasons"}


@pytest.mark.django_db(transaction=True)
def test_a_chunked_api_body_under_asgi_is_read(owner):
    """uvicorn hands Django the whole chunked body, but no Content-Length: DRF read nothing."""
    from asgiref.testing import ApplicationCommunicator

    body = json.dumps({"customer": "Kak, ready?", "reply": "ok"}).encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/tone/check/",
        "raw_path": b"/api/v1/tone/check/",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"transfer-encoding", b"chunked"),
            (b"authorization", f"Token {owner.api_token}".encode()),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }

    async def run() -> tuple[int, bytes]:
        communicator = ApplicationCommunicator(application, scope)
        await communicator.send_input({"type": "http.request", "body": body[:10], "more_body": True})
        await communicator.send_input({"type": "http.request", "body": body[10:], "more_body": False})
        start = await communicator.receive_output(timeout=10)
        answer = b""
        while True:
            message = await communicator.receive_output(timeout=10)
            answer += message.get("body", b"")
            if not message.get("more_body"):
                return start["status"], answer

    status, answer = async_to_sync(run)()
    assert status == 200, answer
    assert set(json.loads(answer)) >= {"terse", "score", "reasons"}


class _Truncated(io.BytesIO):
    """gunicorn's chunked reader when the client hangs up before the last chunk."""

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        if size is None or size < 0 or len(data) < size:
            raise OSError("No more data")  # gunicorn.http.errors.NoMoreData is an IOError
        return data


@pytest.mark.django_db(transaction=True)
def test_a_chunked_body_cut_short_is_400_and_stores_nothing(channels):
    raw = sample("shopee_text.json")
    status, body = _wsgi_post("/webhooks/shopee/", _Truncated(raw[:50]), signed_headers(channels["shopee"], raw))
    assert status == 400, body
    assert json.loads(body) == {"error": "request body ended before its last chunk"}
    assert WebhookEvent.objects.count() == 0


# --- attacks 6 and 7: the client's address -------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "client"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("1.2.3.4, 203.0.113.7", "203.0.113.7"),  # the client's own prefix is not believed
        ("203.0.113.7, 10.9.0.3", "203.0.113.7"),  # a second trusted proxy is skipped
        ("not-an-ip, 10.9.0.3", "10.9.0.3"),  # garbage stops the walk at the last trusted hop
        ("10.9.0.4, 10.9.0.3", "10.9.0.4"),  # every hop trusted: the left-most
    ],
)
def test_forwarded_for_is_read_from_the_right(settings, header, client):
    from inbox.middleware import forwarded_client

    settings.BALAS_TRUSTED_PROXIES = ["10.9.0.0/16"]
    assert forwarded_client("10.9.0.2", header) == client


@pytest.mark.django_db
def test_anonymous_throttle_keys_on_the_address_not_the_header(settings, clean_cache):
    settings.BALAS_THROTTLE_RATES = {**settings.BALAS_THROTTLE_RATES, "anon": "2/minute"}
    caller = Client(REMOTE_ADDR="10.1.2.3")
    statuses = [caller.get("/api/schema/", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}").status_code for i in range(3)]
    assert statuses == [200, 200, 429]


# --- wrong-token API traffic ---------------------------------------------------------------------


@pytest.mark.django_db
def test_wrong_tokens_from_one_address_are_throttled_with_retry_after(settings, owner, clean_cache):
    settings.BALAS_TOKEN_MAX_FAILURES = 3
    settings.BALAS_TOKEN_FAILURE_WINDOW_S = 120
    guesser = Client(REMOTE_ADDR="10.2.0.1")
    statuses = [
        guesser.get("/api/v1/conversations/", HTTP_AUTHORIZATION=f"Token wrong-{i}").status_code for i in range(4)
    ]
    assert statuses == [401, 401, 401, 429]
    # Not even the right token is looked up from that address until the window ends.
    refused = guesser.get("/api/v1/conversations/", HTTP_AUTHORIZATION=f"Token {owner.api_token}")
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 120
    assert "wrong tokens" in refused.json()["detail"]
    # Another address, and the same member from it, are not affected.
    other = Client(REMOTE_ADDR="10.2.0.2")
    assert other.get("/api/v1/conversations/", HTTP_AUTHORIZATION=f"Token {owner.api_token}").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_wrong_socket_tokens_count_too(settings, owner, clean_cache):
    settings.BALAS_TOKEN_MAX_FAILURES = 2
    guesses = [_connects(f"/ws/inbox/?token=wrong-{i}", [ORIGIN], client="10.3.0.1") for i in range(2)]
    assert guesses == [False, False]
    # The right token from the same address is refused while the window lasts...
    assert _connects(f"/ws/inbox/?token={owner.api_token}", [ORIGIN], client="10.3.0.1") is False
    assert _connects(f"/ws/inbox/?token={owner.api_token}", [ORIGIN], client="10.3.0.2") is True
    # ...and the API from that address is limited as well (one count for both).
    caller = Client(REMOTE_ADDR="10.3.0.1", HTTP_AUTHORIZATION=f"Token {owner.api_token}")
    assert caller.get("/api/v1/conversations/").status_code == 429


# --- attacks 8 and 9: the WebSocket --------------------------------------------------------------


def _run(coro_fn: Any) -> None:
    async_to_sync(coro_fn)()


@pytest.mark.django_db(transaction=True)
def test_a_frame_that_is_not_json_gets_an_error_frame_and_the_socket_lives_on(owner):
    socket = WebsocketCommunicator(application, f"/ws/inbox/?token={owner.api_token}", headers=[ORIGIN])

    async def scenario() -> None:
        assert (await socket.connect(timeout=10))[0] is True
        await socket.send_to(text_data="this is not json {")
        error = await socket.receive_json_from(timeout=10)
        assert error["type"] == "socket.error"
        assert "frame is not valid JSON" in error["error"]
        await socket.send_to(bytes_data=b"\x00\x01")
        assert "binary frames are not accepted" in (await socket.receive_json_from(timeout=10))["error"]
        await socket.send_to(text_data="[" * 5000 + "]" * 5000)
        assert "nested deeper" in (await socket.receive_json_from(timeout=10))["error"]
        await socket.send_to(text_data='{"type": "ping"}')  # valid JSON: nothing to answer
        assert await socket.receive_nothing(timeout=0.5)
        await socket.disconnect()

    _run(scenario)


def _connects(path: str, headers: list[tuple[bytes, bytes]], client: str = "127.0.0.1") -> bool:
    result: list[bool] = []

    async def scenario() -> None:
        socket = WebsocketCommunicator(application, path, headers=headers)
        # The scope the app reads, before it first runs: the peer uvicorn would report.
        socket.scope["client"] = (client, 50000)
        connected, _ = await socket.connect(timeout=10)
        result.append(bool(connected))
        await socket.disconnect()

    _run(scenario)
    return result[0]


def _session_cookie(member: Member) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(member.user)
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


@pytest.mark.django_db(transaction=True)
def test_a_token_socket_without_origin_is_accepted_and_cookies_stay_origin_checked(settings, shop):
    settings.ALLOWED_HOSTS = ["testserver"]  # the test settings allow every host
    owner = MemberFactory(shop=shop, role=Member.Role.OWNER)
    token_path = f"/ws/inbox/?token={owner.api_token}"
    assert _connects(token_path, []) is True  # a server-side client following the contract
    assert _connects(token_path, [ORIGIN]) is True
    assert _connects(token_path, [EVIL_ORIGIN]) is False  # an Origin, when sent, is checked
    cookie = _session_cookie(owner)
    assert _connects("/ws/inbox/", [cookie, ORIGIN]) is True
    assert _connects("/ws/inbox/", [cookie, EVIL_ORIGIN]) is False
    # Without an Origin a cookie proves nothing: the session is not used.
    assert _connects("/ws/inbox/", [cookie]) is False
    assert _connects("/ws/inbox/?token=wrong", [cookie]) is False


def test_nan_mapped_count_is_exact():
    from inbox.jsonbody import json_body_parse

    parsed = json_body_parse('{"a": [NaN, Infinity, -Infinity, 1.5], "b": "NaN"}', nonfinite="null")
    assert parsed.value == {"a": [None, None, None, 1.5], "b": "NaN"}
    assert parsed.nonfinite_replaced == 3
