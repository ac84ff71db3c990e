"""Shopee and TikTok Shop: the contract's kind and structured content of each message type.

No captured payload of these platforms' chat pushes was found in their public docs or in
open-source clients (docs/platforms.md says so); the bodies are the flat samples (Balas's own,
shaped after the documented fields) with the type and content varied.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from inbox.adapters import get_adapter
from inbox.adapters.base import NormalizedMessage

FLAT = Path(__file__).resolve().parents[2] / "fixtures" / "platforms"


def shopee(message_type: str, content: dict[str, Any], **fields: Any) -> NormalizedMessage:
    body = json.loads((FLAT / "shopee_text.json").read_bytes())
    body["data"]["content"].update({"message_type": message_type, "content": content, **fields})
    event = get_adapter("shopee").parse(payload=body, account_id=str(body["shop_id"]), secrets={})
    assert event.errors == ()
    [message] = event.messages
    return message


def tiktok(message_type: str, content: dict[str, Any], role: str = "BUYER") -> NormalizedMessage:
    body = json.loads((FLAT / "tiktokshop_text.json").read_bytes())
    body["data"].update({"type": message_type, "content": json.dumps(content)})
    body["data"]["sender"]["role"] = role
    event = get_adapter("tiktokshop").parse(payload=body, account_id=body["shop_id"], secrets={})
    assert event.errors == ()
    [message] = event.messages
    return message


@pytest.mark.parametrize(
    ("message_type", "content", "kind", "structured"),
    [
        ("text", {"text": "Kak, ready?"}, "text", {"source": {"item_id": 23456789012}}),
        (
            "image",
            {
                "url": "https://cf.shopee.co.id/file/abc",
                "thumb_url": "https://cf.shopee.co.id/file/abc_tn",
                "thumb_width": 300,
            },
            "image",
            {
                "url": "https://cf.shopee.co.id/file/abc",
                "thumb_url": "https://cf.shopee.co.id/file/abc_tn",
                "width": 300,
            },
        ),
        (
            "video",
            {"video_url": "https://cf.shopee.co.id/v/1.mp4", "duration_seconds": 12},
            "video",
            {"url": "https://cf.shopee.co.id/v/1.mp4", "duration_seconds": 12},
        ),
        (
            "item",
            {"shop_id": 880123456, "item_id": 2345},
            "product",
            {"product_id": "2345", "shop_id": 880123456, "item_id": 2345},
        ),
        ("item", {"item_id": ""}, "product", {"product_id": ""}),
        ("order", {"order_sn": "260302ABCDEF12"}, "order", {"order_sn": "260302ABCDEF12", "items": []}),
        ("sticker", {"sticker_id": "st-1"}, "sticker", {"sticker_id": "st-1"}),
        (
            "bundle_message",
            {"text": "Paket hemat"},
            "unsupported",
            {"raw": {"message_type": "bundle_message", "text": "Paket hemat"}},
        ),
    ],
)
def test_shopee_kinds_and_content(message_type, content, kind, structured):
    message = shopee(message_type, content, source_content={} if message_type != "text" else {"item_id": 23456789012})
    assert (message.kind, dict(message.content)) == (kind, structured)


def test_shopee_a_quoted_message_is_the_reply_to():
    assert (
        shopee("text", {"text": "yang ini"}, quoted_msg={"message_id": "2399"}).reply_to_platform_message_id == "2399"
    )
    assert shopee("text", {"text": "halo"}, quoted_msg={"message_id": ""}).reply_to_platform_message_id == ""


@pytest.mark.parametrize(
    ("message_type", "content", "kind", "structured"),
    [
        (
            "IMAGE",
            {"url": "https://p16.tiktokcdn.com/a.jpg", "width": 640, "height": 480},
            "image",
            {"url": "https://p16.tiktokcdn.com/a.jpg", "width": 640, "height": 480},
        ),
        ("PRODUCT_CARD", {"product_id": "1729"}, "product", {"card": "PRODUCT_CARD", "product_id": "1729"}),
        ("ORDER_CARD", {"order_id": "5764"}, "order", {"card": "ORDER_CARD", "order_id": "5764", "items": []}),
        ("EMOTICONS", {"emoticon_id": "e1"}, "sticker", {"emoticon_id": "e1"}),
        ("COUPON_CARD", {"coupon_id": "c1"}, "unsupported", {"raw": {"coupon_id": "c1"}}),
    ],
)
def test_tiktok_kinds_and_content(message_type, content, kind, structured):
    message = tiktok(message_type, content)
    assert (message.kind, dict(message.content), message.direction) == (kind, structured, "in")


def test_tiktok_a_platform_notice_is_a_system_message_whoever_the_sender_is():
    message = tiktok("NOTIFICATION", {"content": "Agen CS telah bergabung"}, role="SYSTEM")
    assert (message.kind, message.direction, message.source, message.text) == (
        "system",
        "in",
        "customer",
        "Agen CS telah bergabung",
    )
    assert message.content == {"type": "NOTIFICATION", "content": "Agen CS telah bergabung"}
