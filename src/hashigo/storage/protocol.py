"""The object-store port: what the service and the ops commands may ask of any store."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, Protocol, runtime_checkable

from hashigo.errors import HashigoError

SignedMethod = Literal["GET", "PUT"]


class StorageError(HashigoError):
    """An object-store operation failed for a reason that is not an outage."""


class InvalidKey(StorageError, ValueError):
    """The key is unsafe or malformed; the message says which rule it broke."""


class InvalidMetadata(StorageError, ValueError):
    """A content type, cache-control, disposition or metadata entry cannot be stored portably."""


class ObjectNotFound(StorageError, KeyError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key

    def __str__(self) -> str:
        return f"object not found: {self.key!r}"


class ObjectExists(StorageError):
    """A conditional create (``if_absent=True``) found the key already taken."""

    def __init__(self, key: str) -> None:
        super().__init__(f"object already exists: {key!r}")
        self.key = key


class SigningUnsupported(StorageError):
    """The store cannot sign URLs with the configuration it was given."""


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    key: str
    size: int
    last_modified: datetime
    etag: str | None = None
    content_type: str | None = None
    cache_control: str | None = None
    content_disposition: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ByteRange:
    """Bytes ``start`` up to but excluding ``end``; ``end=None`` means to the end."""

    start: int
    end: int | None = None


class ObjectStream(Protocol):
    """A streamed object body: iterate for chunks, or ``read()`` it whole (small objects only)."""

    info: ObjectInfo

    def __aiter__(self) -> AsyncIterator[bytes]: ...

    async def read(self) -> bytes: ...


@runtime_checkable
class ObjectStore(Protocol):
    """Every adapter passes ``tests/conformance/test_storage.py`` against a real server."""

    @property
    def url(self) -> str:
        """The store's URL with credentials removed, for logs and reports."""
        ...

    async def put(
        self,
        key: str,
        data: bytes | AsyncIterable[bytes],
        *,
        content_type: str | None = None,
        cache_control: str | None = None,
        content_disposition: str | None = None,
        metadata: Mapping[str, str] | None = None,
        if_absent: bool = False,
    ) -> ObjectInfo:
        """Write an object. Streams are uploaded in parts, never held whole in memory."""
        ...

    async def get(self, key: str, *, byte_range: ByteRange | None = None) -> ObjectStream: ...

    async def head(self, key: str) -> ObjectInfo: ...

    def list(self, prefix: str = "") -> AsyncIterator[ObjectInfo]:
        """Every object under ``prefix``, streamed; paging is the adapter's business."""
        ...

    async def delete(self, key: str) -> None:
        """Remove an object; deleting a missing key is not an error."""
        ...

    async def copy(self, src: str, dst: str, *, if_absent: bool = False) -> None: ...

    async def signed_url(self, key: str, method: SignedMethod, expires_in: timedelta) -> str: ...

    async def close(self) -> None: ...
