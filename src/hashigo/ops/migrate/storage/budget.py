"""A bound on the object bytes held in memory at once, shared by every object and part in flight."""

from __future__ import annotations

import asyncio
from collections import deque


class MemoryBudget:
    """First come, first served; ``release`` is synchronous so that ``finally`` blocks never wait."""

    def __init__(self, limit: int) -> None:
        if limit <= 0:
            raise ValueError("a memory budget must be positive")
        self.limit = limit
        self.used = 0
        self.peak = 0
        self._waiters: deque[tuple[asyncio.Future[None], int]] = deque()

    def _clamp(self, amount: int) -> int:
        # One buffer bigger than the whole budget still has to be possible: it waits until it is alone.
        return max(0, min(amount, self.limit))

    def _take(self, amount: int) -> None:
        self.used += amount
        self.peak = max(self.peak, self.used)

    async def acquire(self, amount: int) -> int:
        """Wait until ``amount`` fits; returns what was reserved (pass it to ``release``)."""
        amount = self._clamp(amount)
        if not self._waiters and self.used + amount <= self.limit:
            self._take(amount)
            return amount
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((future, amount))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release(amount)  # granted just as we were cancelled: hand it on
            raise
        return amount

    def release(self, amount: int) -> None:
        self.used -= amount
        while self._waiters:
            future, wanted = self._waiters[0]
            if future.done():
                self._waiters.popleft()
                continue
            if self.used + wanted > self.limit:
                break
            self._waiters.popleft()
            self._take(wanted)
            future.set_result(None)
