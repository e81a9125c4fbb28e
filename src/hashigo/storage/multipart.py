"""Resumable multipart uploads: an optional capability of a store, beside the ``ObjectStore`` port.

``put`` with a stream already uploads in parts, but its upload id and parts die with the process.
Here the caller holds them: it records each finished part (in a journal, say) and, after a crash,
uploads only the parts it has no record of, then completes. Stores that cannot keep an upload
across processes (memory) or that hashigo does not drive part by part yet (GCS, Azure) offer
none; callers then fall back to ``put`` with a stream and restart the object after a crash.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from hashigo.storage.protocol import ObjectStore, StorageError


class UploadNotFound(StorageError):
    """The upload id is unknown to the store: completed, aborted, expired, or the server restarted."""

    def __init__(self, key: str, upload_id: str) -> None:
        super().__init__(f"multipart upload {upload_id!r} of {key!r} no longer exists")
        self.key = key
        self.upload_id = upload_id


class DamagedInTransit(StorageError):
    """The store refused a part because its bytes do not match the checksum sent with them."""


@dataclass(frozen=True, slots=True)
class UploadedPart:
    number: int
    """1-based part number."""
    etag: str | None
    """The part's ETag as the store returned it (S3: the MD5 of the bytes it received), unquoted."""


@dataclass(frozen=True, slots=True)
class CompletedUpload:
    etag: str | None
    """The object's ETag after completion, unquoted (S3: md5 of the parts' md5s, then ``-<parts>``)."""


@runtime_checkable
class ResumableUploads(Protocol):
    """A store's multipart uploads, with ids that survive the process that started them."""

    min_part_size: int
    """Every part but the last must be at least this big."""
    max_parts: int

    async def create(
        self,
        key: str,
        *,
        content_type: str | None = None,
        cache_control: str | None = None,
        content_disposition: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> str:
        """Start an upload; returns its id. Attributes are validated as ``put`` does."""
        ...

    async def put_part(self, key: str, upload_id: str, number: int, data: bytes | memoryview,
                       *, md5: bytes | None = None) -> UploadedPart:
        """Upload part ``number`` (re-uploading a number replaces it). ``md5`` (the raw digest of
        ``data``), when given, is sent so the store refuses bytes damaged on the way."""
        ...

    async def complete(self, key: str, upload_id: str, parts: Sequence[UploadedPart]) -> CompletedUpload:
        """Assemble the parts, in number order, into the object ``key``."""
        ...

    async def abort(self, key: str, upload_id: str) -> None:
        """Discard the upload and its parts; an unknown id is not an error."""
        ...

    async def close(self) -> None: ...


def resumable_uploads(store: ObjectStore) -> ResumableUploads | None:
    """The store's resumable uploads, or None where it has none (see the module docstring)."""
    getter = getattr(store, "resumable_uploads", None)
    if getter is None:
        return None
    uploads = getter()
    return uploads if isinstance(uploads, ResumableUploads) else None
