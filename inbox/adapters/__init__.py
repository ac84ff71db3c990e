"""Platform adapters: one module per platform, registered by its platform name.

The adapter modules import only `inbox.adapters.base` (never this package), and this package
imports each of them once, below: the registry and the adapters stand in one direction.
"""

from __future__ import annotations

from inbox.adapters.base import PlatformAdapter
from inbox.adapters.instagram import InstagramAdapter
from inbox.adapters.messenger import MessengerAdapter
from inbox.adapters.shopee import ShopeeAdapter
from inbox.adapters.tiktokshop import TikTokShopAdapter
from inbox.adapters.whatsapp import WhatsAppAdapter

_REGISTRY: dict[str, PlatformAdapter] = {}


def register(adapter_cls: type[PlatformAdapter]) -> type[PlatformAdapter]:
    # Refused here, at import, so a half-declared adapter never serves a webhook or a reply.
    missing = [name for name in PlatformAdapter.DECLARATIONS if not hasattr(adapter_cls, name)]
    if missing:
        raise TypeError(f"{adapter_cls.__name__} does not declare {', '.join(missing)}")
    if adapter_cls.supports_handshake and adapter_cls.handshake is PlatformAdapter.handshake:
        raise TypeError(f"{adapter_cls.__name__} supports a handshake but does not implement handshake()")
    _REGISTRY[adapter_cls.platform] = adapter_cls()
    return adapter_cls


def get_adapter(platform: str) -> PlatformAdapter:
    try:
        return _REGISTRY[platform]
    except KeyError as exc:
        raise LookupError(f"no adapter for platform {platform!r}") from exc


def adapter_platforms() -> list[str]:
    """Every platform that has an adapter (the `api` platform has none: its clients push)."""
    return sorted(_REGISTRY)


# Adding a platform = its module, and its class here.
for _adapter in (InstagramAdapter, MessengerAdapter, ShopeeAdapter, TikTokShopAdapter, WhatsAppAdapter):
    register(_adapter)
