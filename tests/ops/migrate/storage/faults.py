"""Faults a real server will not produce on demand, as thin wrappers around real stores.

Each wrapper passes every call through to a real adapter and spoils one thing: the bytes a
destination stores, what it says it stored, or a source body that breaks mid-stream.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import replace
from typing import Any, Literal

from hashigo.errors import BackendUnavailable
from hashigo.storage import ByteRange, ObjectInfo, ObjectStore
from hashigo.storage.multipart import ResumableUploads, UploadedPart, resumable_uploads

Spoil = Literal["flip", "truncate", "lie"]


class _Delegate:
    def __init__(self, inner: ObjectStore) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    @property
    def url(self) -> str:
        return self.inner.url

    def list(self, prefix: str = "") -> AsyncIterator[ObjectInfo]:
        return self.inner.list(prefix)


def spoiled(data: bytes, how: Spoil) -> bytes:
    if how == "truncate" or not data:
        return data[: len(data) // 2]
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0x40]) + data[middle + 1:]


class SpoilingDestination(_Delegate):
    """Stores damaged bytes for the first ``times`` writes (None: always).

    ``flip``/``truncate``: the real server stores damaged bytes and reports them honestly (its ETag is
    their MD5). ``lie``: it stores damaged bytes but answers with the ETag of the intact ones.
    """

    def __init__(self, inner: ObjectStore, how: Spoil, times: int | None = None) -> None:
        super().__init__(inner)
        self.how = how
        self.remaining = times
        self.spoiled: list[str] = []

    def _take(self) -> bool:
        if self.remaining is None:
            return True
        if self.remaining > 0:
            self.remaining -= 1
            return True
        return False

    async def put(self, key: str, data: bytes | AsyncIterable[bytes], **attributes: Any) -> ObjectInfo:
        if not isinstance(data, bytes) or not self._take():
            return await self.inner.put(key, data, **attributes)
        self.spoiled.append(key)
        info = await self.inner.put(key, spoiled(data, "flip" if self.how == "lie" else self.how), **attributes)
        if self.how == "lie":
            return replace(info, etag=f'"{hashlib.md5(data).hexdigest()}"')
        return info

    def resumable_uploads(self) -> ResumableUploads | None:
        uploads = resumable_uploads(self.inner)
        return None if uploads is None else _SpoilingUploads(uploads, self)


class _SpoilingUploads:
    """Damages part bytes after their MD5 was taken, as a broken network path would."""

    def __init__(self, inner: ResumableUploads, owner: SpoilingDestination) -> None:
        self.inner = inner
        self.owner = owner
        self.min_part_size = inner.min_part_size
        self.max_parts = inner.max_parts

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def create(self, key: str, **attributes: Any) -> str:
        return await self.inner.create(key, **attributes)

    async def put_part(self, key: str, upload_id: str, number: int, data: bytes | memoryview,
                       *, md5: bytes | None = None) -> UploadedPart:
        if self.owner._take():
            self.owner.spoiled.append(f"{key}#part{number}")
            data = spoiled(bytes(data), "flip")
        return await self.inner.put_part(key, upload_id, number, data, md5=md5)


class _BreakingStream:
    def __init__(self, inner: Any, after: int) -> None:
        self.info = inner.info
        self._inner = inner
        self._after = after

    async def _chunks(self) -> AsyncIterator[bytes]:
        sent = 0
        async for chunk in self._inner:
            if sent + len(chunk) > self._after:
                yield chunk[: self._after - sent]
                raise BackendUnavailable("storage:test", "connection reset in the middle of the body")
            sent += len(chunk)
            yield chunk

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def read(self) -> bytes:
        return b"".join([chunk async for chunk in self])


class BreakingSource(_Delegate):
    """Bodies of objects above ``after`` bytes break there, for the first ``times`` reads (None: always)."""

    def __init__(self, inner: ObjectStore, after: int, times: int | None = None) -> None:
        super().__init__(inner)
        self.after = after
        self.remaining = times
        self.broken = 0

    async def get(self, key: str, *, byte_range: ByteRange | None = None) -> Any:
        stream = await self.inner.get(key, byte_range=byte_range)
        if stream.info.size <= self.after or self.remaining == 0:
            return stream
        if self.remaining is not None:
            self.remaining -= 1
        self.broken += 1
        return _BreakingStream(stream, self.after)


def as_store(wrapper: object) -> ObjectStore:
    """The wrappers satisfy the port by delegation; this states it for the type checker."""
    return wrapper  # type: ignore[return-value]


__all__ = ["BreakingSource", "SpoilingDestination", "as_store"]
