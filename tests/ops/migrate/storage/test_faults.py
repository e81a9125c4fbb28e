"""Damaged destinations and sources that break mid-stream: detected, retried or failed loudly, never
recorded as copied."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hashigo.ops.migrate.storage.filters import KeyFilter
from hashigo.ops.migrate.storage.report import MigrationReport
from hashigo.ops.migrate.storage.verify import VerifyReport, run_verify
from hashigo.storage import ObjectNotFound, ObjectStore, open_object_store
from tests.harness.objectstores import S3Server
from tests.ops.migrate.storage.faults import BreakingSource, SpoilingDestination, as_store
from tests.ops.migrate.storage.helpers import MIB, contents, local_side, migrate, pattern, s3_side
from tests.ops.migrate.storage.proxy import CuttingProxy

SMALL = {"a.txt": pattern(40_000, 1), "dir/b.bin": pattern(300_000, 2)}


def done_keys(journal: Path) -> set[str]:
    with sqlite3.connect(journal) as db:
        return {row[0] for row in db.execute("SELECT key FROM objects WHERE state = 'done'")}


async def seeded_local(tmp_path: Path, objects: dict[str, bytes]) -> ObjectStore:
    store = local_side(tmp_path / "src").open()
    for key, data in objects.items():
        await store.put(key, data)
    return store


@pytest.mark.parametrize("how", ["flip", "truncate"])
async def test_destination_that_always_damages_fails_loudly(how: str, rclone_server: S3Server,
                                                             tmp_path: Path) -> None:
    source = await seeded_local(tmp_path, SMALL)
    real = s3_side(rclone_server, "s3").open()
    journal = tmp_path / "journal.sqlite"

    report = await migrate(source, as_store(SpoilingDestination(real, how)), journal, retries=2)  # type: ignore[arg-type]

    assert not report.ok and report.copied == 0
    assert sorted(f.key for f in report.failures) == sorted(SMALL)
    assert all(f.attempts == 3 and "SHA-256" in f.reason for f in report.failures), report.failures
    assert done_keys(journal) == set()
    # The same run against the intact store copies everything: failures are not sticky.
    again = await migrate(source, real, journal)
    assert again.ok and again.copied == len(SMALL)
    assert await contents(real) == SMALL


async def test_damage_once_is_retried_and_verified(rclone_server: S3Server, tmp_path: Path) -> None:
    source = await seeded_local(tmp_path, SMALL)
    real = s3_side(rclone_server, "s3").open()
    spoiler = SpoilingDestination(real, "flip", times=1)

    report = await migrate(source, as_store(spoiler), tmp_path / "journal.sqlite")

    assert report.ok and report.copied == len(SMALL)
    assert report.retries == 1 and len(spoiler.spoiled) == 1
    assert await contents(real) == SMALL


async def test_lying_destination_is_caught_by_read_back(rclone_server: S3Server, tmp_path: Path) -> None:
    source = await seeded_local(tmp_path, SMALL)
    real = s3_side(rclone_server, "s3").open()
    liar = SpoilingDestination(real, "lie")

    report = await migrate(source, as_store(liar), tmp_path / "journal.sqlite", verify="read-back", retries=1)

    assert report.copied == 0 and len(report.failures) == len(SMALL)
    assert done_keys(tmp_path / "journal.sqlite") == set()
    verified = await run_verify(source, real, KeyFilter(), VerifyReport("s", "d"))
    assert {d.kind for d in verified.differences} == {"content"}


async def test_part_damaged_in_transit_is_refused_and_retried(rclone_server: S3Server, tmp_path: Path) -> None:
    big = {"big.bin": pattern(11 * MIB, 7)}
    source = await seeded_local(tmp_path, big)
    real = s3_side(rclone_server, "s3").open()
    spoiler = SpoilingDestination(real, "flip", times=1)

    report = await migrate(source, as_store(spoiler), tmp_path / "journal.sqlite")

    # The part went up with the MD5 of the intact bytes: the server refused it (BadDigest).
    assert spoiler.spoiled and spoiler.spoiled[0].startswith("big.bin#part")
    assert report.ok and report.retries >= 1, report.failures
    assert await contents(real) == big


async def _through_cutting_proxy(server: S3Server, tmp_path: Path, objects: dict[str, bytes],
                                 cuts: int | None, cut_after: int) -> tuple[CuttingProxy, MigrationReport, ObjectStore]:
    seeding = s3_side(server, "s3")
    store = seeding.open()
    for key, data in objects.items():
        await store.put(key, data)
    proxy = CuttingProxy(int(server.endpoint.rsplit(":", 1)[1]), cut_after=cut_after, cuts=cuts)
    try:
        settings = seeding.settings.model_copy(update={"endpoint_url": proxy.endpoint})
        destination = local_side(tmp_path / "dst").open()
        report = await migrate(open_object_store(settings), destination, tmp_path / "journal.sqlite",
                               concurrency=1, retries=1)
    finally:
        proxy.close()
    return proxy, report, destination


async def test_source_connection_cut_mid_body_is_resumed(rclone_server: S3Server, tmp_path: Path) -> None:
    """The connection drops after 1 MiB of a response, twice; the bytes still arrive whole (obstore
    resumes a broken body with a ranged request, and the SHA-256 covers the joined stream)."""
    objects = {"whole.bin": pattern(3 * MIB, 3), "parts.bin": pattern(12 * MIB, 4), "small.txt": b"small"}
    proxy, report, destination = await _through_cutting_proxy(rclone_server, tmp_path, objects, cuts=2, cut_after=MIB)
    assert proxy.cut == 2
    assert report.ok, report.failures
    assert await contents(destination) == objects


async def test_source_connection_always_cut_fails_loudly(rclone_server: S3Server, tmp_path: Path) -> None:
    """Every connection drops after 64 KiB: more breaks than obstore's own resumption allows."""
    objects = {"whole.bin": pattern(3 * MIB, 3), "small.txt": b"small"}
    proxy, report, destination = await _through_cutting_proxy(rclone_server, tmp_path, objects, cuts=None,
                                                              cut_after=64 * 1024)
    assert proxy.cut >= 2
    assert report.copied == 1 and [f.key for f in report.failures] == ["whole.bin"]
    assert report.failures[0].attempts == 2 and "whole.bin" in report.failures[0].reason
    assert done_keys(tmp_path / "journal.sqlite") == {"small.txt"}
    with pytest.raises(ObjectNotFound):
        await destination.head("whole.bin")


async def test_source_that_always_breaks_fails_and_copies_nothing(tmp_path: Path) -> None:
    source = await seeded_local(tmp_path, {"ok.txt": b"fine", "big.bin": pattern(2 * MIB, 5),
                                           "parts.bin": pattern(11 * MIB, 6)})
    destination = local_side(tmp_path / "dst").open()
    breaking = BreakingSource(source, after=MIB)

    report = await migrate(as_store(breaking), destination, tmp_path / "journal.sqlite", retries=1)

    assert report.copied == 1
    assert sorted(f.key for f in report.failures) == ["big.bin", "parts.bin"]
    assert all("mid" in f.reason and f.attempts == 2 for f in report.failures), report.failures
    assert done_keys(tmp_path / "journal.sqlite") == {"ok.txt"}
    for key in ("big.bin", "parts.bin"):
        with pytest.raises(ObjectNotFound):
            await destination.head(key)
