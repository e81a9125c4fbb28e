"""Copy one object, verify it at the destination, and say how it was verified.

Three ways, by size and by what the destination offers:
- whole: read it into memory (it is below the multipart threshold), hash, one ``put``;
- resumable multipart: parts go up by upload id, each recorded in the journal once acknowledged,
  so a rerun uploads only the parts it has no record of (the source is read again from the start,
  because the object's SHA-256 must cover every byte in order; uploaded parts are only hashed);
- streamed: a ``put`` fed by the source stream, for large objects on stores without resumable
  uploads; a crash restarts the object.

Verification (``verify="auto"``): an S3-style MD5 ETag the destination computed over what it
received, equal to the MD5 of the bytes we read, proves those bytes arrived; anything else (no
ETag, another kind of ETag, a mismatch) is settled by reading the object back and comparing
SHA-256. ``verify="read-back"`` always reads back.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Literal

from hashigo.ops.migrate.storage.budget import MemoryBudget
from hashigo.ops.migrate.storage.checksums import (
    RunningDigests,
    composite_etag,
    is_plain_md5,
    sha256_and_md5,
    sha256_and_part_md5,
)
from hashigo.ops.migrate.storage.errors import (
    SourceChanged,
    SourceTruncated,
    SourceVanished,
    TransientCopyError,
    VerificationFailed,
)
from hashigo.ops.migrate.storage.journal import Journal, PartRecord, SourceIdentity, UploadRecord, normalise_etag
from hashigo.ops.migrate.storage.parts import BufferPool, PartReader, choose_part_size
from hashigo.storage import ObjectInfo, ObjectNotFound, ObjectStore, ObjectStream
from hashigo.storage.multipart import ResumableUploads, UploadedPart, UploadNotFound

VerifyMode = Literal["auto", "read-back"]
ProgressFn = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class CopySettings:
    verify: VerifyMode = "auto"
    part_size: int = 16 * 1024 * 1024
    multipart_threshold: int = 16 * 1024 * 1024
    part_concurrency: int = 4


@dataclass(frozen=True, slots=True)
class Copied:
    identity: SourceIdentity
    size: int
    sha256: str
    verified_by: str
    dst_etag: str | None
    parts_uploaded: int = 0
    parts_reused: int = 0


def _attributes(info: ObjectInfo) -> dict[str, Any]:
    return {"content_type": info.content_type, "cache_control": info.cache_control,
            "content_disposition": info.content_disposition, "metadata": dict(info.metadata)}


class ObjectCopier:
    def __init__(self, source: ObjectStore, destination: ObjectStore, uploads: ResumableUploads | None,
                 journal: Journal, settings: CopySettings, budget: MemoryBudget) -> None:
        self._source = source
        self._destination = destination
        self._uploads = uploads
        self._journal = journal
        self._settings = settings
        self._budget = budget
        self._pool = BufferPool()

    def method_for(self, size: int) -> str:
        if size <= self._settings.multipart_threshold:
            return "whole"
        return "multipart" if self._uploads is not None else "streamed"

    async def copy(self, item: ObjectInfo, progress: ProgressFn, *, fresh_upload: bool = False) -> Copied:
        """``fresh_upload``: abandon a recorded multipart upload and start a new one (after resuming it
        failed more than once: whatever state the store keeps for it, a new upload does not share it)."""
        method = self.method_for(item.size)
        if method == "whole":
            return await self._copy_whole(item, progress)
        if method == "streamed":
            return await self._copy_streamed(item, progress)
        if fresh_upload and (record := self._journal.upload(item.key)) is not None:
            await self._forget_upload(item.key, record.upload_id)
        try:
            return await self._copy_resumable(item, progress)
        except UploadNotFound as exc:
            # Completed, aborted or expired behind our back (or the server dropped it after refusing a
            # part): the next attempt starts afresh. It is an attempt like any other, so the report
            # counts it and the progress bar takes back what this one sent.
            self._journal.drop_upload(item.key)
            raise TransientCopyError(f"{item.key!r}: the multipart upload is gone at the destination ({exc}); "
                                     "a new one is started") from exc

    # -- reading the source ----------------------------------------------------------

    async def _open_source(self, item: ObjectInfo) -> tuple[ObjectStream, SourceIdentity]:
        try:
            stream = await self._source.get(item.key)
        except ObjectNotFound:
            raise SourceVanished(f"{item.key!r} was listed in the source but is gone now") from None
        listed = SourceIdentity.of(item)
        got = stream.info
        got_etag = normalise_etag(got.etag)
        if got.size == item.size and (listed.etag is None or got_etag is None or got_etag == listed.etag):
            return stream, listed
        # Changed since it was listed: copy what is there now, and make the next run look again.
        return stream, SourceIdentity(got.size, got_etag, "changed-during-copy")

    # -- whole objects ------------------------------------------------------------

    async def _copy_whole(self, item: ObjectInfo, progress: ProgressFn) -> Copied:
        held = await self._budget.acquire(max(item.size, 1))
        try:
            stream, identity = await self._open_source(item)
            data = await stream.read()
            if len(data) != stream.info.size:
                raise SourceTruncated(f"{item.key!r}: the source sent {len(data)} of {stream.info.size} bytes")
            sha256, md5 = await sha256_and_md5(data)
            written = await self._destination.put(item.key, data, **_attributes(stream.info))
            progress(len(data))
            del data
        finally:
            self._budget.release(held)
        dst_etag = normalise_etag(written.etag)
        verified_by = await self._verify(item.key, identity.size, sha256, dst_etag, md5)
        return Copied(identity, identity.size, sha256, verified_by, dst_etag)

    # -- verification -----------------------------------------------------------

    async def _verify(self, key: str, size: int, sha256: str, dst_etag: str | None, expected_etag: str) -> str:
        if self._settings.verify == "auto" and dst_etag is not None and dst_etag == expected_etag:
            return "md5-etag" if is_plain_md5(expected_etag) else "multipart-md5-etag"
        await self._read_back(key, size, sha256)
        return "read-back-sha256"

    async def _read_back(self, key: str, size: int, sha256: str) -> None:
        try:
            stream = await self._destination.get(key)
        except ObjectNotFound:
            raise VerificationFailed(f"{key!r} is missing at the destination right after it was written") from None
        digests = RunningDigests(md5=False)
        async for chunk in stream:
            await digests.update(chunk)
        got = digests.sha256.hexdigest()
        if digests.size != size or got != sha256:
            raise VerificationFailed(
                f"{key!r}: the destination holds {digests.size} bytes with SHA-256 {got[:16]}…, "
                f"the source had {size} bytes with SHA-256 {sha256[:16]}…")

    # -- streamed puts (no resumable uploads at the destination) ------------------------

    async def _copy_streamed(self, item: ObjectInfo, progress: ProgressFn) -> Copied:
        stream, identity = await self._open_source(item)
        digests = RunningDigests(md5=True)

        async def body() -> AsyncIterator[bytes]:
            async for chunk in stream:
                await digests.update(chunk)
                progress(len(chunk))
                yield chunk

        # The adapter keeps at most its part size times its part concurrency in flight.
        held = await self._budget.acquire(self._settings.part_size * self._settings.part_concurrency)
        try:
            written = await self._destination.put(item.key, body(), **_attributes(stream.info))
        finally:
            self._budget.release(held)
        if digests.size != stream.info.size:
            raise SourceTruncated(f"{item.key!r}: the source sent {digests.size} of {stream.info.size} bytes")
        assert digests.md5 is not None
        dst_etag = normalise_etag(written.etag)
        sha256 = digests.sha256.hexdigest()
        verified_by = await self._verify(item.key, identity.size, sha256, dst_etag, digests.md5.hexdigest())
        return Copied(identity, identity.size, sha256, verified_by, dst_etag)

    # -- resumable multipart -----------------------------------------------------------

    async def _upload_for(self, item: ObjectInfo, stream: ObjectStream, identity: SourceIdentity,
                          part_size: int) -> UploadRecord:
        uploads = self._uploads
        assert uploads is not None
        record = self._journal.upload(item.key)
        if record is not None and (record.identity != identity or record.part_size != part_size):
            await uploads.abort(item.key, record.upload_id)
            self._journal.drop_upload(item.key)
            record = None
        if record is None:
            upload_id = await uploads.create(item.key, **_attributes(stream.info))
            self._journal.start_upload(item.key, upload_id, part_size, identity)
            record = UploadRecord(upload_id, part_size, identity)
        return record

    async def _copy_resumable(self, item: ObjectInfo, progress: ProgressFn) -> Copied:
        uploads = self._uploads
        assert uploads is not None
        part_size = choose_part_size(item.size, self._settings.part_size, uploads.min_part_size, uploads.max_parts)
        stream, identity = await self._open_source(item)
        record = await self._upload_for(item, stream, identity, part_size)
        running = RunningDigests(md5=False)
        part_md5s: list[bytes] = []
        sender = _PartSender(self, uploads, item.key, record, progress)
        try:
            reader = PartReader.of(stream, part_size)
            while True:
                held = await self._budget.acquire(part_size)
                buffer = self._pool.take(part_size)
                try:
                    part = await reader.next_part(buffer)
                    md5 = await sha256_and_part_md5(running, part) if part is not None else b""
                except BaseException:
                    self._release(held, buffer)
                    raise
                if part is None:
                    self._release(held, buffer)
                    break
                part_md5s.append(md5)
                await sender.send(len(part_md5s), part, md5, _Held(held, buffer))  # it owns the buffer now
            if running.size != stream.info.size:
                raise SourceTruncated(f"{item.key!r}: the source sent {running.size} of {stream.info.size} bytes")
            await sender.drain()
        except SourceChanged:
            await self._forget_upload(item.key, record.upload_id)
            raise
        except Exception:
            await sender.settle()  # parts already on their way are worth recording for the next attempt
            raise
        finally:
            await sender.cancel()
        parts = [UploadedPart(n, record.parts[n].etag) for n in range(1, len(part_md5s) + 1)]
        completed = await uploads.complete(item.key, record.upload_id, parts)
        # Completed uploads are gone: if verification fails now, the next attempt starts a new one.
        self._journal.drop_upload(item.key)
        sha256 = running.sha256.hexdigest()
        dst_etag = normalise_etag(completed.etag)
        verified_by = await self._verify(item.key, identity.size, sha256, dst_etag, composite_etag(part_md5s))
        return Copied(identity, identity.size, sha256, verified_by, dst_etag, sender.uploaded, sender.reused)


    def _release(self, held: int, buffer: bytearray) -> None:
        self._pool.give(buffer)
        self._budget.release(held)

    async def _forget_upload(self, key: str, upload_id: str) -> None:
        assert self._uploads is not None
        self._journal.drop_upload(key)
        try:
            await self._uploads.abort(key, upload_id)
        except Exception:  # best effort: the journal no longer points at it, which is what matters
            return


@dataclass(frozen=True, slots=True)
class _Held:
    """What a part in flight holds until it is acknowledged: its share of the budget and its buffer."""

    amount: int
    buffer: bytearray


class _PartSender:
    """Parts in flight for one upload, at most ``part_concurrency``; each holds its memory until acknowledged."""

    def __init__(self, copier: ObjectCopier, uploads: ResumableUploads, key: str, record: UploadRecord,
                 progress: ProgressFn) -> None:
        self._copier = copier
        self._uploads = uploads
        self._key = key
        self._record = record
        self._progress = progress
        self._slots = asyncio.Semaphore(copier._settings.part_concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self.uploaded = 0
        self.reused = 0

    async def send(self, number: int, part: memoryview, md5: bytes, held: _Held) -> None:
        known = self._record.parts.get(number)
        if known is not None and known.md5 == md5.hex() and known.size == len(part):
            self._copier._release(held.amount, held.buffer)
            self.reused += 1
            self._progress(len(part))
            return
        if known is not None:
            self._copier._release(held.amount, held.buffer)
            raise SourceChanged(f"{self._key!r}: part {number} differs from the one uploaded before")
        try:
            self._raise_failures()
            await self._slots.acquire()
        except BaseException:
            self._copier._release(held.amount, held.buffer)
            raise
        task = asyncio.create_task(self._put(number, part, md5, held))
        self._tasks.add(task)

    async def _put(self, number: int, part: memoryview, md5: bytes, held: _Held) -> None:
        try:
            result = await self._uploads.put_part(self._key, self._record.upload_id, number, part, md5=md5)
            if is_plain_md5(result.etag) and result.etag != md5.hex():
                raise VerificationFailed(f"{self._key!r}: part {number} arrived with MD5 {result.etag}, "
                                         f"sent {md5.hex()}")
            recorded = PartRecord(number, len(part), md5.hex(), result.etag)
            self._copier._journal.record_part(self._key, self._record.upload_id, recorded)
            self._record.parts[number] = recorded
            self.uploaded += 1
            self._progress(len(part))
        finally:
            self._copier._release(held.amount, held.buffer)
            self._slots.release()

    def _raise_failures(self) -> None:
        for task in [t for t in self._tasks if t.done()]:
            self._tasks.discard(task)
            task.result()

    async def drain(self) -> None:
        while self._tasks:
            done, _ = await asyncio.wait(self._tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                self._tasks.discard(task)
                task.result()

    async def settle(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def cancel(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
