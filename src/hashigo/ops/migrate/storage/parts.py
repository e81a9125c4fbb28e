"""Cutting a source stream into upload parts of one fixed size (the last one shorter)."""

from __future__ import annotations

from collections.abc import AsyncIterator

MIB = 1024 * 1024


def choose_part_size(size: int, wanted: int, minimum: int, max_parts: int) -> int:
    """``wanted``, raised to the store's minimum and to what keeps the object within ``max_parts``
    (rounded up to whole MiB, so a resumed upload computes the same size again)."""
    needed = max(wanted, minimum, -(-size // max_parts))
    return needed if needed < MIB else -(-needed // MIB) * MIB


class PartReader:
    """Whole parts from a stream of chunks of any size; holds at most one part plus one chunk."""

    def __init__(self, chunks: AsyncIterator[bytes], part_size: int) -> None:
        self._chunks = chunks
        self._part_size = part_size
        self._buffer = bytearray()
        self._ended = False

    async def next_part(self) -> bytes | None:
        while len(self._buffer) < self._part_size and not self._ended:
            try:
                chunk = await anext(self._chunks)
            except StopAsyncIteration:
                self._ended = True
                break
            if not self._buffer and len(chunk) == self._part_size:
                return bytes(chunk)  # the common case on aligned chunks: no copy into the buffer
            self._buffer += chunk
        if not self._buffer:
            return None
        part = bytes(self._buffer[: self._part_size])
        del self._buffer[: self._part_size]
        return part
