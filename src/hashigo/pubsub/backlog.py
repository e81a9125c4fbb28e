"""What every pub/sub adapter shares: argument checks and the bounded backlog a listener reads.

A listener that stops reading must not grow the process without bound: past ``MAX_BACKLOG``
undelivered messages, new ones are dropped (counted in ``dropped``) — at most once, as the
port promises.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator

from hashigo.pubsub.protocol import Message, PubSubError

MAX_BACKLOG = 10_000
MAX_CHANNEL_BYTES = 1024

log = logging.getLogger("hashigo.pubsub")


def check_channel(channel: object) -> str:
    if not isinstance(channel, str) or not channel:
        raise PubSubError(f"a channel is a non-empty str, not {channel!r}")
    if len(channel.encode("utf-8", "surrogatepass")) > MAX_CHANNEL_BYTES:
        raise PubSubError(f"channel names are at most {MAX_CHANNEL_BYTES} bytes; got {len(channel)} characters")
    return channel


def check_data(data: object) -> bytes:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise PubSubError(f"published data is bytes, not {type(data).__name__}")
    return bytes(data)


class Backlog:
    """Messages received for one listener and not yet read; ``close`` ends its iteration."""

    __slots__ = ("_items", "_limit", "_waiter", "closed", "dropped")

    def __init__(self, limit: int = MAX_BACKLOG) -> None:
        self._items: deque[Message] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._limit = limit
        self.closed = False
        self.dropped = 0

    def put(self, message: Message) -> None:
        if self.closed:
            return
        if len(self._items) >= self._limit:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.warning("pub/sub listener is not reading; messages dropped",
                            extra={"dropped": self.dropped, "channel": message.channel})
            return
        self._items.append(message)
        self._wake()

    def close(self) -> None:
        self.closed = True
        self._items.clear()
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def __aiter__(self) -> AsyncIterator[Message]:
        while not self.closed:
            if not self._items:
                self._waiter = asyncio.get_running_loop().create_future()
                try:
                    await self._waiter
                finally:
                    self._waiter = None
                continue
            yield self._items.popleft()
