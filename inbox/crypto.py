"""Channel secrets are encrypted at rest with a Fernet key from the environment."""

import json
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@lru_cache(maxsize=4)
def _fernet(key: str) -> Fernet:
    if not key:
        raise ImproperlyConfigured("BALAS_SECRETS_KEY is not set; channel secrets cannot be encrypted.")
    return Fernet(key.encode())


def encrypt_json(value: dict[str, Any]) -> str:
    return _fernet(settings.BALAS_SECRETS_KEY).encrypt(json.dumps(value).encode()).decode()


def decrypt_json(token: str) -> dict[str, Any]:
    try:
        data = _fernet(settings.BALAS_SECRETS_KEY).decrypt(token.encode())
    except InvalidToken as exc:
        # Never echo the ciphertext or the key: only say what is wrong.
        raise ImproperlyConfigured("Channel secrets cannot be decrypted with BALAS_SECRETS_KEY.") from exc
    result: dict[str, Any] = json.loads(data)
    return result


class EncryptedJSONField(models.TextField):
    """A dict stored as Fernet ciphertext; reads return the dict, writes encrypt it."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> dict[str, Any]:
        if not value:
            return {}
        return decrypt_json(value)

    def to_python(self, value: Any) -> dict[str, Any]:
        if isinstance(value, dict):
            return value
        if not value:
            return {}
        return decrypt_json(value)

    def get_prep_value(self, value: Any) -> str:
        return encrypt_json(dict(value or {}))
