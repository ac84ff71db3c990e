"""Customers' names and pictures from the platforms' user-profile APIs (Instagram, Messenger).

Those platforms' webhooks carry only page-scoped ids. When such a contact is first seen, the
fetch is queued after the commit (`inbox.tasks.contact_profile_fetch`), so the webhook never waits
for the platform; the task stores what it brings and publishes `conversation.updated`, which
carries the contact, so the name appears in open inboxes live. Until then the contact's
`display_name` is the placeholder of `inbox.models.contact_placeholder_name`.
"""

from __future__ import annotations

import functools
import logging

from celery import current_app
from django.db import transaction

from inbox.adapters import get_adapter
from inbox.adapters.base import Profile
from inbox.models import Contact, Conversation
from inbox.resilience import CircuitOpenError, broker_breaker
from inbox.services.events import conversation_updated_publish

logger = logging.getLogger("balas.contacts")

PROFILE_FETCH_TASK = "inbox.tasks.contact_profile_fetch"


def contact_profile_fetch_queue(*, contact: Contact) -> None:
    """Queue the profile fetch of a new contact once the current transaction commits, if its platform has one."""
    try:
        adapter = get_adapter(contact.channel.platform)
    except LookupError:
        return  # `api` channels: the client sends the name itself
    if not adapter.supports_profile_fetch:
        return
    transaction.on_commit(functools.partial(_queue, contact.pk))


def _queue(contact_id: int) -> None:
    # Best effort, like every task queued after a commit: a broker outage must not fail the webhook,
    # and the contact keeps its placeholder name until a later fetch.
    try:
        broker_breaker.call(lambda: current_app.send_task(PROFILE_FETCH_TASK, args=(contact_id,)))
    except CircuitOpenError:
        logger.info("tasks.enqueue_skipped task=%s args=[%s]", PROFILE_FETCH_TASK, contact_id)
    except Exception:
        logger.warning("tasks.enqueue_failed task=%s args=[%s]", PROFILE_FETCH_TASK, contact_id, exc_info=True)


@transaction.atomic
def contact_profile_store(*, contact_id: int, profile: Profile) -> Contact | None:
    """Store a fetched profile: the name where the contact has none yet (a name someone set stays), the
    picture always. Returns the contact, or None when it is gone. Publishes `conversation.updated`
    for its conversations when anything changed."""
    contact = Contact.objects.select_for_update().select_related("channel").filter(pk=contact_id).first()
    if contact is None:
        return None
    changed: list[str] = []
    if profile.name and not contact.name:
        contact.name = profile.name[:200]
        changed.append("name")
    if profile.avatar_url and profile.avatar_url != contact.avatar_url:
        contact.avatar_url = profile.avatar_url[:2000]
        changed.append("avatar_url")
    if not changed:
        return contact
    contact.save(update_fields=changed)
    logger.info("contacts.profile_stored contact=%s fields=%s", contact.pk, ",".join(changed))
    conversations = Conversation.objects.filter(contact_id=contact.pk).select_related(
        "channel", "contact__channel", "last_message", "assignee__user"
    )
    for conversation in conversations:
        conversation_updated_publish(conversation=conversation)
    return contact
