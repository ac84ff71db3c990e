"""Shared fixtures: real PostgreSQL (pytest-django), real Redis, signed sample payloads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from inbox.adapters import get_adapter
from inbox.models import Channel, Member
from tests.factories import ChannelFactory, MemberFactory, ShopFactory

FIXTURES = Path(__file__).parent / "fixtures" / "platforms"


def sample(name: str) -> bytes:
    """The exact bytes of a sample payload (signatures are over raw bytes)."""
    return (FIXTURES / name).read_bytes()


def signed_headers(channel: Channel, raw: bytes) -> dict[str, str]:
    return get_adapter(channel.platform).signature_headers(secrets=channel.secrets, raw_body=raw)


def post_webhook(client: Client, platform: str, raw: bytes, headers: dict[str, str] | None = None) -> Any:
    return client.post(f"/webhooks/{platform}/", data=raw, content_type="application/json", headers=headers or {})


@pytest.fixture
def shop(db: Any) -> Any:
    return ShopFactory(name="Glow Beauty")


@pytest.fixture
def owner(shop: Any) -> Member:
    return MemberFactory(shop=shop, role=Member.Role.OWNER)


@pytest.fixture
def admin_member(shop: Any) -> Member:
    return MemberFactory(shop=shop, role=Member.Role.ADMIN)


@pytest.fixture
def channels(shop: Any) -> dict[str, Channel]:
    """One channel per platform with the sample payloads' account ids."""
    return {
        p: ChannelFactory(shop=shop, platform=p) for p in ("whatsapp", "instagram", "messenger", "shopee", "tiktokshop")
    }


@pytest.fixture(scope="session")
def _fake_platform_server() -> Any:
    from devtools.fake_platforms import FakePlatformServer

    server = FakePlatformServer().start()
    yield server
    server.stop()


@pytest.fixture
def fake_platforms(_fake_platform_server: Any, settings: Any) -> Any:
    """A real local HTTP server standing in for every platform's send API."""
    _fake_platform_server.reset()
    for name, value in _fake_platform_server.settings_overrides().items():
        setattr(settings, name, value)
    return _fake_platform_server


@pytest.fixture(autouse=True)
def _default_language() -> Any:
    """Each test starts in the default language (Indonesian), whatever an earlier test activated."""
    from django.utils import translation

    translation.activate("id")
    yield
    translation.deactivate()
