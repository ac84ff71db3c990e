"""Bad Shopee and TikTok Shop bodies: never a 500, a 400 naming the field, and no rows."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from inbox.models import Contact, Conversation, Message, WebhookEvent
from tests.conftest import post_webhook, sample, signed_headers

pytestmark = pytest.mark.django_db(transaction=True)

Mutation = Callable[[dict[str, Any]], Any]


def _set(path: str, value: Any) -> Mutation:
    def mutate(body: dict[str, Any]) -> Any:
        *parents, last = path.split(".")
        node = body
        for key in parents:
            node = node[key]
        node[last] = value
        return body

    return mutate


def _delete(path: str) -> Mutation:
    def mutate(body: dict[str, Any]) -> Any:
        *parents, last = path.split(".")
        node = body
        for key in parents:
            node = node[key]
        del node[last]
        return body

    return mutate


def _replace_body(value: Any) -> Mutation:
    return lambda body: value


def _signed_post(client: Any, channels: Any, platform: str, raw: bytes) -> Any:
    return post_webhook(client, platform, raw, signed_headers(channels[platform], raw))


def _assert_nothing_stored() -> None:
    assert Message.objects.count() == 0
    assert WebhookEvent.objects.count() == 0
    assert Contact.objects.count() == 0
    assert Conversation.objects.count() == 0


# (sample, mutation, words the 400's error must contain)
SHOPEE_400 = [
    ("body-array", _replace_body([]), "not an object"),
    ("body-string", _replace_body("halo"), "not an object"),
    ("body-null", _replace_body(None), "not an object"),
    ("missing-shop_id", _delete("shop_id"), "body.shop_id is missing"),
    ("shop_id-list", _set("shop_id", [880123456]), "body.shop_id"),
    ("shop_id-bool", _set("shop_id", True), "body.shop_id"),
    ("shop_id-float", _set("shop_id", 880123456.5), "body.shop_id"),
    ("shop_id-text", _set("shop_id", "toko-glow"), "body.shop_id"),
    ("shop_id-zero", _set("shop_id", 0), "body.shop_id"),
    ("missing-code", _delete("code"), "body.code is missing"),
    ("code-string", _set("code", "10"), "body.code"),
    ("code-null", _set("code", None), "body.code"),
    ("missing-data", _delete("data"), "body.data"),
    ("data-list", _set("data", []), "body.data"),
    ("missing-data.type", _delete("data.type"), "data.type"),
    ("data.type-number", _set("data.type", 1), "data.type"),
    ("missing-content", _delete("data.content"), "data.content"),
    ("content-string", _set("data.content", "Kak ready?"), "data.content"),
    ("missing-message_id", _delete("data.content.message_id"), "data.content.message_id is missing"),
    ("message_id-empty", _set("data.content.message_id", " "), "data.content.message_id is empty"),
    ("message_id-object", _set("data.content.message_id", {}), "data.content.message_id"),
    ("missing-created_timestamp", _delete("data.content.created_timestamp"), "data.content.created_timestamp"),
    ("created_timestamp-string", _set("data.content.created_timestamp", "1772421300"), "created_timestamp"),
    ("created_timestamp-negative", _set("data.content.created_timestamp", -1), "created_timestamp"),
    ("created_timestamp-milliseconds", _set("data.content.created_timestamp", 1772421300000), "created_timestamp"),
    ("created_timestamp-huge", _set("data.content.created_timestamp", 10**400), "created_timestamp"),
    ("missing-from_id", _delete("data.content.from_id"), "data.content.from_id is missing"),
    ("from_id-text", _set("data.content.from_id", "siti"), "data.content.from_id"),
    ("from_id-zero", _set("data.content.from_id", 0), "data.content.from_id"),
    ("missing-message_type", _delete("data.content.message_type"), "data.content.message_type is missing"),
    ("message_type-number", _set("data.content.message_type", 1), "data.content.message_type"),
    ("missing-inner-content", _delete("data.content.content"), "data.content.content is missing"),
    ("inner-content-string", _set("data.content.content", "Kak ready?"), "data.content.content"),
    ("text-empty-content", _set("data.content.content", {}), "data.content.content.text is missing"),
    ("text-empty-string", _set("data.content.content", {"text": ""}), "data.content.content.text is empty"),
    ("text-number", _set("data.content.content", {"text": 5}), "data.content.content.text"),
    ("text-only-nul", _set("data.content.content", {"text": "\x00"}), "data.content.content.text is empty"),
]
SHOPEE_ECHO_400 = [
    ("echo-missing-to_id", _delete("data.content.to_id"), "data.content.to_id is missing"),
    ("echo-to_id-list", _set("data.content.to_id", [1]), "data.content.to_id"),
]
SHOPEE_IMAGE_400 = [
    ("image-missing-url", _delete("data.content.content.url"), "data.content.content.url is missing"),
    ("video-missing-video_url", _set("data.content.message_type", "video"), "data.content.content.video_url"),
    ("item-missing-item_id", _set("data.content.message_type", "item"), "data.content.content.item_id"),
    ("order-missing-order_sn", _set("data.content.message_type", "order"), "data.content.content.order_sn"),
]

TIKTOK_400 = [
    ("body-array", _replace_body([1]), "not an object"),
    ("body-number", _replace_body(14), "not an object"),
    ("missing-shop_id", _delete("shop_id"), "body.shop_id is missing"),
    ("shop_id-object", _set("shop_id", {}), "body.shop_id"),
    ("shop_id-blank", _set("shop_id", "  "), "body.shop_id is empty"),
    ("missing-type", _delete("type"), "body.type is missing"),
    ("type-string", _set("type", "14"), "body.type"),
    ("type-bool", _set("type", True), "body.type"),
    ("missing-data", _delete("data"), "data"),
    ("data-string", _set("data", "{}"), "data"),
    ("missing-conversation_id", _delete("data.conversation_id"), "data.conversation_id is missing"),
    ("conversation_id-number", _set("data.conversation_id", 7496000000000000001), "data.conversation_id"),
    ("conversation_id-empty", _set("data.conversation_id", ""), "data.conversation_id is empty"),
    ("missing-message_id", _delete("data.message_id"), "data.message_id is missing"),
    ("message_id-null", _set("data.message_id", None), "data.message_id"),
    ("missing-message-type", _delete("data.type"), "data.type is missing"),
    ("missing-content", _delete("data.content"), "data.content is missing"),
    ("content-object-not-string", _set("data.content", {"content": "halo"}), "data.content has the wrong type"),
    ("content-truncated", _set("data.content", '{"content": "Kak, produk ser'), "data.content is not valid JSON"),
    ("content-not-json", _set("data.content", "Kak ready?"), "data.content is not valid JSON"),
    ("content-empty-string", _set("data.content", ""), "data.content is not valid JSON"),
    ("content-json-array", _set("data.content", "[1, 2]"), "data.content is not a JSON object"),
    ("content-json-null", _set("data.content", "null"), "data.content is not a JSON object"),
    ("content-deeply-nested", _set("data.content", "[" * 100_000 + "]" * 100_000), "data.content is not valid JSON"),
    ("text-missing", _set("data.content", "{}"), "data.content.content is missing"),
    ("text-number", _set("data.content", '{"content": 5}'), "data.content.content"),
    ("text-empty", _set("data.content", '{"content": " "}'), "data.content.content is empty"),
    ("missing-sender", _delete("data.sender"), "data.sender is missing"),
    ("sender-string", _set("data.sender", "BUYER"), "data.sender"),
    ("missing-role", _delete("data.sender.role"), "data.sender.role is missing"),
    ("role-number", _set("data.sender.role", 1), "data.sender.role"),
    ("create_time-string", _set("data.create_time", "1772421300"), "data.create_time"),
    ("create_time-negative", _set("data.create_time", -5), "data.create_time"),
    ("create_time-huge", _set("data.create_time", 10**400), "data.create_time"),
    ("create_time-bool", _set("data.create_time", True), "data.create_time"),
]
TIKTOK_IMAGE_400 = [
    ("image-missing-url", _set("data.content", '{"width": 1, "height": 1}'), "data.content.url is missing"),
    ("product-card-without-id", _set("data.type", "PRODUCT_CARD"), "PRODUCT_CARD"),
    ("order-card-without-id", _set("data.type", "ORDER_CARD"), "ORDER_CARD"),
]


def _cases(platform: str, name: str, cases: list[tuple[str, Mutation, str]]) -> Iterator[Any]:
    for case_id, mutation, words in cases:
        yield pytest.param(platform, name, mutation, words, id=f"{platform}-{case_id}")


@pytest.mark.parametrize(
    ("platform", "sample_name", "mutation", "words"),
    [
        *_cases("shopee", "shopee_text.json", SHOPEE_400),
        *_cases("shopee", "shopee_echo.json", SHOPEE_ECHO_400),
        *_cases("shopee", "shopee_image.json", SHOPEE_IMAGE_400),
        *_cases("tiktokshop", "tiktokshop_text.json", TIKTOK_400),
        *_cases("tiktokshop", "tiktokshop_image.json", TIKTOK_IMAGE_400),
    ],
)
def test_signed_malformed_body_is_400_naming_the_field(client, channels, platform, sample_name, mutation, words):
    body = mutation(json.loads(sample(sample_name)))
    raw = json.dumps(body, ensure_ascii=False).encode()
    response = _signed_post(client, channels, platform, raw)
    assert response.status_code == 400, response.content
    assert words in response.json()["error"]
    _assert_nothing_stored()


@pytest.mark.parametrize("platform", ["shopee", "tiktokshop"])
@pytest.mark.parametrize(
    ("case", "make_raw", "words"),
    [
        ("truncated", lambda raw: raw[: len(raw) // 2], "not valid JSON"),
        ("last-brace-missing", lambda raw: raw.rstrip()[:-1], "not valid JSON"),
        ("trailing-garbage", lambda raw: raw + b"}", "not valid JSON"),
        ("latin-1", lambda raw: raw.decode().replace("Kak", "Käk").encode("latin-1", "replace"), "not UTF-8"),
        ("utf-16", lambda raw: raw.decode().encode("utf-16"), "not UTF-8"),
        ("invalid-bytes", lambda raw: b"\xff\xfe\xfa" + raw, "not UTF-8"),
        ("xml", lambda raw: b"<message>Kak</message>", "not valid JSON"),
        ("form-encoded", lambda raw: b"shop_id=880123456&code=10", "not valid JSON"),
        ("deeply-nested", lambda raw: b"[" * 100_000 + b"]" * 100_000, "nested deeper than the limit of 64 levels"),
        ("long-integer", lambda raw: b'{"shop_id": ' + b"9" * 5000 + b"}", "not valid JSON"),
    ],
)
def test_body_that_is_not_json_is_400(client, channels, platform, case, make_raw, words):
    raw = make_raw(sample(f"{platform}_text.json"))
    response = _signed_post(client, channels, platform, raw)
    assert response.status_code == 400, response.content
    assert words in response.json()["error"]
    _assert_nothing_stored()


@pytest.mark.parametrize(("platform", "status"), [("tiktokshop", 400), ("shopee", 200)])
def test_blank_body(client, channels, platform, status):
    # Shopee probes a callback URL with an empty POST when it is saved and wants a 2xx.
    response = post_webhook(client, platform, b"  \n")
    assert response.status_code == status
    _assert_nothing_stored()


@pytest.mark.parametrize(
    ("platform", "sample_name", "mutation", "detail"),
    [
        ("shopee", "shopee_text.json", _set("code", 3), "push code 3"),
        ("shopee", "shopee_text.json", _set("code", 0), "push code 0"),
        ("shopee", "shopee_text.json", _set("data.type", "notification"), "data.type 'notification'"),
        ("shopee", "shopee_text.json", _set("data.type", "typing"), "data.type 'typing'"),
        # A push Balas does not read needs no chat fields at all.
        (
            "shopee",
            "shopee_text.json",
            lambda b: {"shop_id": 880123456, "code": 4, "timestamp": 1772421301},
            "push code 4",
        ),
        ("tiktokshop", "tiktokshop_text.json", _set("type", 13), "event type 13"),
        ("tiktokshop", "tiktokshop_text.json", _set("type", 1), "event type 1"),
        (
            "tiktokshop",
            "tiktokshop_text.json",
            lambda b: {"type": 77, "shop_id": "7495000000000000001", "timestamp": 1, "data": None},
            "event type 77",
        ),
    ],
)
def test_unknown_codes_and_types_are_acknowledged_as_ignored(client, channels, platform, sample_name, mutation, detail):
    raw = json.dumps(mutation(json.loads(sample(sample_name)))).encode()
    response = _signed_post(client, channels, platform, raw)
    assert response.status_code == 200
    assert Message.objects.count() == 0
    event = WebhookEvent.objects.get()
    assert event.outcome == "ignored"
    assert detail in event.detail


def test_shopee_mark_as_replied_notification_is_ignored(client, channels):
    raw = json.dumps(
        {
            "msg_id": "",
            "data": {
                "type": "notification",
                "region": "ID",
                "content": {"type": "mark_as_replied", "conversation_id": "726354810293847561"},
            },
            "shop_id": 880123456,
            "code": 10,
            "timestamp": 1772421500,
        }
    ).encode()
    response = _signed_post(client, channels, "shopee", raw)
    assert response.status_code == 200
    assert response.content == b""
    event = WebhookEvent.objects.get()
    assert event.outcome == "ignored"
    assert "mark_as_replied" in event.detail
    assert Message.objects.count() == 0


@pytest.mark.parametrize(
    ("platform", "sample_name", "mutation"),
    [
        ("shopee", "shopee_text.json", _set("data.content.content", {"text": "Kak \ud83d ready? a\x00b"})),
        ("tiktokshop", "tiktokshop_text.json", _set("data.content", '{"content": "Kak \\ud83d ready? a\\u0000b"}')),
    ],
)
def test_half_an_emoji_or_a_nul_is_stored_not_a_500(client, channels, platform, sample_name, mutation):
    body = mutation(json.loads(sample(sample_name)))
    raw = json.dumps(body).encode()  # ASCII escapes: \ud83d and \u0000 as the platform would send them
    response = _signed_post(client, channels, platform, raw)
    assert response.status_code == 200
    assert Message.objects.get().text == "Kak \ufffd ready? ab"


# Every field of every sample, removed or given a wrong value: never a 500, and a 400 stores nothing.
WRONG_VALUES: list[Any] = [None, [], {}, "", "x", 0, -1, True, 1.5, "9" * 40, 10**30, "\ud83d"]


def _paths(node: Any, prefix: str = "") -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else key
            yield path
            yield from _paths(value, path)


@pytest.mark.parametrize(
    "sample_name",
    [
        "shopee_text.json",
        "shopee_image.json",
        "shopee_echo.json",
        "tiktokshop_text.json",
        "tiktokshop_image.json",
        "tiktokshop_echo.json",
    ],
)
def test_no_field_change_causes_a_500(client, channels, sample_name):
    platform = sample_name.split("_")[0]
    original = json.loads(sample(sample_name))
    seen_statuses: set[int] = set()
    for path in list(_paths(original)):
        for mutation in [_delete(path), *(_set(path, value) for value in WRONG_VALUES)]:
            body = mutation(copy.deepcopy(original))
            raw = json.dumps(body).encode()
            before = (Message.objects.count(), WebhookEvent.objects.count())
            response = _signed_post(client, channels, platform, raw)
            seen_statuses.add(response.status_code)
            assert response.status_code in (200, 400, 404), (path, response.status_code, response.content)
            if response.status_code != 200:
                assert response.json()["error"]
                assert (Message.objects.count(), WebhookEvent.objects.count()) == before, path
    assert {200, 400} <= seen_statuses
