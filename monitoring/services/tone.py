"""The terse judge as the API and the reply box use it: the same judge the workers run."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from inbox.models import Conversation
from inbox.reply_fields import fields_unfilled
from monitoring.services.tone_runs import suggest_context
from monitoring.tone import judge


def tone_check(
    *, customer: list[str], reply: str, language: str = "id", conversation: Conversation | None = None
) -> dict[str, Any]:
    # The draft's suggestion is built from the conversation as the workers build an alert's.
    context = suggest_context(conversation=conversation, before=timezone.now()) if conversation is not None else None
    verdict = judge(customer=list(customer), reply=reply, language=language, context=context)
    suggestion = str(verdict.suggestion or "")
    return {
        "terse": bool(verdict.terse),
        "score": float(verdict.score),
        "reasons": [str(r) for r in verdict.reasons],
        "codes": [str(c) for c in verdict.codes],
        "suggestion": suggestion,
        "unfilled_fields": fields_unfilled(suggestion),
    }
