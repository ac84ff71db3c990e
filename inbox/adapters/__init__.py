"""Platform adapters: one module per platform, registered by its platform name."""

from __future__ import annotations

from inbox.adapters.base import PlatformAdapter

_REGISTRY: dict[str, PlatformAdapter] = {}


def register(adapter_cls: type[PlatformAdapter]) -> type[PlatformAdapter]:
    _REGISTRY[adapter_cls.platform] = adapter_cls()
    return adapter_cls


def get_adapter(platform: str) -> PlatformAdapter:
    _load()
    try:
        return _REGISTRY[platform]
    except KeyError as exc:
        raise LookupError(f"no adapter for platform {platform!r}") from exc


def webhook_platforms() -> list[str]:
    _load()
    return sorted(_REGISTRY)


def _load() -> None:
    # Importing the modules registers them; adding a platform = adding its module here.
    from inbox.adapters import (  # noqa: F401
        instagram,
        messenger,
        shopee,
        tiktokshop,
        whatsapp,
    )
