"""Customers for the demo: signed webhooks in each platform's real format, posted to a running Balas.

Two layers:
- payload builders (`customer_message`, `shop_echo`, `receipt`): one platform webhook body each,
  shaped like the samples in tests/fixtures/platforms/ (fresh ids, the current time in each
  platform's unit). Tests post them to the real webhook view.
- `Simulator`: plays short Indonesian shop conversations on a clock. Customers ask about stock,
  price, shipping, size, colour, COD, their order, complain or say thanks, often in bursts; the shop
  sometimes answers from the platform's own app (an echo: warm or curt, quick or late) and
  sometimes not at all, so the inbox has customers waiting for the admin and the monitoring has
  both fast and slow, warm and terse replies to show. Each post is one log line with its status;
  a server that is down or answers 5xx gets the same body again later, like the platforms retry.
"""

from __future__ import annotations

import base64
import functools
import heapq
import itertools
import json
import logging
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from inbox.adapters import get_adapter

logger = logging.getLogger("balas.simulator")

WEBHOOK_PLATFORMS: tuple[str, ...] = ("whatsapp", "instagram", "messenger", "shopee", "tiktokshop")
# Replies typed in Meta Business Suite / the Page inbox carry that app's id, not ours: Balas must
# treat them as the shop's human replies, not as echoes of its own sends.
OTHER_META_APP_ID = 263902037430900


# --- who is talking -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelSpec:
    """One demo channel as the platform sees it: the account and the secrets it signs with."""

    platform: str
    account_id: str
    secrets: Mapping[str, Any]

    @property
    def business_number(self) -> str:
        # WhatsApp's display number of the shop; only shown, never checked.
        return "62811" + self.account_id[-8:].rjust(8, "0")

    @property
    def seller_user_id(self) -> int:
        # Shopee's seller *user* id differs from the shop id.
        return 800_000_000 + int(self.account_id[-8:] or 0) % 100_000_000

    @property
    def agent_id(self) -> str:
        # TikTok Shop's customer-service im_user_id of the shop.
        return "7497" + self.account_id[-15:].rjust(15, "9")


@dataclass(frozen=True)
class Customer:
    platform: str
    external_id: str
    name: str
    username: str = ""
    conversation_id: str = ""


_FIRST_NAMES = (
    "Siti",
    "Dewi",
    "Rina",
    "Putri",
    "Ayu",
    "Nurul",
    "Intan",
    "Wulan",
    "Fitri",
    "Mega",
    "Anisa",
    "Dinda",
    "Budi",
    "Agus",
    "Rizky",
    "Dimas",
    "Fajar",
    "Andi",
    "Yusuf",
    "Bayu",
    "Eko",
    "Hendra",
    "Rudi",
    "Tono",
)
_LAST_NAMES = (
    "Rahma",
    "Lestari",
    "Saputra",
    "Wijaya",
    "Pratama",
    "Hidayat",
    "Kusuma",
    "Sari",
    "Nugroho",
    "Putra",
    "Permata",
    "Utami",
    "Siregar",
    "Nasution",
    "Simanjuntak",
    "Harahap",
    "Wahyuni",
    "Setiawan",
)


def _digits(rng: random.Random, n: int, first: str = "") -> str:
    return first + "".join(rng.choice("0123456789") for _ in range(n - len(first)))


def customer_new(platform: str, rng: random.Random | None = None) -> Customer:
    """A made-up customer with ids in the platform's usual shape."""
    rng = rng or random.Random()  # noqa: S311 - made-up demo data, not security
    first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
    name = f"{first} {last}"
    username = f"{first.lower()}.{last.lower()}{rng.randint(1, 99)}"
    if platform == "whatsapp":
        return Customer(platform, _digits(rng, 12, "628"), name)
    if platform in ("instagram", "messenger"):
        return Customer(platform, _digits(rng, 16, rng.choice("1234567")), name)
    if platform == "shopee":
        return Customer(platform, _digits(rng, 9, "3"), name, username, _digits(rng, 18, "72"))
    if platform == "tiktokshop":
        return Customer(platform, _digits(rng, 19, "7497"), name, username.replace(".", ""), _digits(rng, 19, "7496"))
    return Customer(platform, "web-" + uuid.uuid4().hex[:12], name)


# --- payload builders ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Webhook:
    """One platform webhook delivery: `raw` is what is signed and sent, byte for byte."""

    platform: str
    kind: str  # customer | image | echo | status
    payload: dict[str, Any]
    message_id: str = ""
    text: str = ""

    @property
    def raw(self) -> bytes:
        return json.dumps(self.payload, ensure_ascii=False, separators=(",", ":")).encode()


def signed(channel: ChannelSpec, webhook: Webhook) -> tuple[bytes, dict[str, str]]:
    """The exact body and the headers the platform would send (signature by the channel's adapter)."""
    raw = webhook.raw
    headers = {"Content-Type": "application/json"}
    headers.update(get_adapter(channel.platform).signature_headers(secrets=channel.secrets, raw_body=raw))
    return raw, headers


def _now(at: float | None) -> float:
    return time.time() if at is None else at


def _wamid() -> str:
    return "wamid.HBgN" + base64.b64encode(uuid.uuid4().bytes + uuid.uuid4().bytes[:6]).decode().rstrip("=")


def _ig_mid() -> str:
    return base64.b64encode(f"ig_message_item:1:IGMessageThreadID:{uuid.uuid4().int}".encode()).decode()


def _fb_mid() -> str:
    return "m_" + base64.urlsafe_b64encode(uuid.uuid4().bytes + uuid.uuid4().bytes).decode().rstrip("=")


def _long_id() -> str:
    return str(7_000_000_000_000_000_000 + uuid.uuid4().int % 2_000_000_000_000_000_000)


def image_url(seed: int | str) -> str:
    return f"https://picsum.photos/seed/balas{seed}/480/640"


def customer_message(
    channel: ChannelSpec, customer: Customer, *, text: str = "", image: str = "", at: float | None = None
) -> Webhook:
    """A customer's text, or an image (`image` = its URL; `text` then is the caption where the platform has one)."""
    now = _now(at)
    kind = "image" if image else "customer"
    builder = _CUSTOMER_BUILDERS[channel.platform]
    payload, message_id = builder(channel, customer, text, image, now)
    return Webhook(channel.platform, kind, payload, message_id, text)


def shop_echo(channel: ChannelSpec, customer: Customer, *, text: str, at: float | None = None) -> Webhook:
    """The shop answering from the platform's own app or seller centre, reported back to Balas."""
    now = _now(at)
    payload, message_id = _ECHO_BUILDERS[channel.platform](channel, customer, text, now)
    return Webhook(channel.platform, "echo", payload, message_id, text)


def receipt(
    channel: ChannelSpec, customer: Customer, *, message_id: str, status: str = "read", at: float | None = None
) -> Webhook | None:
    """Delivery/read news about the shop's message; None where the platform sends none (Shopee, TikTok)."""
    builder = _RECEIPT_BUILDERS.get(channel.platform)
    if builder is None:
        return None
    payload = builder(channel, customer, message_id, status, _now(at))
    return Webhook(channel.platform, "status", payload, message_id, status)


# WhatsApp Cloud API: Unix seconds as strings.
def _wa_envelope(channel: ChannelSpec, field_name: str, value: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "1047" + channel.account_id[-11:],
                "changes": [
                    {
                        "field": field_name,
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": channel.business_number,
                                "phone_number_id": channel.account_id,
                            },
                            **value,
                        },
                    }
                ],
            }
        ],
    }


def _wa_customer(
    channel: ChannelSpec, customer: Customer, text: str, image: str, now: float
) -> tuple[dict[str, Any], str]:
    message_id = _wamid()
    message: dict[str, Any] = {"from": customer.external_id, "id": message_id, "timestamp": str(int(now))}
    if image:
        # WhatsApp sends a media id, never a URL: the media is fetched from the Graph API.
        message["type"] = "image"
        message["image"] = {
            "id": str(uuid.uuid4().int % 10**15),
            "mime_type": "image/jpeg",
            "sha256": base64.b64encode(uuid.uuid4().bytes * 2).decode(),
            **({"caption": text} if text else {}),
        }
    else:
        message["type"] = "text"
        message["text"] = {"body": text}
    value = {"contacts": [{"profile": {"name": customer.name}, "wa_id": customer.external_id}], "messages": [message]}
    return _wa_envelope(channel, "messages", value), message_id


def _wa_echo(channel: ChannelSpec, customer: Customer, text: str, now: float) -> tuple[dict[str, Any], str]:
    message_id = _wamid()
    echo = {
        "from": channel.business_number,
        "to": customer.external_id,
        "id": message_id,
        "timestamp": str(int(now)),
        "type": "text",
        "text": {"body": text},
    }
    return _wa_envelope(channel, "smb_message_echoes", {"message_echoes": [echo]}), message_id


def _wa_receipt(channel: ChannelSpec, customer: Customer, message_id: str, status: str, now: float) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": message_id,
        "status": status,
        "timestamp": str(int(now)),
        "recipient_id": customer.external_id,
    }
    if status != "read":
        item["conversation"] = {"id": uuid.uuid4().hex, "origin": {"type": "service"}}
        item["pricing"] = {"billable": True, "pricing_model": "CBP", "category": "service"}
    return _wa_envelope(channel, "messages", {"statuses": [item]})


# Instagram and Messenger: Unix milliseconds as numbers.
def _meta_envelope(channel: ChannelSpec, event: dict[str, Any], now: float) -> dict[str, Any]:
    obj = "instagram" if channel.platform == "instagram" else "page"
    return {"object": obj, "entry": [{"id": channel.account_id, "time": int(now * 1000), "messaging": [event]}]}


def _meta_customer(
    channel: ChannelSpec, customer: Customer, text: str, image: str, now: float
) -> tuple[dict[str, Any], str]:
    message_id = _ig_mid() if channel.platform == "instagram" else _fb_mid()
    message: dict[str, Any] = {"mid": message_id}
    if image:
        message["attachments"] = [{"type": "image", "payload": {"url": image}}]
    else:
        message["text"] = text
    event = {
        "sender": {"id": customer.external_id},
        "recipient": {"id": channel.account_id},
        "timestamp": int(now * 1000),
        "message": message,
    }
    return _meta_envelope(channel, event, now), message_id


def _meta_echo(channel: ChannelSpec, customer: Customer, text: str, now: float) -> tuple[dict[str, Any], str]:
    message_id = _ig_mid() if channel.platform == "instagram" else _fb_mid()
    message: dict[str, Any] = {"mid": message_id, "is_echo": True, "text": text}
    if channel.platform == "messenger":
        message["app_id"] = OTHER_META_APP_ID
    event = {
        # An echo is from the shop: the customer is the recipient.
        "sender": {"id": channel.account_id},
        "recipient": {"id": customer.external_id},
        "timestamp": int(now * 1000),
        "message": message,
    }
    return _meta_envelope(channel, event, now), message_id


def _meta_receipt(channel: ChannelSpec, customer: Customer, message_id: str, status: str, now: float) -> dict[str, Any]:
    event: dict[str, Any] = {
        "sender": {"id": customer.external_id},
        "recipient": {"id": channel.account_id},
        "timestamp": int(now * 1000),
    }
    if channel.platform == "instagram":
        event["read"] = {"mid": message_id}  # messaging_seen names the message
    elif status == "delivered":
        event["delivery"] = {"mids": [message_id], "watermark": int(now * 1000)}
    else:
        event["read"] = {"watermark": int(now * 1000)}  # Messenger: everything up to the watermark
    return _meta_envelope(channel, event, now)


# Shopee webchat push (code 10): Unix seconds as numbers.
def _shopee_push(channel: ChannelSpec, content: dict[str, Any], now: float) -> dict[str, Any]:
    return {
        "msg_id": "",
        "data": {"type": "message", "region": "ID", "content": content},
        "shop_id": int(channel.account_id),
        "code": 10,
        "timestamp": int(now) + 1,
    }


def _shopee_content(
    channel: ChannelSpec, customer: Customer, *, from_shop: bool, message_type: str, body: dict[str, Any], now: float
) -> tuple[dict[str, Any], str]:
    message_id = str(2_400_000_000_000_000_000 + uuid.uuid4().int % 10**17)
    shop_id = int(channel.account_id)
    buyer = {"id": int(customer.external_id), "name": customer.username}
    seller = {"id": channel.seller_user_id, "name": "tokodemo.official"}
    sender, receiver = (seller, buyer) if from_shop else (buyer, seller)
    content = {
        "message_id": message_id,
        "shop_id": shop_id,
        "request_id": str(uuid.uuid4()),
        "from_id": sender["id"],
        "from_user_name": sender["name"],
        "to_id": receiver["id"],
        "to_user_name": receiver["name"],
        "message_type": message_type,
        "content": body,
        "conversation_id": customer.conversation_id,
        "created_timestamp": int(now),
        "region": "ID",
        "is_in_chatbot_session": False,
        "source_content": {},
        "quoted_msg": {"message_id": ""},
        "sub_account_id": 55001 if from_shop else 0,
        "sub_account_name": "cs_dina" if from_shop else 0,
        "business_type": 0,
        "to_shop_id": 0 if from_shop else shop_id,
        "from_shop_id": shop_id if from_shop else 0,
        "status": "normal",
    }
    return _shopee_push(channel, content, now), message_id


def _shopee_customer(
    channel: ChannelSpec, customer: Customer, text: str, image: str, now: float
) -> tuple[dict[str, Any], str]:
    if image:
        body = {"url": image, "thumb_url": image, "thumb_height": 640, "thumb_width": 480, "file_server_id": 0}
        return _shopee_content(channel, customer, from_shop=False, message_type="image", body=body, now=now)
    return _shopee_content(channel, customer, from_shop=False, message_type="text", body={"text": text}, now=now)


def _shopee_echo(channel: ChannelSpec, customer: Customer, text: str, now: float) -> tuple[dict[str, Any], str]:
    return _shopee_content(channel, customer, from_shop=True, message_type="text", body={"text": text}, now=now)


# TikTok Shop NEW_MESSAGE (type 14): Unix seconds; `content` is a JSON string.
def _tiktok_event(
    channel: ChannelSpec,
    customer: Customer,
    *,
    msg_type: str,
    content: dict[str, Any],
    sender: dict[str, Any],
    now: float,
) -> tuple[dict[str, Any], str]:
    message_id = _long_id()
    payload = {
        "type": 14,
        "tts_notification_id": _long_id(),
        "shop_id": channel.account_id,
        "timestamp": int(now) + 1,
        "data": {
            "conversation_id": customer.conversation_id,
            "message_id": message_id,
            "type": msg_type,
            "content": json.dumps(content, ensure_ascii=False),
            "create_time": int(now),
            "is_visible": True,
            "sender": sender,
        },
    }
    return payload, message_id


def _tiktok_customer(
    channel: ChannelSpec, customer: Customer, text: str, image: str, now: float
) -> tuple[dict[str, Any], str]:
    sender = {"im_user_id": customer.external_id, "role": "BUYER", "nickname": customer.username, "avatar": ""}
    if image:
        content: dict[str, Any] = {"url": image, "width": 1080, "height": 1440}
        return _tiktok_event(channel, customer, msg_type="IMAGE", content=content, sender=sender, now=now)
    return _tiktok_event(channel, customer, msg_type="TEXT", content={"content": text}, sender=sender, now=now)


def _tiktok_echo(channel: ChannelSpec, customer: Customer, text: str, now: float) -> tuple[dict[str, Any], str]:
    sender = {"im_user_id": channel.agent_id, "role": "CUSTOMER_SERVICE", "nickname": "Toko Demo CS", "avatar": ""}
    return _tiktok_event(channel, customer, msg_type="TEXT", content={"content": text}, sender=sender, now=now)


_CUSTOMER_BUILDERS: dict[str, Callable[[ChannelSpec, Customer, str, str, float], tuple[dict[str, Any], str]]] = {
    "whatsapp": _wa_customer,
    "instagram": _meta_customer,
    "messenger": _meta_customer,
    "shopee": _shopee_customer,
    "tiktokshop": _tiktok_customer,
}
_ECHO_BUILDERS: dict[str, Callable[[ChannelSpec, Customer, str, float], tuple[dict[str, Any], str]]] = {
    "whatsapp": _wa_echo,
    "instagram": _meta_echo,
    "messenger": _meta_echo,
    "shopee": _shopee_echo,
    "tiktokshop": _tiktok_echo,
}
_RECEIPT_BUILDERS: dict[str, Callable[[ChannelSpec, Customer, str, str, float], dict[str, Any]]] = {
    "whatsapp": _wa_receipt,
    "instagram": _meta_receipt,
    "messenger": _meta_receipt,
}


# --- what customers say -------------------------------------------------------------------------


@dataclass(frozen=True)
class Topic:
    name: str
    bursts: tuple[tuple[str, ...], ...]  # a few ways one customer opens (each a burst of messages)
    warm: tuple[str, ...]
    curt: tuple[str, ...]
    image_caption: str = ""


TOPICS: tuple[Topic, ...] = (
    Topic(
        "stok",
        (
            ("kak ready ga?", "yg hitam ukuran L ya kak 🙏"),
            ("permisi kak, kemeja flanel nya masih ada?",),
            ("ready kak?",),
        ),
        (
            "Halo kak 😊 ready ya, hitam L stoknya masih 7. Silakan langsung checkout ya kak 🙏",
            "Ready kak! Terima kasih sudah mampir 😊 mau diambil berapa pcs kak?",
        ),
        ("ready", "ada", "iya"),
        "yg kayak gini ada kak?",
    ),
    Topic(
        "harga",
        (("min brp harganya yg ini?", "ada promo ga gan 😁"), ("kak harga yg 2 pcs brp?", "bisa kurang dikit ga 🙏")),
        (
            "Halo kak, harganya 89rb aja 😊 lagi ada promo gratis ongkir min. belanja 100rb ya kak 🙏",
            "Untuk 2 pcs jadi 170rb kak, sudah harga spesial 😊 yuk diorder sebelum promonya habis 🙏",
        ),
        ("89rb", "harga pas", "liat di etalase"),
        "yg ini brp kak?",
    ),
    Topic(
        "ongkir",
        (("kak ongkir ke Makassar brp ya", "pake J&T bisa?"), ("gan kirim ke Medan brp hari ya?",)),
        (
            "Ongkir ke Makassar pakai J&T sekitar 28rb kak, estimasi 3-4 hari 😊 muncul otomatis pas checkout ya 🙏",
            "Ke Medan biasanya 2-3 hari kak 😊 kami kirim tiap hari jam 4 sore ya",
        ),
        ("cek aja di checkout", "3 hari"),
    ),
    Topic(
        "ukuran",
        (("kak aku BB 55 TB 160 cocoknya size apa ya?", "takut kekecilan 😅"), ("size chart nya ada kak?",)),
        (
            "Untuk BB 55 TB 160 paling pas size M kak 😊 kalau suka agak longgar bisa ambil L ya 🙏",
            "Ada kak 😊 size chart-nya di foto ke-3 ya, kalau masih bingung kirim BB/TB kakak, kami bantu pilihkan 🙏",
        ),
        ("M", "liat size chart"),
    ),
    Topic(
        "warna",
        (("warna navy masih ada kak?", "kalo sage?"), ("kak yg warna mocca restock kapan? 😢",)),
        (
            "Navy masih ada kak 😊 sage tinggal 2 pcs, buruan ya kak sebelum kehabisan 🙏",
            "Mocca restock minggu depan kak 🙏 mau kami kabari kalau sudah ready?",
        ),
        ("abis", "navy ada", "blm tau"),
        "warna yg ini ada?",
    ),
    Topic(
        "cod",
        (("bisa COD ga kak?", "aku di Bekasi"), ("kak bisa bayar ditempat?",)),
        (
            "Bisa kak 😊 COD tersedia untuk Bekasi, pilih metode bayar COD pas checkout ya 🙏",
            "Bisa banget kak, bayar di tempat ya 😊 terima kasih sudah order 🙏",
        ),
        ("bisa", "iya"),
    ),
    Topic(
        "pesanan",
        (
            ("kak pesanan aku udh dikirim blm ya?", "order dari senin kemarin", "no pesanan 240303ABCD"),
            ("resi nya mana kak? udh 3 hari 😤",),
        ),
        (
            "Halo kak, mohon maaf menunggu 🙏 pesanan kakak sudah dikirim kemarin, resinya JP1234567890 ya kak 😊",
            "Mohon maaf kak atas keterlambatannya 🙏 kami cek dulu ya, resinya kami kirim sebentar lagi",
        ),
        ("udh dikirim", "tunggu aja", "cek di aplikasi"),
    ),
    Topic(
        "komplain",
        (
            ("kak barangnya dateng tapi sobek 😭", "gmn ini", "bisa retur?"),
            ("min kok yg dateng beda warna sama yg aku pesen", "kecewa bgt 😞"),
        ),
        (
            "Aduh mohon maaf banget kak 🙏 boleh kirim foto barangnya? Kami bantu tukar atau kirim ulang ya kak",
            "Mohon maaf atas ketidaknyamanannya kak 🙏 kami tukar dengan warna yang benar, ongkir kami tanggung ya",
        ),
        ("kirim video unboxing", "bukan salah kami", "ok"),
        "ini fotonya kak",
    ),
    Topic(
        "terima_kasih",
        (("paket udh sampe kak makasih yaa 😍", "bahannya adem bgt"), ("udh nyampe kak, mantap 👍",)),
        (
            "Wah terima kasih banyak kak 🥰 senang kakak suka, ditunggu order berikutnya ya 🙏",
            "Sama-sama kak 😊 terima kasih sudah belanja di Toko Demo 🙏",
        ),
        ("ok", "sip"),
    ),
    Topic(
        "kirim_hari_ini",
        (("kalo order skrg dikirim hari ini kak?", "butuh bsk soalnya 🙏"),),
        ("Bisa kak 😊 order sebelum jam 3 sore kami kirim hari ini juga, pilih yang instan biar besok sampai ya 🙏",),
        ("bisa", "iya kak"),
    ),
    Topic(
        "grosir",
        (("gan bisa grosir ga? mau ambil 1 lusin", "buat reseller"),),
        ("Bisa kak 😊 untuk 1 lusin dapat harga 75rb/pcs, kami kirim daftar harga resellernya ya 🙏",),
        ("bisa", "chat aja"),
    ),
)
THANKS = ("oke kak makasih 🙏", "siap kak, aku checkout skrg ya", "oh gitu, ok deh kak", "makasih infonya min 👍")
THANKS_REPLIES = ("Sama-sama kak 😊🙏", "Terima kasih kembali kak, ditunggu pesanannya ya 😊")
NUDGES = ("kak??", "halo min, kok ga dibales 😤", "p", "kak masih ada orang? 🙏")

# How the shop answers a new customer from its phone or seller centre (the rest is left to the admin
# in Balas). Tuned so a new owner sees a handful of alerts in the demo's first minutes, not dozens
# (issue 15: 40/25/15/20 every 4 s gave 91 alerts in 11 minutes); measured in
# tests/devtools/test_demo_alert_volume.py.
REPLY_MODES: dict[str, int] = {"warm": 68, "curt": 10, "slow": 8, "none": 14}
# A customer's "thanks" opens a new wait: the shop answers it this often (an unanswered one is a slow alert).
THANKS_ANSWERED = 0.85
DEFAULT_INTERVAL_S = 15.0


# --- the clock ----------------------------------------------------------------------------------


@dataclass(order=True)
class _Due:
    at: float
    seq: int
    action: Callable[[], None] = field(compare=False)


@dataclass
class ApiChannel:
    id: int
    token: str


class Simulator:
    """Plays conversations against `base_url`; `time_scale` shrinks every pause (0 = no waiting)."""

    def __init__(
        self,
        *,
        base_url: str,
        channels: Mapping[str, ChannelSpec],
        api_channel: ApiChannel | None = None,
        interval: float = DEFAULT_INTERVAL_S,
        time_scale: float = 1.0,
        reply_modes: Mapping[str, int] | None = None,
        thanks_answered: float = THANKS_ANSWERED,
        seed: int | None = None,
        session: requests.Session | None = None,
        max_attempts: int = 5,
        timeout: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.channels = dict(channels)
        self.api_channel = api_channel
        self.interval = interval
        self.time_scale = time_scale
        self.reply_modes = dict(reply_modes or REPLY_MODES)
        self.thanks_answered = thanks_answered
        self.rng = random.Random(seed)  # noqa: S311 - made-up demo data, not security
        self.session = session or requests.Session()
        self.max_attempts = max_attempts
        self.timeout = timeout
        self.stats: Counter[tuple[str, str, str]] = Counter()
        self._queue: list[_Due] = []
        self._seq = itertools.count()
        self._customers: dict[str, list[Customer]] = {}
        self._platform_cycle: list[str] = []
        self._scenes = 0
        self._images = 0

    @classmethod
    def from_demo_file(cls, path: Path, *, base_url: str | None = None, **kwargs: Any) -> Simulator:
        data = json.loads(path.read_text(encoding="utf-8"))
        channels: dict[str, ChannelSpec] = {}
        api: ApiChannel | None = None
        for platform, entry in (data.get("channels") or {}).items():
            if platform == "api":
                if entry.get("token"):
                    api = ApiChannel(id=int(entry["id"]), token=str(entry["token"]))
            elif platform in WEBHOOK_PLATFORMS:
                channels[platform] = ChannelSpec(platform, str(entry["account_id"]), dict(entry["secrets"]))
        return cls(base_url=base_url or data["base_url"], channels=channels, api_channel=api, **kwargs)

    # --- running ---------------------------------------------------------------------------
    def wait_for_server(self, timeout: float) -> bool:
        """Poll until the server answers anything at all (it may still be starting)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.session.get(f"{self.base_url}/api/schema/", timeout=5, allow_redirects=False)
                return True
            except requests.RequestException:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(1)

    def run(self, *, scenes: int | None = None, duration: float | None = None) -> Counter[tuple[str, str, str]]:
        """Start a conversation every `interval` seconds; stop after `scenes` (then finish them) or `duration`."""
        start = time.monotonic()
        next_scene = start
        while True:
            now = time.monotonic()
            if duration is not None and now - start >= duration:
                break
            more = scenes is None or self._scenes < scenes
            if not more and not self._queue:
                break
            if more and now >= next_scene:
                self.scene_start()
                next_scene = now + self.interval * self.time_scale * self.rng.uniform(0.6, 1.4)
            while self._queue and self._queue[0].at <= time.monotonic():
                heapq.heappop(self._queue).action()
            wake = min(next_scene if more else float("inf"), self._queue[0].at if self._queue else float("inf"))
            pause = min(wake - time.monotonic(), 1.0)
            if pause > 0:
                time.sleep(pause)
        return self.stats

    def _later(self, seconds: float, action: Callable[[], None]) -> None:
        heapq.heappush(self._queue, _Due(time.monotonic() + seconds * self.time_scale, next(self._seq), action))

    # --- conversations ---------------------------------------------------------------------
    def scene_start(self) -> None:
        """One customer arrives: choose the platform, the topic and how (if at all) the shop answers."""
        self._scenes += 1
        if self.api_channel is not None and self._scenes % 6 == 0:
            self._api_scene()
            return
        if not self.channels:
            return
        if not self._platform_cycle:
            # Every platform once per round, in a new order each round.
            self._platform_cycle = [p for p in WEBHOOK_PLATFORMS if p in self.channels]
            self.rng.shuffle(self._platform_cycle)
        platform = self._platform_cycle.pop()
        channel = self.channels[platform]
        known = self._customers.setdefault(platform, [])
        if known and self.rng.random() < 0.25:
            customer = self.rng.choice(known)
        else:
            customer = customer_new(platform, self.rng)
            known.append(customer)
        topic = self.rng.choice(TOPICS)
        burst = list(self.rng.choice(topic.bursts))
        # How the shop answers from its phone / seller centre (the rest is left to the admin in Balas).
        modes = [m for m in ("warm", "curt", "slow", "none") if m in self.reply_modes]
        mode = self.rng.choices(modes, weights=[self.reply_modes[m] for m in modes])[0]
        logger.info("sim.scene platform=%s customer=%r topic=%s reply=%s", platform, customer.name, topic.name, mode)

        t = 0.0
        for text in burst:
            self._later(t, functools.partial(self._customer_says, channel, customer, text=text))
            t += self.rng.uniform(1.5, 5.0)
        if topic.image_caption and self.rng.random() < 0.3:
            self._images += 1
            url = image_url(f"{self._images}-{self.rng.randint(1, 10_000)}")
            self._later(t, lambda: self._customer_says(channel, customer, text=topic.image_caption, image=url))
            t += self.rng.uniform(1.5, 4.0)

        if mode == "none":
            if self.rng.random() < 0.5:
                self._later(
                    t + self.rng.uniform(60, 120),
                    lambda: self._customer_says(channel, customer, text=self.rng.choice(NUDGES)),
                )
            return
        if mode == "slow":
            delay, text = self.rng.uniform(130, 240), self.rng.choice(topic.warm)
        elif mode == "warm":
            delay, text = self.rng.uniform(15, 90), self.rng.choice(topic.warm)
        else:
            delay, text = self.rng.uniform(10, 60), self.rng.choice(topic.curt)
        t += delay
        self._later(t, lambda: self._shop_echoes(channel, customer, text=text, follow_up=True))

    def _customer_says(self, channel: ChannelSpec, customer: Customer, *, text: str, image: str = "") -> None:
        webhook = customer_message(channel, customer, text=text, image=image)
        self._deliver(channel, webhook, customer)

    def _shop_echoes(self, channel: ChannelSpec, customer: Customer, *, text: str, follow_up: bool) -> None:
        webhook = shop_echo(channel, customer, text=text)
        self._deliver(channel, webhook, customer)
        if self.rng.random() < 0.6 and channel.platform in _RECEIPT_BUILDERS:
            if channel.platform != "instagram" and self.rng.random() < 0.5:
                self._later(self.rng.uniform(1, 4), lambda: self._receipt(channel, customer, webhook, "delivered"))
            self._later(self.rng.uniform(4, 15), lambda: self._receipt(channel, customer, webhook, "read"))
        if follow_up and self.rng.random() < 0.45:
            wait = self.rng.uniform(8, 40)
            self._later(wait, lambda: self._customer_says(channel, customer, text=self.rng.choice(THANKS)))
            if self.rng.random() < self.thanks_answered:
                self._later(
                    wait + self.rng.uniform(10, 50),
                    lambda: self._shop_echoes(channel, customer, text=self.rng.choice(THANKS_REPLIES), follow_up=False),
                )

    def _receipt(self, channel: ChannelSpec, customer: Customer, echo: Webhook, status: str) -> None:
        webhook = receipt(channel, customer, message_id=echo.message_id, status=status)
        if webhook is not None:
            self._deliver(channel, webhook, customer)

    def _api_scene(self) -> None:
        assert self.api_channel is not None
        customer = customer_new("api", self.rng)
        topic = self.rng.choice(TOPICS)
        self._later(0, lambda: self._api_push(customer, direction="in", text=topic.bursts[0][0]))
        if self.rng.random() < 0.5:
            self._later(
                self.rng.uniform(20, 80),
                lambda: self._api_push(customer, direction="out", text=self.rng.choice(topic.warm)),
            )

    # --- posting ---------------------------------------------------------------------------
    def _deliver(self, channel: ChannelSpec, webhook: Webhook, customer: Customer, attempt: int = 1) -> None:
        try:
            raw, headers = signed(channel, webhook)
        except LookupError as exc:
            logger.warning("sim.skipped platform=%s reason=%s", channel.platform, exc)
            self.stats[(channel.platform, webhook.kind, "skipped")] += 1
            return
        status = self._post(f"{self.base_url}/webhooks/{channel.platform}/", data=raw, headers=headers)
        self._log(channel.platform, webhook.kind, status, customer.name, webhook.text, attempt)
        if self._retryable(status) and attempt < self.max_attempts:
            # Same bytes again, like the platforms' own retries: Balas must not store it twice.
            self._later(2.0 * attempt, lambda: self._deliver(channel, webhook, customer, attempt + 1))

    def _api_push(self, customer: Customer, *, direction: str, text: str, attempt: int = 1, body: Any = None) -> None:
        assert self.api_channel is not None
        body = body or {
            "external_id": "web-" + uuid.uuid4().hex,
            "contact": {"id": customer.external_id, "name": customer.name},
            "direction": direction,
            "text": text,
            "sent_at": datetime.now(UTC).isoformat(),
        }
        status = self._post(
            f"{self.base_url}/api/v1/channels/{self.api_channel.id}/messages/",
            json=body,
            headers={"Authorization": f"Token {self.api_channel.token}"},
        )
        self._log("api", "push-" + direction, status, customer.name, text, attempt)
        if self._retryable(status) and attempt < self.max_attempts:
            self._later(
                2.0 * attempt,
                lambda: self._api_push(customer, direction=direction, text=text, attempt=attempt + 1, body=body),
            )

    def _post(self, url: str, **kwargs: Any) -> int | None:
        try:
            return self.session.post(url, timeout=self.timeout, **kwargs).status_code
        except requests.RequestException:
            return None

    @staticmethod
    def _retryable(status: int | None) -> bool:
        return status is None or status >= 500

    def _log(self, platform: str, kind: str, status: int | None, name: str, text: str, attempt: int) -> None:
        shown = "down" if status is None else str(status)
        self.stats[(platform, kind, shown)] += 1
        retry = f" attempt={attempt}" if attempt > 1 else ""
        logger.info(
            "sim.post platform=%s kind=%s status=%s%s customer=%r text=%r",
            platform,
            kind,
            shown,
            retry,
            name,
            text[:80],
        )
