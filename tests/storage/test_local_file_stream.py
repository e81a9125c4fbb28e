"""The local store's direct-read body (``readinto``), which `migrate storage` cuts into parts without the
chunks' copy: the same bytes as the chunked body, an end that stays ended, and a replaced file refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hashigo.ops.migrate.storage.parts import BufferPool, PartReader
from hashigo.settings import StorageSettings
from hashigo.storage import ByteRange, ObjectStore, StorageError, open_object_store


def _store(root: Path) -> ObjectStore:
    return open_object_store(StorageSettings(url=f"file://{root}"))


async def _parts(store: ObjectStore, key: str, part_size: int) -> list[bytes]:
    stream = await store.get(key)
    reader, pool, parts = PartReader.of(stream, part_size), BufferPool(), []
    while (part := await reader.next_part(pool.take(part_size))) is not None:
        parts.append(bytes(part))
    assert await reader.next_part(pool.take(part_size)) is None  # the end stays the end
    return parts


@pytest.mark.parametrize("size", [1, 4096, 3 * 4096, 3 * 4096 + 17])
async def test_direct_reads_give_the_same_parts_as_the_chunks(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    store = _store(tmp_path)
    await store.put("dir/ファイル.bin", data)

    stream = await store.get("dir/ファイル.bin")
    assert callable(getattr(stream, "readinto", None))
    parts = await _parts(store, "dir/ファイル.bin", 4096)

    assert b"".join(parts) == data
    assert [len(p) for p in parts[:-1]] == [4096] * (len(parts) - 1) and 0 < len(parts[-1]) <= 4096
    chunked = b"".join([chunk async for chunk in await store.get("dir/ファイル.bin")])
    assert chunked == data


async def test_a_file_replaced_after_get_is_refused(tmp_path: Path) -> None:
    store = _store(tmp_path)
    await store.put("a.bin", b"x" * 10_000)
    stream = await store.get("a.bin")
    replacement = tmp_path / "a.new"
    replacement.write_bytes(b"y" * 10_000)  # same size, another inode: only the identity check tells
    os.replace(replacement, tmp_path / "a.bin")

    reader = PartReader.of(stream, 4096)
    with pytest.raises(StorageError, match="changed since it was opened"):
        await reader.next_part(bytearray(4096))


async def test_ranges_and_empty_objects_keep_the_chunked_body(tmp_path: Path) -> None:
    store = _store(tmp_path)
    await store.put("empty", b"")
    await store.put("a.bin", b"abcdef")
    assert getattr(await store.get("empty"), "readinto", None) is None
    ranged = await store.get("a.bin", byte_range=ByteRange(1, 3))
    assert getattr(ranged, "readinto", None) is None
    assert await ranged.read() == b"bc"
