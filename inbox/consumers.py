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
        event = message["event"]
        if self.member is not None and self._visible(event):
            await self.send_json(event)

    async def balas_events(self, message: dict[str, Any]) -> None:
        """Several events published together (inbox.realtime): one frame each, in order."""
        for event in message["events"]:
            if self.member is not None and self._visible(event):
                await self.send_json(event)

    def _visible(self, event: dict[str, Any]) -> bool:
        """Alerts: the owner sees all; an admin sees those on their own or unassigned chats."""
        assert self.member is not None
        if not event["type"].startswith("alert.") or self.member.is_owner:
            return True
        assignee = event.get("alert", {}).get("assignee_id")
        return assignee is None or assignee == self.member.pk
