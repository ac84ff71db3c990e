"""The terse judge as the API and the reply box use it: the same judge the workers run."""

from __future__ import annotations

from typing import Any


def tone_check(*, customer: list[str], reply: str, language: str = "id") -> dict[str, Any]:
    from monitoring.tone import judge

    verdict = judge(customer=list(customer), reply=reply, language=language)
    return {
        "terse": bool(verdict.terse),
        "score": float(verdict.score),
        "reasons": [str(r) for r in verdict.reasons],
        "suggestion": str(verdict.suggestion or ""),
    }
