"""The small parts of `migrate storage` on their own: part sizes, part cutting, memory budget, filters,
sizes, checksums, the journal."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer

from hashigo.errors import ConfigError
from hashigo.ops.migrate.storage.budget import MemoryBudget
from hashigo.ops.migrate.storage.checksums import composite_etag, is_multipart_etag, is_plain_md5, sha256_and_md5
from hashigo.ops.migrate.storage.cli_support import parse_size
from hashigo.ops.migrate.storage.filters import KeyFilter
from hashigo.ops.migrate.storage.journal import Journal, PartRecord, SourceIdentity, normalise_etag
from hashigo.ops.migrate.storage.parts import MIB, BufferPool, PartReader, choose_part_size
from hashigo.storage import ObjectInfo


def test_part_size_respects_minimum_and_part_count() -> None:
    assert choose_part_size(100 * MIB, 16 * MIB, 5 * MIB, 10_000) == 16 * MIB
    assert choose_part_size(100 * MIB, 1 * MIB, 5 * MIB, 10_000) == 5 * MIB
    # 5 TiB in at most 10,000 parts: 524.288 MiB, rounded up to whole MiB.
    assert choose_part_size(5 * 1024**4, 16 * MIB, 5 * MIB, 10_000) == 525 * MIB
    assert choose_part_size(10, 3, 1, 100_000) == 3


async def _chunks(*sizes: int) -> AsyncIterator[bytes]:
    for index, size in enumerate(sizes):
        yield bytes([index % 251]) * size


async def test_part_reader_cuts_exact_parts_from_any_chunks() -> None:
    sizes = (1, 7, 3, 10, 0, 4, 2)
    expected = b"".join(bytes([i % 251]) * n for i, n in enumerate(sizes))
    reader, pool, parts = PartReader(_chunks(*sizes), 5), BufferPool(), []
    while (part := await reader.next_part(pool.take(5))) is not None:
        parts.append(bytes(part))
    assert parts == [expected[i:i + 5] for i in range(0, len(expected), 5)]
    assert [len(p) for p in parts] == [5, 5, 5, 5, 5, 2]


def test_buffer_pool_hands_buffers_out_again() -> None:
    pool = BufferPool()
    first = pool.take(8)
    pool.give(first)
    assert pool.take(8) is first
    assert pool.take(8) is not first
    assert len(pool.take(4)) == 4


async def test_memory_budget_waits_in_order_and_survives_cancellation() -> None:
    budget = MemoryBudget(10)
    assert await budget.acquire(6) == 6
    order: list[str] = []

    async def wants(name: str, amount: int) -> None:
        got = await budget.acquire(amount)
        order.append(name)
        budget.release(got)

    big = asyncio.create_task(wants("big", 8))
    small = asyncio.create_task(wants("small", 2))
    cancelled = asyncio.create_task(wants("cancelled", 5))
    await asyncio.sleep(0)
    cancelled.cancel()
    budget.release(6)
    await asyncio.gather(big, small, return_exceptions=True)
    assert order == ["big", "small"]  # first come, first served, even though "small" would have fit
    assert budget.used == 0 and budget.peak == 10
    assert await budget.acquire(50) == 10  # bigger than the whole budget: clamped, alone


def test_key_filter() -> None:
    key_filter = KeyFilter.build("photos/", ["*.jpg", "raw/*"], ["*/private/*"])
    assert key_filter.prefix == "photos"
    assert key_filter.matches("photos/a.jpg")
    assert key_filter.matches("photos/x/y/b.jpg")
    assert not key_filter.matches("photos/a.png")
    assert not key_filter.matches("photosx/a.jpg")
    assert not key_filter.matches("photos/private/c.jpg")
    assert KeyFilter().matches("anything/at/all")
    with pytest.raises(ConfigError, match="--prefix"):
        KeyFilter.build("a//b", None, None)
    with pytest.raises(ConfigError, match="--exclude"):
        KeyFilter.build(None, None, [" x"])


@pytest.mark.parametrize(("text", "size"), [("16MiB", 16 * MIB), ("16M", 16 * MIB), ("1.5GiB", 3 * 512 * MIB),
                                            ("4096", 4096), ("64kb", 64 * 1024), ("1 t", 1024**4)])
def test_parse_size(text: str, size: int) -> None:
    assert parse_size("--x", text) == size


@pytest.mark.parametrize("text", ["", "big", "-1", "5 parsecs", "0"])
def test_parse_size_refuses(text: str) -> None:
    with pytest.raises(typer.Exit) as caught:
        parse_size("--x", text)
    assert caught.value.exit_code == 2


async def test_checksums() -> None:
    data = bytes(range(256)) * 5000
    assert await sha256_and_md5(data) == (hashlib.sha256(data).hexdigest(), hashlib.md5(data).hexdigest())
    parts = [hashlib.md5(b"a").digest(), hashlib.md5(b"b").digest()]
    assert composite_etag(parts) == hashlib.md5(parts[0] + parts[1]).hexdigest() + "-2"
    assert is_plain_md5(hashlib.md5(b"").hexdigest()) and not is_plain_md5("0x1234") and not is_plain_md5(None)
    assert is_multipart_etag(composite_etag(parts)) and not is_multipart_etag(hashlib.md5(b"").hexdigest())
    assert normalise_etag('W/"abc"') == "abc" and normalise_etag('""') is None


def _info(key: str, size: int, etag: str) -> ObjectInfo:
    return ObjectInfo(key=key, size=size, last_modified=datetime(2025, 1, 1, tzinfo=UTC), etag=etag)


def test_journal_keeps_only_what_was_committed_and_refuses_other_runs(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    journal = Journal(path, "file:///a", "s3://b")
    first = SourceIdentity.of(_info("k", 3, '"e1"'))
    journal.record_done("k", first, "sha", "md5-etag", "e1", 1)
    journal.start_upload("big", "upload-1", 5 * MIB, SourceIdentity.of(_info("big", 11 * MIB, "e2")))
    journal.record_part("big", "upload-1", PartRecord(1, 5 * MIB, "md5-1", "etag-1"))
    journal.commit()
    journal.record_done("uncommitted", first, "sha", "md5-etag", None, 1)
    journal._db.close()  # no commit: as a kill -9 leaves it (SQLite rolls the open transaction back)

    again = Journal(path, "file:///a", "s3://b")
    assert again.is_done("k", first)
    assert not again.is_done("k", SourceIdentity(3, "e2", first.mtime))  # a changed source is not done
    assert "uncommitted" not in again.done
    record = again.upload("big")
    assert record is not None and record.upload_id == "upload-1" and record.parts[1].etag == "etag-1"
    again.drop_upload("big")
    assert again.upload("big") is None
    again.close()
    with pytest.raises(ConfigError, match="belongs to file:///a → s3://b"):
        Journal(path, "file:///a", "s3://other")
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
