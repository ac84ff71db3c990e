"""Every write Balas makes goes through these functions."""

from inbox.services.changes import ReactionRefused, message_reaction_send
from inbox.services.conversations import conversation_assign, conversation_mark_read, conversation_status_set
from inbox.services.ingest import IngestResult, deliveries_ingest, message_ingest, message_push
from inbox.services.push import push_sent_at_check
from inbox.services.replies import ReplyRefused, reply_retry, reply_send
from inbox.services.shops import (
    CHANNEL_REQUIRED_SECRETS,
    EmailTakenError,
    channel_create,
    member_create,
    member_token_rotate,
    shop_create,
)

__all__ = [
    "CHANNEL_REQUIRED_SECRETS",
    "EmailTakenError",
    "IngestResult",
    "ReactionRefused",
    "ReplyRefused",
    "channel_create",
    "conversation_assign",
    "conversation_mark_read",
    "conversation_status_set",
    "deliveries_ingest",
    "member_create",
    "member_token_rotate",
    "message_ingest",
    "message_push",
    "message_reaction_send",
    "push_sent_at_check",
    "reply_retry",
    "reply_send",
    "shop_create",
]
