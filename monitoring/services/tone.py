"""The terse judge as the API and the reply box use it: the same judge the workers run."""

from __future__ import annotations

from typing import Any

from inbox.models import Conversation
from inbox.reply_fields import fields_unfilled
from monitoring.tone import SuggestContext, judge


def tone_context(*, conversation: Conversation | None) -> SuggestContext | None:
    """What the conversation tells a suggestion: the customer's name (their order and product are
    read from the messages the judge gets)."""
    if conversation is None:
        return None
    return SuggestContext(name=conversation.contact.name or "")


def tone_check(
    *, customer: list[str], reply: str, language: str = "id", conversation: Conversation | None = None
) -> dict[str, Any]:
    verdict = judge(
        customer=list(customer), reply=reply, language=language, context=tone_context(conversation=conversation)
    )
    suggestion = str(verdict.suggestion or "")
    return {
        "terse": bool(verdict.terse),
        "score": float(verdict.score),
        "reasons": [str(r) for r in verdict.reasons],
        "codes": [str(c) for c in verdict.codes],
        "suggestion": suggestion,
        "unfilled_fields": fields_unfilled(suggestion),
    }
