"""Resumable multipart uploads into a local folder: parts are files under ``<root>/.hashigo-uploads/<id>/``.

Completing concatenates them into one staging file in the same folder tree and renames it over the
object (atomic on one filesystem), then writes the attributes sidecar, as ``put`` does. A process
killed at any point leaves either the old object or the new one, never a mix; the upload folder
stays until the upload is completed or aborted. Keys cannot start with ``.hashigo``, so no key
reaches the upload folders, and listing hides them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import obstore

from hashigo.storage.attributes import encode_attributes
from hashigo.storage.keys import validate_key
from hashigo.storage.multipart import CompletedUpload, UploadedPart, UploadNotFound
from hashigo.storage.protocol import StorageError

if TYPE_CHECKING:
    from hashigo.storage.local import LocalAdapter

UPLOADS_DIR = ".hashigo-uploads"
_ID = re.compile(r"^[0-9a-f]{32}$")
_COPY_CHUNK = 8 * 1024 * 1024


class LocalResumableUploads:
    min_part_size = 1
    max_parts = 100_000

    def __init__(self, adapter: LocalAdapter, root: Path) -> None:
        self._adapter = adapter
        self._root = root

    def _folder(self, key: str, upload_id: str) -> Path:
        if not _ID.match(upload_id):
            raise UploadNotFound(key, upload_id)
        return self._root / UPLOADS_DIR / upload_id

    def _manifest(self, key: str, upload_id: str) -> dict[str, str]:
        try:
            record = json.loads((self._folder(key, upload_id) / "manifest.json").read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            raise UploadNotFound(key, upload_id) from None
        if record.get("key") != key:
            raise StorageError(f"upload {upload_id!r} belongs to {record.get('key')!r}, not {key!r}")
        return {str(k): str(v) for k, v in record.get("attributes", {}).items()}

    async def create(
        self,
        key: str,
        *,
        content_type: str | None = None,
        cache_control: str | None = None,
        content_disposition: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> str:
        validate_key(key)
        attributes = dict(encode_attributes(content_type, cache_control, content_disposition, metadata))
        upload_id = uuid.uuid4().hex

        def work() -> None:
            folder = self._folder(key, upload_id)
            folder.mkdir(parents=True)
            _write_atomic(folder / "manifest.json",
                          json.dumps({"key": key, "attributes": attributes}, ensure_ascii=False).encode())

        await asyncio.to_thread(work)
        return upload_id

    async def put_part(self, key: str, upload_id: str, number: int, data: bytes | memoryview,
                       *, md5: bytes | None = None) -> UploadedPart:
        validate_key(key)
        if not 1 <= number <= self.max_parts:
            raise StorageError(f"part number {number} is out of range; accepted: 1..{self.max_parts}")

        def work() -> None:
            self._manifest(key, upload_id)
            _write_atomic(self._folder(key, upload_id) / f"part-{number:06d}", data)

        await asyncio.to_thread(work)
        return UploadedPart(number, md5.hex() if md5 is not None else None)

    async def complete(self, key: str, upload_id: str, parts: Sequence[UploadedPart]) -> CompletedUpload:
        validate_key(key)
        numbers = [part.number for part in sorted(parts, key=lambda p: p.number)]
        if numbers != list(range(1, len(numbers) + 1)):
            raise StorageError(f"upload {upload_id!r}: parts must be numbered 1..n without gaps, got {numbers[:20]}")

        def assemble() -> dict[str, str]:
            attributes = self._manifest(key, upload_id)
            folder = self._folder(key, upload_id)
            with (folder / "data").open("wb") as out:
                for number in numbers:
                    try:
                        with (folder / f"part-{number:06d}").open("rb") as part:
                            shutil.copyfileobj(part, out, _COPY_CHUNK)
                    except FileNotFoundError:
                        raise StorageError(f"upload {upload_id!r} has no part {number}") from None
            return attributes

        attributes = await asyncio.to_thread(assemble)
        raw = self._adapter._store
        staged = f"{UPLOADS_DIR}/{upload_id}/data"
        await self._adapter._bounded("complete", key, obstore.rename_async(raw, staged, key))
        meta = await self._adapter._bounded("complete", key, obstore.head_async(raw, key))
        await self._adapter._after_write(key, meta.get("e_tag"), attributes)
        await self.abort(key, upload_id)
        return CompletedUpload(None)

    async def abort(self, key: str, upload_id: str) -> None:
        if _ID.match(upload_id):
            await asyncio.to_thread(shutil.rmtree, self._root / UPLOADS_DIR / upload_id, True)

    async def close(self) -> None:
        return None


def _write_atomic(path: Path, data: bytes | memoryview) -> None:
    temp = path.with_name(f".tmp-{path.name}-{uuid.uuid4().hex[:8]}")
    try:
        with temp.open("wb") as handle:
            handle.write(data)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise
