"""Fixed-window counters in the key-value port: ``limit`` events per ``window`` seconds per key.

The window starts with the first counted event (``incr`` sets the TTL only when it creates the
key) and is never extended, so a key is blocked for at most one window after its first event.
Every process sharing the store shares the counts.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from hashigo.kv import KeyValueStore


@dataclass(frozen=True, slots=True)
class FixedWindowLimiter:
    kv: KeyValueStore
    name: str
    limit: int
    window_seconds: int

    def _key(self, subject: str) -> str:
        # Hashed: keys stay short and no e-mail address or other subject is stored in clear.
        return f"ratelimit:{self.name}:{hashlib.sha256(subject.encode()).hexdigest()[:32]}"

    async def retry_after(self, subject: str) -> int | None:
        """Seconds until ``subject`` may try again, or ``None`` when it is under the limit."""
        key = self._key(subject)
        raw = await self.kv.get(key)
        if raw is None or int(raw) < self.limit:
            return None
        left = await self.kv.ttl(key)
        if left is None:  # expired between the two calls
            return None
        return max(1, math.ceil(min(left, self.window_seconds)))

    async def hit(self, subject: str) -> int:
        """Count one event; returns the count in the current window."""
        return await self.kv.incr(self._key(subject), ttl=self.window_seconds)

    async def reset(self, subject: str) -> None:
        await self.kv.delete(self._key(subject))
