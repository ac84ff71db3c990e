"""Outbound calls to platform APIs, with one place for timeouts and error wording."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

import requests
from django.conf import settings

from inbox.adapters.base import SendError

logger = logging.getLogger("balas.adapters.http")

ErrorReader = Callable[[Any], str | None]

_session = requests.Session()


def post_json(
    url: str,
    *,
    body: Mapping[str, Any],
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, Any] | None = None,
    platform: str,
    read_error: ErrorReader,
) -> Any:
    """POST a JSON body; return the decoded answer or raise SendError with the platform's reason.

    `read_error` pulls the platform's own error text out of an answer (also a 200 one: Shopee
    and TikTok report refusals inside a 200). Tokens travel in headers or the query and are
    never logged.
    """
    try:
        response = _session.post(
            url,
            data=json.dumps(body, ensure_ascii=False).encode(),
            headers={"Content-Type": "application/json", **(headers or {})},
            params=params,
            timeout=settings.PLATFORM_SEND_TIMEOUT_S,
        )
    except requests.Timeout as exc:
        logger.warning("platform.send_timeout platform=%s", platform)
        raise SendError(f"{platform} did not answer in time", retryable=True) from exc
    except requests.RequestException as exc:
        logger.warning("platform.send_unreachable platform=%s error=%s", platform, type(exc).__name__)
        raise SendError(f"{platform} could not be reached ({type(exc).__name__})", retryable=True) from exc

    try:
        answer: Any = response.json()
    except ValueError:
        answer = None
    reason = read_error(answer) if answer is not None else None
    if response.status_code >= 400 or reason:
        reason = reason or f"HTTP {response.status_code}"
        logger.warning("platform.send_refused platform=%s status=%s", platform, response.status_code)
        raise SendError(reason, status_code=response.status_code, retryable=response.status_code >= 500)
    if answer is None:
        raise SendError(f"{platform} answered with something that is not JSON", status_code=response.status_code)
    return answer


def get_json(url: str, *, params: Mapping[str, Any], platform: str, read_error: ErrorReader) -> Any:
    """GET and decode a JSON answer, with post_json's timeouts and error wording."""
    try:
        response = _session.get(url, params=params, timeout=settings.PLATFORM_SEND_TIMEOUT_S)
    except requests.Timeout as exc:
        logger.warning("platform.call_timeout platform=%s", platform)
        raise SendError(f"{platform} did not answer in time", retryable=True) from exc
    except requests.RequestException as exc:
        logger.warning("platform.call_unreachable platform=%s error=%s", platform, type(exc).__name__)
        raise SendError(f"{platform} could not be reached ({type(exc).__name__})", retryable=True) from exc
    try:
        answer: Any = response.json()
    except ValueError:
        answer = None
    reason = read_error(answer) if answer is not None else None
    if response.status_code >= 400 or reason:
        logger.warning("platform.call_refused platform=%s status=%s", platform, response.status_code)
        raise SendError(reason or f"HTTP {response.status_code}", status_code=response.status_code)
    if answer is None:
        raise SendError(f"{platform} answered with something that is not JSON", status_code=response.status_code)
    return answer
