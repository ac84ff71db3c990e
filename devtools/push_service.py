"""A local HTTP server standing in for a browser vendor's Web Push service (tests and the demo).

It plays both sides a real push service sits between: it hands out subscriptions as a browser
would (a P-256 key pair and an auth secret per subscription, the private half kept here), and on
each push it checks what a real service checks, then decrypts what only the browser could:

- the VAPID `Authorization: vapid t=<JWT>, k=<public key>` header (RFC 8292): an ES256 JWT whose
  signature verifies with `k`, `aud` this server's origin, `exp` in the future and at most 24 h
  ahead, a `sub` contact; when an expected application server key is set, `k` must be it;
- `Content-Encoding: aes128gcm` and a `TTL` header;
- the body, decrypted with the subscription's private key and auth secret (RFC 8291).

A push that fails a check is answered 401/400 and recorded as refused; a subscription marked gone
answers 410 (or 404), as a real service does once the browser unsubscribed.

    server = FakePushService().start()
    subscription = server.subscribe()          # {"endpoint": ..., "keys": {"p256dh": ..., "auth": ...}}
    ...
    server.delivered[-1].payload               # the decrypted JSON
    server.gone(subscription["endpoint"])      # the next push to it gets 410
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url_decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass
class Push:
    """One push the service accepted (or refused, with `error`)."""

    endpoint: str
    status: int
    headers: dict[str, str]
    claims: dict[str, Any] = field(default_factory=dict)
    payload: Any = None
    error: str = ""
    received_at: float = field(default_factory=time.time)


@dataclass
class _Subscription:
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes
    gone_status: int | None = None


class VapidError(ValueError):
    pass


def vapid_verify(authorization: str, *, audience: str, expected_key: str | None = None) -> dict[str, Any]:
    """The claims of a valid `vapid t=..., k=...` header; VapidError naming what is wrong otherwise."""
    scheme, _, rest = authorization.partition(" ")
    if scheme.lower() != "vapid":
        raise VapidError(f"Authorization scheme must be vapid, got {scheme!r}")
    params = dict(part.strip().split("=", 1) for part in rest.split(",") if "=" in part)
    token, key = params.get("t"), params.get("k")
    if not token or not key:
        raise VapidError("vapid needs t= (the JWT) and k= (the public key)")
    if expected_key is not None and key.rstrip("=") != expected_key.rstrip("="):
        raise VapidError("k is not the application server key the subscription was made with")
    try:
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(key))
    except ValueError as exc:
        raise VapidError("k is not an uncompressed P-256 point") from exc
    try:
        header_b64, claims_b64, signature_b64 = token.split(".")
    except ValueError as exc:
        raise VapidError("t is not a JWT") from exc
    header = json.loads(b64url_decode(header_b64))
    if header.get("alg") != "ES256":
        raise VapidError(f"JWT alg must be ES256, got {header.get('alg')!r}")
    signature = b64url_decode(signature_b64)
    if len(signature) != 64:
        raise VapidError("ES256 signature must be 64 bytes (r || s)")
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    try:
        public.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise VapidError("JWT signature does not verify with k") from exc
    claims = json.loads(b64url_decode(claims_b64))
    if claims.get("aud") != audience:
        raise VapidError(f"aud must be {audience!r}, got {claims.get('aud')!r}")
    now = time.time()
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or exp <= now or exp > now + 24 * 3600:
        raise VapidError("exp must be in the future and at most 24 hours ahead")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub.startswith(("mailto:", "https:")):
        raise VapidError("sub must be a mailto: or https: contact")
    return dict(claims)


class FakePushService:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, application_server_key: str | None = None) -> None:
        self.host = host
        self.port = port
        # When set, every push must be signed with this key (the VAPID public key of Balas).
        self.application_server_key = application_server_key
        self.delivered: list[Push] = []
        self.refused: list[Push] = []
        self._subscriptions: dict[str, _Subscription] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- control -------------------------------------------------------------------------
    def start(self) -> FakePushService:
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status, text = service._receive(self.path, dict(self.headers.items()), body)
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-push", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    def subscribe(self) -> dict[str, Any]:
        """A new browser subscription, as PushSubscription.toJSON() gives it."""
        private_key = ec.generate_private_key(ec.SECP256R1())
        auth = os.urandom(16)
        endpoint = f"{self.origin}/push/{uuid.uuid4().hex}"
        with self._lock:
            self._subscriptions[endpoint] = _Subscription(private_key=private_key, auth=auth)
        public = private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {"endpoint": endpoint, "keys": {"p256dh": b64url(public), "auth": b64url(auth)}}

    def gone(self, endpoint: str, status: int = 410) -> None:
        """The browser unsubscribed: pushes to this endpoint get `status` (410 Gone, or 404)."""
        with self._lock:
            self._subscriptions[endpoint].gone_status = status

    def payloads(self) -> list[Any]:
        with self._lock:
            return [push.payload for push in self.delivered]

    # --- the push service ----------------------------------------------------------------
    def _receive(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        endpoint = f"{self.origin}{path}"
        lower = {k.lower(): v for k, v in headers.items()}
        with self._lock:
            subscription = self._subscriptions.get(endpoint)
        if subscription is None:
            return self._refuse(Push(endpoint, 404, lower, error="no such subscription"))
        if subscription.gone_status is not None:
            return self._refuse(Push(endpoint, subscription.gone_status, lower, error="unsubscribed"))
        try:
            claims = vapid_verify(
                lower.get("authorization", ""), audience=self.origin, expected_key=self.application_server_key
            )
        except VapidError as exc:
            return self._refuse(Push(endpoint, 401, lower, error=str(exc)))
        if lower.get("content-encoding") != "aes128gcm":
            return self._refuse(Push(endpoint, 400, lower, claims, error="Content-Encoding must be aes128gcm"))
        if "ttl" not in lower:
            return self._refuse(Push(endpoint, 400, lower, claims, error="TTL header missing"))
        try:
            plain = http_ece.decrypt(
                body, private_key=subscription.private_key, auth_secret=subscription.auth, version="aes128gcm"
            )
            payload = json.loads(plain)
        except Exception as exc:  # noqa: BLE001 - any decryption failure is the sender's 400
            return self._refuse(Push(endpoint, 400, lower, claims, error=f"cannot decrypt: {exc!r}"))
        with self._lock:
            self.delivered.append(Push(endpoint, 201, lower, claims, payload))
        return 201, b""

    def _refuse(self, push: Push) -> tuple[int, bytes]:
        with self._lock:
            self.refused.append(push)
        return push.status, push.error.encode()
