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

Besides text sends it answers reaction sends (WhatsApp `type: "reaction"`, Messenger and
Instagram `sender_action: react|unreact`) and the user-profile GETs
(`GET /messenger/v21.0/{psid}?fields=first_name,last_name,profile_pic`,
`GET /instagram/v21.0/{igsid}?fields=name,username,profile_pic`). A profile is made up from the
id unless one is set: `server.profiles[("messenger", psid)] = {"first_name": ...}`.

Failing on purpose, per customer (the contact's id as the platform names it: `to`,
`recipient.id` or the profile's id), for tests of errors and timeouts:

    server.fail_for("7012345678901234", 400, {"error": {"message": "...", "code": 100}})
    server.hang_for("7012345678901234", 15)          # answers after 15 s (a client timeout)

From another process (the demo, a shell) the same through the control endpoint, or by id alone:

    POST http://127.0.0.1:9100/_control {"fail": {"contact": "...", "status": 400, "body": {...}}}
    POST http://127.0.0.1:9100/_control {"hang": {"contact": "...", "seconds": 15}}
    POST http://127.0.0.1:9100/_control {"reset": true}
    a contact id starting with "fail-" is always refused with a Graph error (code 100, HTTP 400),
    one starting with "hang-" always waits HANG_S (30 s) before answering.

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

# How long a "hang-" contact's request waits: longer than any client timeout Balas sets.
HANG_S = 30.0
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
        self.profiles: dict[tuple[str, str], dict[str, Any]] = {}
        self._failing: dict[str, tuple[int, Any]] = {}
        self._hanging: dict[str, float] = {}
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

    def fail_for(self, contact_id: str, status: int, body: Any) -> None:
        """Every request for this customer gets this answer (until reset)."""
        with self._lock:
            self._failing[contact_id] = (status, body)

    def hang_for(self, contact_id: str, seconds: float) -> None:
        """Every request for this customer is answered only after `seconds` (until reset)."""
        with self._lock:
            self._hanging[contact_id] = seconds

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self._queued.clear()
            self._failing.clear()
            self._hanging.clear()
            self.profiles.clear()
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

    def control(self, command: Any) -> tuple[int, Any]:
        """The `/_control` endpoint: fail, hang or reset from another process."""
        if not isinstance(command, dict):
            return 400, {"error": "the body must be a JSON object"}
        if command.get("reset"):
            self.reset()
        fail = command.get("fail")
        if isinstance(fail, dict) and isinstance(fail.get("contact"), str):
            self.fail_for(fail["contact"], int(fail.get("status", 400)), fail.get("body", graph_error("fake failure")))
        hang = command.get("hang")
        if isinstance(hang, dict) and isinstance(hang.get("contact"), str):
            self.hang_for(hang["contact"], float(hang.get("seconds", HANG_S)))
        return 200, {"ok": True}

    def requests_for(self, platform: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.platform == platform]

    # --- serving -------------------------------------------------------------------------
    def _answer(self, request: RecordedRequest) -> tuple[int, Any, float]:
        """(status, body, seconds to wait before answering)."""
        if request.platform == "_control" and request.path == "/shopee/lost_push":
            msg_id = self.lost_push_add(body=request.json if isinstance(request.json, dict) else {})
            return 200, {"msg_id": msg_id}, 0.0
        contact = contact_of(request)
        with self._lock:
            self.requests.append(request)
            wait = self._hanging.get(contact, HANG_S if contact.startswith("hang-") else 0.0)
            if self._queued:
                return (*self._queued.popleft(), wait)
            if request.platform == "shopee" and request.path.startswith("/api/v2/push/"):
                return 200, self._lost_push_answer(request), 0.0
            if contact in self._failing:
                return (*self._failing[contact], wait)
            profile = self.profiles.get((request.platform, contact))
        if contact.startswith("fail-"):
            return 400, graph_error(f"(#100) {contact} cannot be reached (fake failure)"), wait
        if request.method == "GET":
            return 200, profile_answer(request, contact, profile), wait
        return 200, success_answer(request), wait

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


def graph_error(message: str, code: int = 100) -> dict[str, Any]:
    return {"error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "FAKE"}}


def contact_of(request: RecordedRequest) -> str:
    """The customer a request is about: `to` (WhatsApp), `recipient.id` (Meta), a profile's id."""
    body = request.json if isinstance(request.json, dict) else {}
    raw_recipient = body.get("recipient")
    recipient: dict[str, Any] = raw_recipient if isinstance(raw_recipient, dict) else {}
    for value in (body.get("to"), recipient.get("id"), body.get("to_id")):
        if isinstance(value, str | int) and not isinstance(value, bool):
            return str(value)
    if request.method == "GET":
        return request.path.strip("/").split("/")[0]
    return ""


def profile_answer(request: RecordedRequest, contact: str, profile: dict[str, Any] | None) -> Any:
    """The Graph user-profile answer for a PSID (Messenger) or IGSID (Instagram)."""
    if profile is not None:
        return {"id": contact, **profile}
    tail = contact[-4:]
    picture = f"https://fake-platforms.invalid/{request.platform}/{contact}.jpg"
    if request.platform == "messenger":
        return {"id": contact, "first_name": "Pelanggan", "last_name": f"Messenger {tail}", "profile_pic": picture}
    if request.platform == "instagram":
        return {
            "id": contact,
            "name": f"Pelanggan Instagram {tail}",
            "username": f"pelanggan{tail}",
            "profile_pic": picture,
        }
    return graph_error(f"no user-profile API on {request.platform}")



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
        if "sender_action" in body:
            # Sender actions (react, unreact, typing) are answered with the recipient only.
            return {"recipient_id": recipient.get("id", "")}
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
            if path == "/_control" and platform == "unknown":
                status, answer = server.control(decoded)
                wait = 0.0
            else:
                status, answer, wait = server._answer(recorded)
            if server.delay_s or wait:
                time.sleep(max(server.delay_s, wait))
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
