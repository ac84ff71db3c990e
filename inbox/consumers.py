"""`/ws/inbox/`: forwards the shop's live events to its members' sockets. Writes nothing."""

from __future__ import annotations

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from inbox.models import Member
from inbox.realtime import shop_group


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
