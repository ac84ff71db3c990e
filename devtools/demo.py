"""The local demo: one shop "Toko Demo" with a channel per platform, seeded idempotently.

`demo_seed` creates what is missing and keeps what exists, so `scripts/up.sh` can run it on every
start. The logins, API tokens and channel secrets it generates are written to `var/demo.json`
(gitignored): the simulator signs its webhooks with them and the user logs in with them. Tokens
are stored only as hashes, so a token that is not in that file any more is rotated.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from inbox.models import Channel, Member, Platform, Shop
from inbox.services.shops import channel_create, channel_token_rotate, member_create, member_token_rotate, shop_create
from inbox.tokens import token_hash

logger = logging.getLogger("balas.demo")

DEMO_SHOP_NAME = "Toko Demo"
DEMO_OWNER_EMAIL = "pemilik@tokodemo.id"
DEMO_ADMIN_EMAIL = "admin@tokodemo.id"
DEMO_TIMEZONE = "Asia/Jakarta"
# Short targets so the monitoring has something to show within minutes of starting the demo.
DEMO_FIRST_REPLY_TARGET_S = 120
DEMO_REPLY_TARGET_S = 180
DEMO_PLATFORMS: tuple[str, ...] = (
    Platform.WHATSAPP,
    Platform.INSTAGRAM,
    Platform.MESSENGER,
    Platform.SHOPEE,
    Platform.TIKTOKSHOP,
    Platform.API,
)
CHANNEL_NAMES: dict[str, str] = {
    Platform.WHATSAPP: "WhatsApp Toko Demo",
    Platform.INSTAGRAM: "Instagram @tokodemo.id",
    Platform.MESSENGER: "Facebook Page Toko Demo",
    Platform.SHOPEE: "Shopee Toko Demo Official",
    Platform.TIKTOKSHOP: "TikTok Shop Toko Demo",
    Platform.API: "Website chat (API)",
}


def default_demo_path() -> Path:
    return Path(settings.BASE_DIR) / "var" / "demo.json"


def demo_base_url(port: int | str | None = None, host: str = "127.0.0.1") -> str:
    return f"http://{host}:{port or os.environ.get('PORT') or 8000}"


@dataclass
class DemoInfo:
    base_url: str
    shop_id: int
    owner: dict[str, str]
    admin: dict[str, str]
    channels: dict[str, dict[str, Any]]
    created: list[str] = field(default_factory=list)
    policy: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": 1,
            "base_url": self.base_url,
            "shop": {"id": self.shop_id, "name": DEMO_SHOP_NAME},
            "owner": self.owner,
            "admin": self.admin,
            "channels": self.channels,
        }


def demo_load(path: Path) -> dict[str, Any]:
    """The previous run's file, or {} when it is missing or unreadable (then logins are reset)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def demo_write(path: Path, info: DemoInfo) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    # Passwords and secrets live in this file: readable by the user only.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(info.as_dict(), handle, indent=2, ensure_ascii=False)
        handle.write("\n")
    os.replace(tmp, path)


def demo_seed(*, base_url: str, path: Path | None = None) -> DemoInfo:
    """Create (or complete) the demo shop, write var/demo.json and return what was set up."""
    path = path or default_demo_path()
    previous = demo_load(path)
    info = _seed(base_url=base_url.rstrip("/"), previous=previous)
    # Written before anything else can fail: the logins just set are only known from this file.
    demo_write(path, info)
    info.policy = demo_policy_apply(shop_id=info.shop_id)
    logger.info("demo.seeded shop=%s created=%s", info.shop_id, ",".join(info.created) or "-")
    return info


@transaction.atomic
def _seed(*, base_url: str, previous: dict[str, Any]) -> DemoInfo:
    created: list[str] = []
    old_owner = _section(previous, "owner")
    old_admin = _section(previous, "admin")
    shop = Shop.objects.filter(name=DEMO_SHOP_NAME).order_by("pk").first()
    if shop is None:
        password = old_owner.get("password") or _password()
        shop, _owner, owner_token = shop_create(
            name=DEMO_SHOP_NAME, owner_email=DEMO_OWNER_EMAIL, owner_password=password, timezone=DEMO_TIMEZONE
        )
        owner = {"email": DEMO_OWNER_EMAIL, "password": password, "token": owner_token}
        created.append("shop")
    else:
        owner = _login_ensure(shop=shop, email=DEMO_OWNER_EMAIL, role=Member.Role.OWNER, old=old_owner, created=created)
    admin = _login_ensure(shop=shop, email=DEMO_ADMIN_EMAIL, role=Member.Role.ADMIN, old=old_admin, created=created)

    old_channels = _section(previous, "channels")
    channels: dict[str, dict[str, Any]] = {}
    for platform in DEMO_PLATFORMS:
        old = old_channels.get(platform) if isinstance(old_channels.get(platform), dict) else {}
        channels[platform] = _channel_ensure(
            shop=shop, platform=platform, base_url=base_url, old=old or {}, created=created
        )
    return DemoInfo(base_url=base_url, shop_id=shop.pk, owner=owner, admin=admin, channels=channels, created=created)


def _section(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _password() -> str:
    return "demo-" + secrets.token_urlsafe(9)


def _login_ensure(*, shop: Shop, email: str, role: str, old: dict[str, Any], created: list[str]) -> dict[str, str]:
    member = Member.objects.select_related("user").filter(shop=shop, user__username=email).first()
    if member is None:
        password = str(old.get("password") or _password())
        member, token = member_create(shop=shop, email=email, password=password, role=role)
        created.append(role)
        return {"email": email, "password": password, "token": token}
    password = str(old.get("password") or "")
    if not password or not member.user.check_password(password):
        # The file that knew the password is gone: a demo login may simply get a new one.
        password = _password()
        member.user.set_password(password)
        member.user.save(update_fields=["password"])
    token = str(old.get("token") or "")
    if not token or member.token_hash != token_hash(token):
        token = member_token_rotate(member=member)
    return {"email": email, "password": password, "token": token}


def _channel_ensure(
    *, shop: Shop, platform: str, base_url: str, old: dict[str, Any], created: list[str]
) -> dict[str, Any]:
    channel = Channel.objects.filter(shop=shop, platform=platform).order_by("pk").first()
    token: str | None = None
    if channel is None:
        account_id, secrets_ = _reusable(platform=platform, old=old) or (_account_id(platform), _secrets(platform))
        if platform == Platform.SHOPEE:
            secrets_ = {**secrets_, "callback_url": f"{base_url}/webhooks/shopee/"}
        channel, token = channel_create(
            shop=shop, platform=platform, name=CHANNEL_NAMES[platform], account_id=account_id, secrets=secrets_
        )
        created.append(platform)
    else:
        _channel_refresh(channel=channel, base_url=base_url)
        if platform == Platform.API:
            token = str(old.get("token") or "")
            if not token or channel.token_hash != token_hash(token):
                token = channel_token_rotate(channel=channel)
    entry: dict[str, Any] = {"id": channel.pk, "account_id": channel.account_id, "name": channel.name}
    if platform == Platform.API:
        entry["token"] = token
        entry["push_url"] = f"{base_url}/api/v1/channels/{channel.pk}/messages/"
    else:
        entry["secrets"] = dict(channel.secrets)
        entry["webhook_url"] = f"{base_url}/webhooks/{platform}/"
    return entry


def _reusable(*, platform: str, old: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The account id and secrets of the previous file, if the database was reset but they are free."""
    account_id = old.get("account_id")
    old_secrets = old.get("secrets")
    if platform == Platform.API or not isinstance(account_id, str) or not isinstance(old_secrets, dict):
        return None
    if Channel.objects.filter(platform=platform, account_id=account_id).exists():
        return None
    return account_id, dict(old_secrets)


def _channel_refresh(*, channel: Channel, base_url: str) -> None:
    """Shopee signs with the exact callback URL: it follows the demo's port."""
    if channel.platform != Platform.SHOPEE:
        return
    expected = f"{base_url}/webhooks/shopee/"
    if channel.secrets.get("callback_url") != expected:
        channel.secrets = {**channel.secrets, "callback_url": expected}
        channel.save(update_fields=["secrets"])


def _digits(n: int, first: str = "") -> str:
    body = "".join(secrets.choice("0123456789") for _ in range(n - len(first)))
    return first + body


def _account_id(platform: str) -> str:
    if platform == Platform.WHATSAPP:
        return _digits(15, "1")  # phone_number_id
    if platform == Platform.INSTAGRAM:
        return _digits(17, "178414")  # IG professional account id
    if platform == Platform.MESSENGER:
        return _digits(15, "1")  # page id
    if platform == Platform.SHOPEE:
        return _digits(9, "8")  # shop_id
    if platform == Platform.TIKTOKSHOP:
        return _digits(19, "7495")  # shop_id
    return ""  # api: channel_create makes one


def _secrets(platform: str) -> dict[str, Any]:
    meta = {
        "app_secret": secrets.token_hex(16),
        "verify_token": "demo-verify-" + secrets.token_urlsafe(8),
        "access_token": "EAAdemo" + secrets.token_urlsafe(24),
    }
    if platform in (Platform.WHATSAPP, Platform.INSTAGRAM):
        return meta
    if platform == Platform.MESSENGER:
        return {**meta, "app_id": _digits(15, "9")}
    if platform == Platform.SHOPEE:
        return {
            "partner_id": _digits(7, "2"),
            "partner_key": secrets.token_hex(32),
            "access_token": secrets.token_hex(16),
        }
    if platform == Platform.TIKTOKSHOP:
        return {
            "app_key": "6d" + secrets.token_hex(6),
            "app_secret": secrets.token_hex(20),
            "access_token": "ROW_" + secrets.token_urlsafe(24),
            "shop_cipher": "ROW_" + secrets.token_urlsafe(12),
        }
    return {}


def demo_policy_apply(*, shop_id: int) -> str:
    """Short reply targets, open all week: a demo started at night still raises alerts within minutes."""
    try:
        from monitoring.business_hours import ALWAYS_OPEN
        from monitoring.services.policy import policy_update
    except ImportError:
        return "the monitoring policy service is not available; the shop keeps the default policy"
    policy_update(
        shop_id=shop_id,
        data={
            "first_reply_target_s": DEMO_FIRST_REPLY_TARGET_S,
            "reply_target_s": DEMO_REPLY_TARGET_S,
            "business_hours": ALWAYS_OPEN,
        },
    )
    return (
        f"first reply within {DEMO_FIRST_REPLY_TARGET_S} s, later replies within {DEMO_REPLY_TARGET_S} s, "
        "open 24/7 (change it at /api/v1/policy/)"
    )
