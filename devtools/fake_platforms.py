"""A local HTTP server standing in for the five platforms' send APIs (tests and the demo).

One server serves all five under a path prefix per platform, so the settings point at e.g.
`WHATSAPP_API_BASE=http://127.0.0.1:9100/whatsapp/v21.0`. It records every request and answers
like the platform does on success; tests can queue a refusal or a slow answer.

    server = FakePlatformServer().start()
    settings.WHATSAPP_API_BASE = server.base_url("whatsapp")
    ...
    server.requests[-1].path, server.requests[-1].json
    server.queue_response(400, {"error": {...}})   # the next request is refused
    server.delay_s = 5                               # every answer waits (timeouts)
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

PLATFORM_PREFIXES = {
    "whatsapp": "/whatsapp/v21.0",
    "instagram": "/instagram/v21.0",
    "messenger": "/messenger/v21.0",
    "shopee": "/shopee",
    "tiktokshop": "/tiktokshop",
}


@dataclass
class RecordedRequest:
    platform: str
    method: str
    path: str  # without the platform prefix, e.g. "/110223344556601/messages"
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    json: Any = None
    received_at: float = field(default_factory=time.time)


class FakePlatformServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.requests: list[RecordedRequest] = []
        self.delay_s = 0.0
        # (platform, customer id) -> the user-profile API's answer for it (Instagram, Messenger).
        self.profiles: dict[tuple[str, str], dict[str, Any]] = {}
        self._queued: deque[tuple[int, Any]] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- control -------------------------------------------------------------------------
    def start(self) -> FakePlatformServer:
        handler = _make_handler(self)
        self._server = ThreadingHTTPServer((self.host, self.port), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-platforms", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def base_url(self, platform: str) -> str:
        return f"http://{self.host}:{self.port}{PLATFORM_PREFIXES[platform]}"

    def settings_overrides(self) -> dict[str, str]:
        return {f"{p.upper()}_API_BASE": self.base_url(p) for p in PLATFORM_PREFIXES}

    def queue_response(self, status: int, body: Any) -> None:
        """The next request gets this answer instead of the platform's success."""
        with self._lock:
            self._queued.append((status, body))

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self._queued.clear()
            self.delay_s = 0.0
            self.profiles.clear()

    def requests_for(self, platform: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.platform == platform]

    # --- serving -------------------------------------------------------------------------
    def _answer(self, request: RecordedRequest) -> tuple[int, Any]:
        with self._lock:
            self.requests.append(request)
            if self._queued:
                return self._queued.popleft()
            profile = profile_answer(request, self.profiles)
        if profile is not None:
            return 200, profile
        return 200, success_answer(request)


def success_answer(request: RecordedRequest) -> Any:
    """What each platform answers when it accepts a text message."""
    body = request.json if isinstance(request.json, dict) else {}
    new_id = uuid.uuid4().hex[:16].upper()
    if request.platform == "whatsapp":
        to = str(body.get("to", ""))
        return {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to}],
            "messages": [{"id": f"wamid.FAKE-{new_id}"}],
        }
    if request.platform in ("instagram", "messenger"):
        recipient = body.get("recipient", {}) if isinstance(body.get("recipient"), dict) else {}
        return {"recipient_id": recipient.get("id", ""), "message_id": f"m_FAKE-{new_id}"}
    if request.platform == "shopee":
        return {
            "request_id": uuid.uuid4().hex,
            "error": "",
            "message": "",
            "response": {
                "message_id": str(int(time.time() * 1000)) + new_id[:4].encode().hex()[:6],
                "to_id": body.get("to_id"),
                "message_type": body.get("message_type", "text"),
                "content": body.get("content", {}),
                "conversation_id": body.get("conversation_id", ""),
                "created_timestamp": int(time.time()),
            },
        }
    if request.platform == "tiktokshop":
        return {"code": 0, "message": "Success", "request_id": uuid.uuid4().hex, "data": {"message_id": new_id}}
    return {}


# --- user profiles (i13-model's minimal stand-in; i13-parse's endpoints win on merge) -------------


def profile_answer(request: RecordedRequest, profiles: dict[tuple[str, str], dict[str, Any]]) -> Any:
    """The user-profile API's answer to `GET /{user id}?fields=...` on Instagram and Messenger, or None
    for any other request. A customer without a set profile gets a made-up one."""
    if request.method != "GET" or request.platform not in ("instagram", "messenger"):
        return None
    user_id = request.path.strip("/")
    if not user_id or "/" in user_id:
        return None
    known = profiles.get((request.platform, user_id))
    if known is not None:
        return {"id": user_id, **known}
    if request.platform == "messenger":
        return {"id": user_id, "first_name": "Pelanggan", "last_name": user_id[-4:], "profile_pic": ""}
    return {"id": user_id, "name": f"Pelanggan {user_id[-4:]}", "username": f"user{user_id[-4:]}", "profile_pic": ""}


def _make_handler(server: FakePlatformServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            self._handle("POST")

        def do_GET(self) -> None:
            self._handle("GET")

        def _handle(self, method: str) -> None:
            parts = urlsplit(self.path)
            platform, path = _split_platform(parts.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                decoded: Any = json.loads(raw) if raw else None
            except ValueError:
                decoded = None
            recorded = RecordedRequest(
                platform=platform,
                method=method,
                path=path,
                query={k: v[0] for k, v in parse_qs(parts.query).items()},
                headers={k: v for k, v in self.headers.items()},
                body=raw,
                json=decoded,
            )
            status, answer = server._answer(recorded)
            if server.delay_s:
                time.sleep(server.delay_s)
            payload = json.dumps(answer).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

    return Handler


def _split_platform(path: str) -> tuple[str, str]:
    for platform, prefix in PLATFORM_PREFIXES.items():
        if path.startswith(prefix + "/") or path == prefix:
            return platform, path[len(prefix) :] or "/"
    return "unknown", path


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Serve stand-ins for the platforms' send APIs.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    args = parser.parse_args()
    server = FakePlatformServer(args.host, args.port).start()
    print(f"fake platform APIs on http://{args.host}:{server.port}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
