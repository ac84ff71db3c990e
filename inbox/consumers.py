"""`/ws/inbox/`: forwards the shop's live events to its members' sockets. Writes nothing."""

from __future__ import annotations

import logging
from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from inbox.jsonbody import JsonBodyError, json_body_parse
from inbox.models import Member
from inbox.realtime import shop_group

logger = logging.getLogger("balas.ws")

# The one frame the server sends that is not a live event: the answer to a frame it cannot read.
ERROR_FRAME_TYPE = "socket.error"


class InboxConsumer(AsyncJsonWebsocketConsumer):
    member: Member | None = None
    groups_joined: list[str]

    async def connect(self) -> None:
        self.groups_joined = []
        # inbox.ws_auth.MemberScopeMiddleware has looked the member up (token or session).
        self.member = self.scope.get("member")
        if self.member is None:
            await self.close(code=4401)
            return
        group = shop_group(self.member.shop_id)
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined.append(group)
        await self.accept()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        """Clients send nothing Balas acts on; a frame that is not JSON gets an error frame back.

        The library's JSON consumer raised on one (JSONDecodeError for text, ValueError for a
        binary frame), which killed the socket with 1006 and the member's live events with it.
        """
        if text_data is None:
            await self._refuse_frame("binary frames are not accepted; send JSON text")
            return
        try:
            content = json_body_parse(text_data, nonfinite="null").value
        except JsonBodyError as exc:
            await self._refuse_frame(f"frame is {exc}")
            return
        await self.receive_json(content, **kwargs)

    async def _refuse_frame(self, error: str) -> None:
        logger.info("ws.frame_refused member=%s", getattr(self.member, "pk", None))
        await self.send_json({"type": ERROR_FRAME_TYPE, "error": error[:300]})

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def balas_event(self, message: dict[str, Any]) -> None:
        if self._for_me(message.get("audience")):
            await self.send_json(message["event"])

    async def balas_events(self, message: dict[str, Any]) -> None:
        """Several events published together (inbox.realtime): one frame each, in order."""
        for item in message["items"]:
            if self._for_me(item.get("audience")):
                await self.send_json(item["event"])

    def _for_me(self, audience: dict[str, Any] | None) -> bool:
        """The publisher's audience (inbox.realtime.Audience): no audience is every member of the shop."""
        member = self.member
        if member is None:
            return False
        if audience is None:
            return True
        return (bool(audience.get("owners")) and member.is_owner) or member.pk in audience.get("members", ())
