"""The object-store port on top of obstore, for every backend obstore speaks.

obstore does the I/O (multipart uploads, ranged and streamed reads, native URL signing);
this adapter adds what the port promises on top: one key policy, portable attributes,
errors mapped to the port's, and a bound on every call so an outage never hangs a caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import obstore
from obstore import exceptions as obx

from hashigo.errors import BackendUnavailable, HashigoError
from hashigo.storage import signing
from hashigo.storage.attributes import decode_attributes, encode_attributes
from hashigo.storage.keys import RESERVED_PREFIX, validate_key, validate_prefix
from hashigo.storage.multipart import ResumableUploads
from hashigo.storage.protocol import (
    ByteRange,
    InvalidKey,
    ObjectExists,
    ObjectInfo,
    ObjectNotFound,
    ObjectStream,
    SignedMethod,
    SigningUnsupported,
    StorageError,
)

if TYPE_CHECKING:
    from obstore import Attributes, GetOptions, GetResult, ObjectMeta, PutResult
    from obstore.store import ObjectStore as RawStore

T = TypeVar("T")

PART_SIZE = 8 * 1024 * 1024
"""Multipart part size for streamed puts (S3 needs at least 5 MiB per part)."""
PART_CONCURRENCY = 4
"""Parts in flight at once; with PART_SIZE this bounds a streamed put's buffers to about 40 MiB."""
READ_CHUNK = 4 * 1024 * 1024
WHOLE_READ_LIMIT = 8 * 1024 * 1024
"""``read()`` fetches bodies up to this size in one bounded call; larger ones chunk by chunk, so a slow
but moving download is not cut off by the per-call timeout."""
CONDITIONAL_STREAM_LIMIT = 64 * 1024 * 1024
"""Conditional creates are single requests in obstore, so a streamed ``if_absent`` put is buffered."""

# Phrases obstore/reqwest use when the backend did not answer, as opposed to answering "no".
_OUTAGE_MARKERS = (
    "error sending request",
    "tcp connect error",
    "connection refused",
    "connection reset",
    "connection closed",
    "broken pipe",
    "timed out",
    "timedout",
    "dns error",
    "failed to lookup address",
    "incompletemessage",
    "error decoding response body",
    "kind: connect",
    "kind: body",
    "kind: decode",
    "http error",
)
_STATUS = re.compile(r"status code: (\d{3})")
# What backends say when the bucket/container itself is missing (the body of a 404, mostly).
_MISSING_BUCKET_MARKERS = (
    "nosuchbucket",  # S3 and GCS's XML API
    "the specified bucket does not exist",
    "containernotfound",  # Azure
    "the specified container does not exist",
    "no bucket named",  # fake-gcs-server lists a missing bucket with a 500 saying so
)


@dataclass(frozen=True, slots=True)
class AdapterOptions:
    backend: str
    """Short name for errors and logs: "s3", "gcs", "azure", "local", "memory"."""
    url: str
    """The store's URL without credentials."""
    timeout_seconds: float
    signing_secret: str = ""
    public_base_url: str = ""
    native_signing: bool = False
    copy_if_absent_drops_attributes: bool = False
    """S3's copy-if-absent is a multipart copy that loses attributes; a second copy restores them."""
    bucket: str | None = None
    """The bucket or container every key lives in; None for stores without one (local, memory)."""
    bucket_kind: str = "bucket"
    """What the backend calls it: "bucket" (S3, GCS) or "container" (Azure)."""
    location: str = ""
    """Where the bucket was looked for (the endpoint, or the provider's default), for error messages."""


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    return line if len(line) <= 300 else line[:297] + "..."


class _Stream:
    """An object body: chunks are pulled one at a time, each within the store's timeout."""

    def __init__(self, adapter: ObstoreAdapter, key: str, info: ObjectInfo, result: GetResult | None) -> None:
        self.info = info
        self._adapter = adapter
        self._key = key
        self._result = result
        self._consumed = False

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        if self._consumed:
            raise StorageError(f"the body of {self._key!r} was already read; call get() again")
        self._consumed = True
        if self._result is None:
            return
        stream = self._result.stream(min_chunk_size=READ_CHUNK)
        while True:
            try:
                chunk = await self._adapter._bounded("read", self._key, stream.__anext__())
            except StopAsyncIteration:
                return
            yield chunk

    async def read(self) -> bytes:
        if self._result is None or self._consumed or self.info.size > WHOLE_READ_LIMIT:
            return b"".join([chunk async for chunk in self])
        # One call instead of a chunk loop: most objects read whole are small, and each call costs.
        self._consumed = True
        return bytes(await self._adapter._bounded("read", self._key, self._result.bytes_async()))


class _Progress:
    """When a streamed upload last moved; time spent waiting on the caller's stream doesn't count."""

    def __init__(self) -> None:
        self.last = asyncio.get_running_loop().time()
        self.in_source = False
        self.size = 0


async def _track(source: AsyncIterable[bytes], progress: _Progress) -> AsyncIterator[bytes]:
    iterator = source.__aiter__()
    while True:
        progress.in_source = True
        try:
            chunk = await iterator.__anext__()
        except StopAsyncIteration:
            return
        finally:
            progress.in_source = False
            progress.last = asyncio.get_running_loop().time()
        if not isinstance(chunk, bytes | bytearray | memoryview):
            raise StorageError(f"a streamed put must yield bytes, got {type(chunk).__name__}")
        progress.size += len(chunk)
        yield bytes(chunk)


class ObstoreAdapter:
    """An ``ObjectStore`` over any obstore store that keeps attributes natively."""

    def __init__(self, store: RawStore | None, options: AdapterOptions,
                 uploads: ResumableUploads | None = None) -> None:
        self._raw: RawStore | None = store
        self._options = options
        self._uploads = uploads

    # -- plumbing ---------------------------------------------------------------

    @property
    def url(self) -> str:
        return self._options.url

    @property
    def _store(self) -> RawStore:
        if self._raw is None:
            self._raw = self._open()
        return self._raw

    def _open(self) -> RawStore:
        raise StorageError(f"{self.url}: store is not open")

    async def _bounded(self, op: str, key: str, awaitable: Awaitable[T]) -> T:
        timeout = self._options.timeout_seconds
        try:
            # asyncio.timeout, not wait_for: wait_for wraps every call in a task of its own.
            async with asyncio.timeout(timeout):
                return await awaitable
        except TimeoutError:
            raise BackendUnavailable(
                f"storage:{self._options.backend}", f"{op} {key!r} got no answer within {timeout:g}s"
            ) from None
        except StopAsyncIteration:
            raise
        except Exception as exc:
            raise self._translate(exc, op, key) from exc

    def _translate(self, exc: Exception, op: str, key: str, *, exists_key: str | None = None) -> Exception:
        if isinstance(exc, HashigoError):
            return exc
        if self._bucket_is_missing(exc, op):
            return self._missing_bucket(op, key)
        if isinstance(exc, FileNotFoundError | obx.NotFoundError):
            return ObjectNotFound(key)
        if isinstance(exc, obx.AlreadyExistsError | obx.PreconditionError):
            return ObjectExists(exists_key or key)
        if isinstance(exc, obx.PermissionDeniedError | obx.UnauthenticatedError):
            return StorageError(
                f"{op} {key!r} on {self.url}: the backend refused the credentials ({_first_line(exc)}); "
                "check the access key, secret and the bucket's permissions"
            )
        if isinstance(exc, obx.NotSupportedError):
            return StorageError(f"{op} {key!r} is not supported by {self.url}: {_first_line(exc)}")
        if isinstance(exc, obx.InvalidPathError):
            return InvalidKey(f"invalid object key {key!r}: {_first_line(exc)}")
        text = str(exc)
        status = _STATUS.search(text)
        if status is not None:
            outage = status.group(1).startswith("5")
        else:
            lowered = text.lower()
            outage = any(marker in lowered for marker in _OUTAGE_MARKERS)
        if outage:
            return BackendUnavailable(f"storage:{self._options.backend}", f"{op} {key!r}: {_first_line(exc)}")
        return StorageError(f"{op} {key!r} on {self.url} failed: {_first_line(exc)}")

    def _bucket_is_missing(self, exc: Exception, op: str) -> bool:
        if self._options.bucket is None:
            return False
        lowered = str(exc).lower()
        if any(marker in lowered for marker in _MISSING_BUCKET_MARKERS):
            return True
        # A write has no object to miss: a 404 to a put can only mean the bucket is not there.
        return op == "put" and isinstance(exc, FileNotFoundError | obx.NotFoundError)

    def _missing_bucket(self, op: str, key: str) -> StorageError:
        kind, bucket = self._options.bucket_kind, self._options.bucket
        code = " (ContainerNotFound)" if kind == "container" else " (NoSuchBucket)"
        where = f" at {self._options.location}" if self._options.location else ""
        return StorageError(
            f"{op} {key!r} failed: {kind} {bucket!r} does not exist{where}{code}; "
            f"create the {kind} or fix STORAGE_URL ({self.url})"
        )

    def _unavailable(self, op: str, key: str, detail: str) -> BackendUnavailable:
        return BackendUnavailable(f"storage:{self._options.backend}", f"{op} {key!r}: {detail}")

    # -- hooks the local adapter overrides ---------------------------------------

    def _attributes_to_send(self, attributes: Attributes) -> Attributes | None:
        return attributes or None

    async def _after_write(self, key: str, etag: str | None, attributes: Attributes) -> None:
        return None

    async def _attributes_of(self, key: str, meta: ObjectMeta, native: Mapping[str, str]) -> Mapping[str, str]:
        return native

    async def _after_copy(self, src: str, dst: str) -> None:
        return None

    async def _after_delete(self, key: str) -> None:
        return None

    def _hidden(self, path: str) -> bool:
        return any(segment.startswith(RESERVED_PREFIX) for segment in path.split("/"))

    # -- the port ---------------------------------------------------------------

    def _info(self, key: str, meta: ObjectMeta, attributes: Mapping[str, str]) -> ObjectInfo:
        return ObjectInfo(
            key=key,
            size=meta["size"],
            last_modified=meta["last_modified"],
            etag=meta.get("e_tag"),
            **decode_attributes(attributes),  # type: ignore[arg-type]
        )

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
        validate_key(key)
        attributes = encode_attributes(content_type, cache_control, content_disposition, metadata)
        if not isinstance(data, bytes | bytearray | memoryview):
            if if_absent:
                data = await self._buffer_conditional(key, data)
            else:
                result, size = await self._put_stream(key, data, attributes)
                return await self._finish_put(key, result, size, attributes)
        mode: Literal["create", "overwrite"] = "create" if if_absent else "overwrite"
        result = await self._bounded(
            "put", key,
            obstore.put_async(self._store, key, data, attributes=self._attributes_to_send(attributes),
                              mode=mode, chunk_size=PART_SIZE, max_concurrency=PART_CONCURRENCY),
        )
        return await self._finish_put(key, result, len(data), attributes)

    async def _finish_put(self, key: str, result: PutResult, size: int, attributes: Attributes) -> ObjectInfo:
        await self._after_write(key, result.get("e_tag"), attributes)
        return ObjectInfo(
            key=key, size=size, last_modified=datetime.now(UTC), etag=result.get("e_tag"),
            **decode_attributes(attributes),  # type: ignore[arg-type]
        )

    async def _buffer_conditional(self, key: str, data: AsyncIterable[bytes]) -> bytes:
        buffer = bytearray()
        async for chunk in data:
            buffer += chunk
            if len(buffer) > CONDITIONAL_STREAM_LIMIT:
                raise StorageError(
                    f"put {key!r} with if_absent=True streams at most {CONDITIONAL_STREAM_LIMIT // 2**20} MiB "
                    "(conditional creates are single requests); upload larger objects without if_absent"
                )
        return bytes(buffer)

    async def _put_stream(
        self, key: str, data: AsyncIterable[bytes], attributes: Attributes
    ) -> tuple[PutResult, int]:
        """A multipart upload, watched: it fails once the backend makes no progress for the timeout."""
        progress = _Progress()
        loop = asyncio.get_running_loop()
        timeout = self._options.timeout_seconds
        task: asyncio.Future[PutResult] = asyncio.ensure_future(
            obstore.put_async(
                self._store, key, _track(data, progress), attributes=self._attributes_to_send(attributes),
                use_multipart=True, chunk_size=PART_SIZE, max_concurrency=PART_CONCURRENCY,
            )
        )
        try:
            while True:
                if progress.in_source:
                    progress.last = loop.time()
                remaining = timeout - (loop.time() - progress.last)
                if remaining <= 0:
                    raise self._unavailable("put", key, f"upload made no progress for {timeout:g}s")
                done, _ = await asyncio.wait({task}, timeout=min(remaining, 1.0))
                if done:
                    break
        finally:
            if not task.done():
                task.cancel()
        try:
            return task.result(), progress.size
        except HashigoError:
            raise
        except Exception as exc:
            raise self._translate(exc, "put", key) from exc

    async def get(self, key: str, *, byte_range: ByteRange | None = None) -> ObjectStream:
        validate_key(key)
        options: GetOptions = {}
        if byte_range is not None:
            if byte_range.start < 0 or (byte_range.end is not None and byte_range.end < byte_range.start):
                raise StorageError(f"invalid byte range {byte_range}; accepted: 0 <= start <= end")
            if byte_range.end == byte_range.start:
                return _Stream(self, key, await self.head(key), None)
            if byte_range.end is None:
                options["range"] = {"offset": byte_range.start}
            else:
                options["range"] = (byte_range.start, byte_range.end)
        try:
            result = await self._bounded("get", key, obstore.get_async(self._store, key, options=options))
        except StorageError as exc:
            if byte_range is None or isinstance(exc, ObjectNotFound):
                raise
            # A range starting at or past the end: HTTP says 416; the port says "no bytes".
            info = await self.head(key)
            if byte_range.start >= info.size:
                return _Stream(self, key, info, None)
            raise
        attributes = await self._attributes_of(key, result.meta, result.attributes)
        return _Stream(self, key, self._info(key, result.meta, attributes), result)

    async def head(self, key: str) -> ObjectInfo:
        validate_key(key)
        result = await self._bounded("head", key, obstore.get_async(self._store, key, options={"head": True}))
        attributes = await self._attributes_of(key, result.meta, result.attributes)
        return self._info(key, result.meta, attributes)

    async def list(self, prefix: str = "") -> AsyncIterator[ObjectInfo]:
        folder = validate_prefix(prefix)
        stream = obstore.list(self._store, folder or None, chunk_size=1000)
        while True:
            try:
                chunk = await self._bounded("list", prefix, stream.__anext__())
            except StopAsyncIteration:
                return
            for meta in chunk:
                if not self._hidden(meta["path"]):
                    yield self._info(meta["path"], meta, {})

    async def delete(self, key: str) -> None:
        validate_key(key)
        with contextlib.suppress(ObjectNotFound):
            await self._bounded("delete", key, obstore.delete_async(self._store, key))
        await self._after_delete(key)

    async def copy(self, src: str, dst: str, *, if_absent: bool = False) -> None:
        validate_key(src)
        validate_key(dst)
        try:
            await asyncio.wait_for(
                obstore.copy_async(self._store, src, dst, overwrite=not if_absent), self._options.timeout_seconds
            )
        except TimeoutError:
            raise self._unavailable("copy", src, f"no answer within {self._options.timeout_seconds:g}s") from None
        except Exception as exc:
            raise self._translate(exc, "copy", src, exists_key=dst) from exc
        if if_absent and self._options.copy_if_absent_drops_attributes:
            # The destination is ours now; a plain copy carries the source's attributes over.
            await self._bounded("copy", src, obstore.copy_async(self._store, src, dst, overwrite=True))
        await self._after_copy(src, dst)

    async def signed_url(self, key: str, method: SignedMethod, expires_in: timedelta) -> str:
        validate_key(key)
        if method not in ("GET", "PUT"):
            raise SigningUnsupported(f"cannot sign method {method!r}; accepted: GET, PUT")
        signing.check_expiry(expires_in)
        if not self._options.native_signing:
            return signing.sign_local_url(
                self._options.public_base_url, key, method, expires_in, self._options.signing_secret
            )
        store: Any = self._store
        try:
            url: str = await self._bounded("sign", key, obstore.sign_async(store, method, key, expires_in))
        except BackendUnavailable:
            raise
        except StorageError as exc:
            raise SigningUnsupported(f"{self.url} cannot sign URLs with its credentials: {exc}") from exc
        return url

    def resumable_uploads(self) -> ResumableUploads | None:
        """Multipart uploads that survive the process (see ``hashigo.storage.multipart``), if any."""
        return self._uploads

    async def close(self) -> None:
        # obstore's clients hold no resources that outlive their last reference; the uploads' do.
        if self._uploads is not None:
            await self._uploads.close()
