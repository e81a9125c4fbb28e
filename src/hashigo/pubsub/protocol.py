"""The pub/sub port: realtime fan-out between service instances (seed 000: WebSocket)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from hashigo.errors import HashigoError


class PubSubError(HashigoError):
    """A pub/sub operation was rejected (bad channel name, closed subscription)."""


@dataclass(frozen=True, slots=True)
class Message:
    channel: str
    data: bytes


@runtime_checkable
class Subscription(Protocol):
    """One listener's channels. Messages published after ``subscribe`` returns are delivered
    in publish order per channel; delivery is at most once (a listener that is away misses them)."""

    async def subscribe(self, *channels: str) -> None: ...

    async def unsubscribe(self, *channels: str) -> None: ...

    def __aiter__(self) -> AsyncIterator[Message]: ...

    async def close(self) -> None: ...


@runtime_checkable
class PubSub(Protocol):
    """Every adapter passes ``tests/conformance/test_pubsub.py`` against a real server.

    Calls are bounded by the adapter's timeout and raise ``hashigo.errors.BackendUnavailable``
    when the backend does not answer.
    """

    @property
    def url(self) -> str:
        """The URL with credentials removed, for logs and reports."""
        ...

    async def publish(self, channel: str, data: bytes) -> None: ...

    async def subscription(self) -> Subscription:
        """A new, empty subscription; close it when done."""
        ...

    async def ping(self) -> str: ...

    async def close(self) -> None: ...
