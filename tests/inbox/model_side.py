"""Which assertions need the storage side of issue 13 (branch i13-model), and a switch for them.

The adapters (branch i13-parse) emit the contract's kinds, `content`, reactions, edits, deletes
and system notices; storing them is the model side's work, merged by the lead afterwards. Tests
that assert what only the model side stores are marked with these helpers: they are skipped
while the model lacks the feature and run by themselves once it is merged (nothing to edit).
Search for `needs_model_` to find every such assertion.
"""

from __future__ import annotations

from typing import Any

import pytest

from inbox.models import Contact, Message


def model_has_kind(kind: str) -> bool:
    """The model's `Message.kind` can hold this contract kind (its choices and column width)."""
    field = Message._meta.get_field("kind")
    return kind in Message.Kind.values and len(kind) <= (getattr(field, "max_length", None) or 0)


def model_has_fields(*names: str, model: Any = Message) -> bool:
    fields = {f.name for f in model._meta.get_fields()}
    return all(name in fields for name in names)


def model_stores_reactions() -> bool:
    """The model side's reactions store (a field or a related model named `reactions`)."""
    return model_has_fields("reactions")


def needs_model_kind(*kinds: str) -> pytest.MarkDecorator:
    missing = [kind for kind in kinds if not model_has_kind(kind)]
    return pytest.mark.skipif(bool(missing), reason=f"model side (i13-model): Message.kind lacks {missing}")


def needs_model_fields(*names: str, model: Any = Message) -> pytest.MarkDecorator:
    missing = [name for name in names if not model_has_fields(name, model=model)]
    return pytest.mark.skipif(bool(missing), reason=f"model side (i13-model): {model.__name__} lacks {missing}")


def contact_model_has(*names: str) -> bool:
    return model_has_fields(*names, model=Contact)
