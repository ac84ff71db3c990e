"""Every write Balas makes goes through these functions."""

from inbox.services.ingest import IngestResult, message_ingest, message_push

__all__ = ["IngestResult", "message_ingest", "message_push"]
