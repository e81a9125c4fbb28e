"""Cutting a source stream into upload parts of one fixed size (the last one shorter), in reused buffers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hashigo.storage import ObjectStream

MIB = 1024 * 1024


def choose_part_size(size: int, wanted: int, minimum: int, max_parts: int) -> int:
    """``wanted``, raised to the store's minimum and to what keeps the object within ``max_parts``
    (rounded up to whole MiB, so a resumed upload computes the same size again)."""
    needed = max(wanted, minimum, -(-size // max_parts))
    return needed if needed < MIB else -(-needed // MIB) * MIB


class BufferPool:
    """Part buffers, handed out again once a part is acknowledged.

    A fresh ``bytes`` per part would allocate and free tens of MiB each time; glibc then raises its
    mmap threshold and serves those sizes from its heap, which fragments, so the process's memory
    crept up with the object's size. Reused buffers keep it flat. The pool holds no more buffers
    than were in use at once, which the run's memory budget bounds.
    """

    def __init__(self) -> None:
        self._free: dict[int, list[bytearray]] = {}

    def take(self, size: int) -> bytearray:
        free = self._free.get(size)
        return free.pop() if free else bytearray(size)

    def give(self, buffer: bytearray) -> None:
        self._free.setdefault(len(buffer), []).append(buffer)


class PartReader:
    """Fills one buffer per part from a stream of chunks of any size; keeps no copy of its own."""

    def __init__(self, chunks: AsyncIterator[bytes], part_size: int,
                 readinto: Callable[[memoryview], Awaitable[int]] | None = None) -> None:
        self._chunks = chunks
        self._part_size = part_size
        self._pending: memoryview | None = None
        self._readinto = readinto  # a source that fills a buffer itself skips the chunks' copy

    @classmethod
    def of(cls, stream: ObjectStream, part_size: int) -> PartReader:
        return cls(aiter(stream), part_size, getattr(stream, "readinto", None))

    async def next_part(self, buffer: bytearray) -> memoryview | None:
        """The next part, as a view of ``buffer`` (at least ``part_size`` long); None at the end."""
        target = memoryview(buffer)
        if self._readinto is not None:
            filled = await self._readinto(target[:self._part_size])
            return target[:filled] if filled else None
        filled = 0
        while filled < self._part_size:
            if self._pending is None:
                try:
                    self._pending = memoryview(await anext(self._chunks)).cast("B")
                except StopAsyncIteration:
                    break
            take = min(len(self._pending), self._part_size - filled)
            target[filled:filled + take] = self._pending[:take]
            self._pending = self._pending[take:] if take < len(self._pending) else None
            filled += take
        return target[:filled] if filled else None
