"""API tokens: shown once, stored only as a sha256 hash."""

import hashlib
import secrets


def token_generate(prefix: str) -> tuple[str, str]:
    """Return (token, hash). Only the hash is stored."""
    token = f"{prefix}_{secrets.token_urlsafe(32)}"
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
