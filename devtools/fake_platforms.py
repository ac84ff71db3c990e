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
    server.lost_push_add(shop_id=880123456, body={...}) # Shopee keeps a push it "could not deliver"

Shopee's lost-push list (`GET /api/v2/push/get_lost_push_message`, `POST
/api/v2/push/confirm_consumed_lost_push_message`) is served from `lost_pushes`, the earliest
`lost_push_page_size` at a time, as Shopee does; a confirm drops every entry up to its
`last_message_id`. The demo adds one with `POST /_control/shopee/lost_push` (the push body as JSON).
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
        self._queued: deque[tuple[int, Any]] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        # Shopee's lost pushes: (msg_id, entry as get_lost_push_message lists it).
        self.lost_pushes: list[tuple[int, dict[str, Any]]] = []
        self.lost_push_page_size = 100
        self._lost_push_ids = 0
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
            self.lost_pushes.clear()
            self.lost_push_page_size = 100

    def lost_push_add(self, *, body: dict[str, Any]) -> int:
        """Keep a Shopee push as lost (its webhook never got a 2xx); returns its msg_id."""
        with self._lock:
            self._lost_push_ids += 1
            entry = {
                "shop_id": body.get("shop_id"),
                "msg_id": self._lost_push_ids,
                "code": body.get("code"),
                "timestamp": int(time.time()),
                "data": json.dumps(body),
            }
            self.lost_pushes.append((self._lost_push_ids, entry))
            return self._lost_push_ids

    def requests_for(self, platform: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.platform == platform]

    # --- serving -------------------------------------------------------------------------
    def _answer(self, request: RecordedRequest) -> tuple[int, Any]:
        if request.platform == "_control" and request.path == "/shopee/lost_push":
            msg_id = self.lost_push_add(body=request.json if isinstance(request.json, dict) else {})
            return 200, {"msg_id": msg_id}
        with self._lock:
            self.requests.append(request)
            if self._queued:
                return self._queued.popleft()
            if request.platform == "shopee" and request.path.startswith("/api/v2/push/"):
                return 200, self._lost_push_answer(request)
        return 200, success_answer(request)

    def _lost_push_answer(self, request: RecordedRequest) -> Any:
        """Shopee's lost-push calls (the caller holds the lock)."""
        envelope = {"request_id": uuid.uuid4().hex, "error": "", "message": ""}
        if request.path == "/api/v2/push/get_lost_push_message":
            page = self.lost_pushes[: self.lost_push_page_size]
            return {
                **envelope,
                "response": {
                    "push_message_list": [entry for _, entry in page],
                    "has_next_page": len(self.lost_pushes) > len(page),
                    "last_message_id": page[-1][0] if page else 0,
                },
            }
        if request.path == "/api/v2/push/confirm_consumed_lost_push_message":
            body = request.json if isinstance(request.json, dict) else {}
            last = body.get("last_message_id")
            if not isinstance(last, int):
                return {**envelope, "error": "error_param", "message": "last_message_id is required"}
            self.lost_pushes = [(i, e) for i, e in self.lost_pushes if i > last]
            return envelope
        return {**envelope, "error": "error_not_found", "message": f"no such call {request.path}"}


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
    if path.startswith("/_control/"):
        return "_control", path[len("/_control") :]
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
