"""Shopee and TikTok Shop send_text against the local FakePlatformServer (real HTTP)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import pytest

from inbox.adapters import get_adapter
from inbox.adapters.base import OutboundContext, SendError
from tests.conftest import sample
from tests.factories import SAMPLE_ACCOUNT_IDS, SAMPLE_SECRETS

REPLY = "Halo kak, serumnya ready ya. Untuk 2 pcs totalnya Rp 178.000 😊"
SHOPEE_PATH = "/api/v2/sellerchat/send_message"
TIKTOK_CONVERSATION = "7496000000000000001"
TIKTOK_PATH = f"/customer_service/202309/conversations/{TIKTOK_CONVERSATION}/messages"


def shopee_ctx(text: str = REPLY) -> OutboundContext:
    return OutboundContext(
        account_id=SAMPLE_ACCOUNT_IDS["shopee"],
        secrets=dict(SAMPLE_SECRETS["shopee"]),
        contact_external_id="312345678",
        platform_conversation_id="726354810293847561",
        text=text,
    )


def tiktok_ctx(text: str = REPLY) -> OutboundContext:
    return OutboundContext(
        account_id=SAMPLE_ACCOUNT_IDS["tiktokshop"],
        secrets=dict(SAMPLE_SECRETS["tiktokshop"]),
        contact_external_id=TIKTOK_CONVERSATION,
        platform_conversation_id=TIKTOK_CONVERSATION,
        text=text,
    )


def _hmac_hex(key: str, message: str) -> str:
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()


# --- Shopee --------------------------------------------------------------------------------


def test_shopee_send_text_request_and_answer(fake_platforms):
    fake_platforms.queue_response(
        200,
        {
            "request_id": "req-1",
            "error": "",
            "message": "",
            "response": {"message_id": "2400000000000000100", "to_id": 312345678, "message_type": "text"},
        },
    )
    before = int(time.time())
    result = get_adapter("shopee").send_text(shopee_ctx())
    assert result.platform_message_id == "2400000000000000100"

    [request] = fake_platforms.requests_for("shopee")
    assert request.method == "POST"
    assert request.path == SHOPEE_PATH
    assert set(request.query) == {"partner_id", "timestamp", "access_token", "shop_id", "sign"}
    assert request.query["partner_id"] == "2001234"
    assert request.query["access_token"] == "shopee-token"
    assert request.query["shop_id"] == "880123456"
    timestamp = int(request.query["timestamp"])
    assert before <= timestamp <= int(time.time())
    # The documented formula, recomputed here: partner_id + path + timestamp + access_token + shop_id.
    expected_sign = _hmac_hex("shopee-partner-key", f"2001234{SHOPEE_PATH}{timestamp}shopee-token880123456")
    assert request.query["sign"] == expected_sign
    assert request.headers["Content-Type"] == "application/json"
    assert request.json == json.loads(sample("shopee_send_text_request.json"))
    assert isinstance(request.json["to_id"], int)
    assert "shopee-partner-key" not in request.body.decode()


def test_shopee_send_uses_the_fake_servers_own_success_answer(fake_platforms):
    result = get_adapter("shopee").send_text(shopee_ctx("Siap kak"))
    assert result.platform_message_id
    assert fake_platforms.requests_for("shopee")[0].json["content"] == {"text": "Siap kak"}


def test_shopee_refusal_inside_a_200_is_a_send_error_with_the_platform_text(fake_platforms):
    fake_platforms.queue_response(
        200,
        {"request_id": "req-2", "error": "error_param", "message": "The buyer can not be reached.", "response": {}},
    )
    with pytest.raises(SendError) as excinfo:
        get_adapter("shopee").send_text(shopee_ctx())
    assert excinfo.value.reason == "error_param: The buyer can not be reached."
    assert excinfo.value.retryable is False


@pytest.mark.parametrize(
    ("status", "answer", "reason", "retryable"),
    [
        (
            403,
            {"request_id": "r", "error": "error_auth", "message": "Invalid access_token."},
            "error_auth: Invalid access_token.",
            False,
        ),
        (
            429,
            {"request_id": "r", "error": "error_busi_frequent", "message": "Too many requests."},
            "error_busi_frequent: Too many requests.",
            False,
        ),
        (400, "not an object", "HTTP 400", False),
        (503, {"request_id": "r", "error": "error_server", "message": "Busy"}, "error_server: Busy", True),
    ],
)
def test_shopee_http_errors(fake_platforms, status, answer, reason, retryable):
    fake_platforms.queue_response(status, answer)
    with pytest.raises(SendError) as excinfo:
        get_adapter("shopee").send_text(shopee_ctx())
    assert excinfo.value.reason == reason
    assert excinfo.value.status_code == status
    assert excinfo.value.retryable is retryable


def test_shopee_answer_without_message_id_is_a_send_error(fake_platforms):
    fake_platforms.queue_response(200, {"request_id": "r", "error": "", "message": "", "response": {}})
    with pytest.raises(SendError, match="without a message id"):
        get_adapter("shopee").send_text(shopee_ctx())


def test_shopee_non_numeric_buyer_id_is_refused_before_calling(fake_platforms):
    ctx = OutboundContext(
        account_id="880123456",
        secrets=dict(SAMPLE_SECRETS["shopee"]),
        contact_external_id="siti.rahma88",
        platform_conversation_id="",
        text=REPLY,
    )
    with pytest.raises(SendError, match="not a number"):
        get_adapter("shopee").send_text(ctx)
    assert fake_platforms.requests_for("shopee") == []


def test_shopee_timeout_is_retryable(fake_platforms, settings):
    settings.PLATFORM_SEND_TIMEOUT_S = 0.3
    fake_platforms.delay_s = 1
    with pytest.raises(SendError) as excinfo:
        get_adapter("shopee").send_text(shopee_ctx())
    assert excinfo.value.retryable is True
    assert "did not answer in time" in excinfo.value.reason


# --- TikTok Shop ---------------------------------------------------------------------------


def test_tiktok_send_text_request_and_answer(fake_platforms):
    fake_platforms.queue_response(
        200, {"code": 0, "message": "Success", "request_id": "r1", "data": {"message_id": "7499000000000000100"}}
    )
    before = int(time.time())
    result = get_adapter("tiktokshop").send_text(tiktok_ctx())
    assert result.platform_message_id == "7499000000000000100"

    [request] = fake_platforms.requests_for("tiktokshop")
    assert request.method == "POST"
    assert request.path == TIKTOK_PATH
    assert set(request.query) == {"app_key", "timestamp", "shop_cipher", "sign"}
    assert request.query["app_key"] == "tts-app-key"
    assert request.query["shop_cipher"] == "ROW_TEST_CIPHER"
    timestamp = int(request.query["timestamp"])
    assert before <= timestamp <= int(time.time())
    assert request.headers["x-tts-access-token"] == "tts-token"
    assert request.headers["Content-Type"] == "application/json"
    assert request.json == json.loads(sample("tiktokshop_send_text_request.json"))
    assert json.loads(request.json["content"]) == {"content": REPLY}
    # TikTok's request sign, recomputed independently over the bytes that were actually sent:
    # app_secret + path + sorted query (key+value, no sign/access_token) + body + app_secret.
    query = "".join(f"{k}{request.query[k]}" for k in sorted(request.query) if k not in ("sign", "access_token"))
    assert query == f"app_keytts-app-keyshop_cipherROW_TEST_CIPHERtimestamp{timestamp}"
    plain = f"tts-app-secret{TIKTOK_PATH}{query}{request.body.decode()}tts-app-secret"
    assert request.query["sign"] == _hmac_hex("tts-app-secret", plain)


def test_tiktok_send_uses_the_fake_servers_own_success_answer(fake_platforms):
    result = get_adapter("tiktokshop").send_text(tiktok_ctx("Siap kak"))
    assert result.platform_message_id
    assert fake_platforms.requests_for("tiktokshop")[0].json == {"type": "TEXT", "content": '{"content": "Siap kak"}'}


def test_tiktok_code_other_than_zero_is_a_refusal(fake_platforms):
    fake_platforms.queue_response(
        200, {"code": 36009004, "message": "The conversation does not exist.", "request_id": "r2", "data": None}
    )
    with pytest.raises(SendError) as excinfo:
        get_adapter("tiktokshop").send_text(tiktok_ctx())
    assert excinfo.value.reason == "The conversation does not exist."
    assert excinfo.value.retryable is False


@pytest.mark.parametrize(
    ("status", "answer", "reason", "retryable"),
    [
        (401, {"code": 105002, "message": "Expired credentials", "request_id": "r"}, "Expired credentials", False),
        (400, {"code": 106001, "message": "Invalid signature", "request_id": "r"}, "Invalid signature", False),
        (404, {"code": 36009004, "message": ""}, "TikTok Shop error code 36009004", False),
        (500, {"code": 1, "message": "Internal error"}, "Internal error", True),
    ],
)
def test_tiktok_http_errors(fake_platforms, status, answer, reason, retryable):
    fake_platforms.queue_response(status, answer)
    with pytest.raises(SendError) as excinfo:
        get_adapter("tiktokshop").send_text(tiktok_ctx())
    assert excinfo.value.reason == reason
    assert excinfo.value.status_code == status
    assert excinfo.value.retryable is retryable


def test_tiktok_text_longer_than_2000_characters_is_refused_before_calling(fake_platforms):
    with pytest.raises(SendError, match="2000"):
        get_adapter("tiktokshop").send_text(tiktok_ctx("a" * 2001))
    assert fake_platforms.requests_for("tiktokshop") == []
    # Exactly the limit goes through.
    get_adapter("tiktokshop").send_text(tiktok_ctx("a" * 2000))
    assert len(fake_platforms.requests_for("tiktokshop")) == 1


def test_tiktok_answer_without_message_id_is_a_send_error(fake_platforms):
    fake_platforms.queue_response(200, {"code": 0, "message": "Success", "data": {}})
    with pytest.raises(SendError, match="without a message id"):
        get_adapter("tiktokshop").send_text(tiktok_ctx())


def test_tiktok_timeout_is_retryable(fake_platforms, settings):
    settings.PLATFORM_SEND_TIMEOUT_S = 0.3
    fake_platforms.delay_s = 1
    with pytest.raises(SendError) as excinfo:
        get_adapter("tiktokshop").send_text(tiktok_ctx())
    assert excinfo.value.retryable is True
    assert "did not answer in time" in excinfo.value.reason


def _tiktok_ctx_with(**changes: Any) -> OutboundContext:
    base = tiktok_ctx()
    return OutboundContext(**{**base.__dict__, **changes})


def test_tiktok_without_conversation_id_is_refused_before_calling(fake_platforms):
    with pytest.raises(SendError, match="conversation id"):
        get_adapter("tiktokshop").send_text(_tiktok_ctx_with(platform_conversation_id="", contact_external_id=""))
    assert fake_platforms.requests_for("tiktokshop") == []
