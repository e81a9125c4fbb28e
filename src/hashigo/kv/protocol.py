"""The key-value port: sessions, caches and rate limits, with TTLs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Protocol, runtime_checkable

from hashigo.errors import HashigoError


class KeyValueError(HashigoError):
    """A key-value operation was rejected (bad key, bad TTL, value not an integer)."""


@runtime_checkable
class KeyValueStore(Protocol):
    """Every adapter passes ``tests/conformance/test_kv.py`` against a real server.

    TTLs are seconds (float). Every call is bounded by the store's timeout and raises
    ``hashigo.errors.BackendUnavailable`` when the backend does not answer.
    """

    @property
    def url(self) -> str:
        """The store's URL with credentials removed, for logs and reports."""
        ...

    async def get(self, key: str) -> bytes | None: ...

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """Values in the order of ``keys``; ``None`` where a key is missing or expired."""
        ...

    async def set(self, key: str, value: bytes | str, *, ttl: float | None = None,
                  if_absent: bool = False) -> bool:
        """Store a value; with ``if_absent`` only when the key is missing. True if written."""
        ...

    async def delete(self, *keys: str) -> int:
        """Remove keys; returns how many existed."""
        ...

    async def expire(self, key: str, ttl: float) -> bool:
        """Set a new TTL on an existing key; False if the key does not exist."""
        ...

    async def ttl(self, key: str) -> float | None:
        """Seconds left; ``math.inf`` for a key without expiry; ``None`` for a missing key."""
        ...

    async def incr(self, key: str, amount: int = 1, *, ttl: float | None = None) -> int:
        """Atomically add ``amount``; ``ttl`` applies only when this call creates the key
        (fixed-window counters for rate limits)."""
        ...

    def scan(self, prefix: str = "") -> AsyncIterator[str]:
        """Keys (without namespace) starting with ``prefix``, streamed, expired ones skipped."""
        ...

    def namespace(self, name: str) -> KeyValueStore:
        """A view whose keys live under ``name:``; the same connection is shared."""
        ...

    async def ping(self) -> str:
        """Check the backend answers; returns its version string."""
        ...

    async def close(self) -> None: ...
