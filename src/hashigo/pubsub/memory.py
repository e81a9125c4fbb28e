"""In-process pub/sub: one server process, no backend (the embedded default)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from hashigo.pubsub.backlog import Backlog, check_channel, check_data
from hashigo.pubsub.protocol import Message, PubSubError


class InProcessSubscription:
    """One listener; iterate it from one task. ``close`` ends the iteration."""

    def __init__(self, hub: InProcessPubSub) -> None:
        self._hub = hub
        self._channels: set[str] = set()
        self._backlog = Backlog()

    @property
    def dropped(self) -> int:
        """Messages lost because this listener fell more than ``MAX_BACKLOG`` behind."""
        return self._backlog.dropped

    async def subscribe(self, *channels: str) -> None:
        if self._backlog.closed:
            raise PubSubError("the subscription is closed")
        for channel in map(check_channel, channels):
            self._channels.add(channel)
            self._hub._listeners.setdefault(channel, set()).add(self)

    async def unsubscribe(self, *channels: str) -> None:
        for channel in channels:
            self._channels.discard(channel)
            listeners = self._hub._listeners.get(channel)
            if listeners is not None:
                listeners.discard(self)
                if not listeners:
                    del self._hub._listeners[channel]

    def __aiter__(self) -> AsyncIterator[Message]:
        return self._backlog.__aiter__()

    async def close(self) -> None:
        if not self._backlog.closed:
            await self.unsubscribe(*list(self._channels))
            self._backlog.close()


class InProcessPubSub:
    def __init__(self) -> None:
        self._listeners: dict[str, set[InProcessSubscription]] = {}

    @property
    def url(self) -> str:
        return "memory://"

    async def publish(self, channel: str, data: bytes) -> None:
        message = Message(check_channel(channel), check_data(data))
        for listener in list(self._listeners.get(channel, ())):
            listener._backlog.put(message)

    async def subscription(self) -> InProcessSubscription:
        return InProcessSubscription(self)

    async def ping(self) -> str:
        return "in-process"

    async def close(self) -> None:
        for listeners in list(self._listeners.values()):
            for listener in list(listeners):
                await listener.close()
