"""Resuming: part by part after a failed attempt, and after `kill -9` at random moments of real runs."""

from __future__ import annotations

import hashlib
import json
import os
import random
import sqlite3
import time
from pathlib import Path

import pytest

from hashigo.ops.migrate.storage.journal import Journal, PartRecord, SourceIdentity
from hashigo.storage import ObjectStore
from tests.harness.objectstores import S3Server
from tests.ops.migrate.storage.faults import BreakingSource, as_store
from tests.ops.migrate.storage.helpers import (
    MIB,
    cli_env,
    contents,
    hashigo,
    hashigo_popen,
    local_side,
    migrate,
    pattern,
    s3_side,
)

BIG = pattern(23 * MIB + 17, 11)  # five 5 MiB parts


@pytest.mark.parametrize("where", ["local", "s3-moto", "s3-rclone"])
async def test_uploaded_parts_are_not_sent_again(where: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    source = local_side(tmp_path / "src").open()
    await source.put("big.bin", BIG, content_type="application/x-big")
    if where == "local":
        destination = local_side(tmp_path / "dst").open()
    else:
        destination = s3_side(request.getfixturevalue("s3_server" if where == "s3-moto" else "rclone_server"),
                              where).open()
    journal = tmp_path / "journal.sqlite"
    # The source breaks 12 MiB in, with one part still being assembled: parts 1 and 2 are up, 3 is not.
    breaking = BreakingSource(source, after=12 * MIB, times=1)
    first = await migrate(as_store(breaking), destination, journal, retries=0)
    assert [f.key for f in first.failures] == ["big.bin"] and first.parts_uploaded == 0
    with sqlite3.connect(journal) as db:
        assert db.execute("SELECT COUNT(*) FROM parts WHERE key = 'big.bin'").fetchone()[0] == 2

    second = await migrate(source, destination, journal)

    assert second.ok, second.failures
    assert (second.parts_reused, second.parts_uploaded) == (2, 3)
    assert await contents(destination) == {"big.bin": BIG}
    assert (await destination.head("big.bin")).content_type == "application/x-big"
    with sqlite3.connect(journal) as db:
        assert db.execute("SELECT COUNT(*) FROM uploads").fetchone()[0] == 0


def _dataset(folder: Path, rng: random.Random) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for index in range(300):
        key = f"u{index % 7}/ファイル {index:03d}/ñ-{index}.bin"
        files[key] = rng.randbytes(rng.randint(0, 40_000))
    for index in range(3):
        files[f"large/大きい-{index}.bin"] = rng.randbytes(11 * MIB + index)
    for key, data in files.items():
        path = folder / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


def _done_rows(journal: Path) -> list[tuple[str, str]]:
    if not journal.exists():
        return []
    with sqlite3.connect(journal) as db:
        return db.execute("SELECT key, sha256 FROM objects WHERE state = 'done'").fetchall()


async def _check_done_rows_are_true(journal: Path, store: ObjectStore, files: dict[str, bytes],
                                    rng: random.Random) -> int:
    """Objects the journal calls done are at the destination, byte for byte (all large ones, some small)."""
    rows = _done_rows(journal)
    for key, sha256 in rows:
        assert sha256 == hashlib.sha256(files[key]).hexdigest(), key
    sample = [key for key, _ in rows if key.startswith("large/")] + rng.sample([k for k, _ in rows], min(30, len(rows)))
    for key in sample:
        assert await (await store.get(key)).read() == files[key], f"{key} recorded done but not intact"
    return len(rows)


def _has_open(pid: int, path: Path) -> bool:
    try:
        return any(os.readlink(link) == str(path) for link in Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False


def _run_and_kill(args: tuple[str, ...], env: dict[str, str], cwd: Path, journal: Path, delay: float) -> None:
    """Start a run, wait until it is working (it has the journal open), let it go on for ``delay``, kill -9."""
    process = hashigo_popen(*args, env=env, cwd=cwd)
    deadline = time.monotonic() + 60
    while not _has_open(process.pid, journal) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(delay)
    process.kill()
    process.wait()


@pytest.mark.timeout(240)
async def test_kill_minus_nine_at_random_moments_then_resume(rclone_server: S3Server, tmp_path: Path) -> None:
    seed = int(time.time())
    rng = random.Random(seed)
    files = _dataset(tmp_path / "src", rng)
    source, destination = local_side(tmp_path / "src"), s3_side(rclone_server, "s3")
    env, journal = cli_env(source, destination), tmp_path / "journal.sqlite"
    args = ("migrate", "storage", source.url, destination.url, "--journal", str(journal), "--part-size", "5MiB",
            "--multipart-threshold", "5MiB", "--concurrency", "4", "--part-concurrency", "2")
    store = destination.open()
    done_counts = []
    for _ in range(6):
        _run_and_kill(args, env, tmp_path, journal, rng.uniform(0.0, 0.6))
        done_counts.append(await _check_done_rows_are_true(journal, store, files, rng))

    final = hashigo(*args, "--json", env=env, cwd=tmp_path)
    assert final.returncode == 0, (seed, final.returncode, final.stderr,
                                   json.loads(final.stdout)["failures"] if final.stdout.strip() else None)
    assert await contents(store) == files, f"seed {seed}"
    assert await _check_done_rows_are_true(journal, store, files, rng) == len(files)
    checked = hashigo("migrate", "storage", "verify", source.url, destination.url, env=env, cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "no differences" in checked.stdout
    print(f"\nseed {seed}: objects recorded done after each kill: {done_counts}")


async def test_an_upload_that_cannot_be_resumed_is_started_again(s3_server: S3Server, tmp_path: Path) -> None:
    """The journal names an upload the store no longer knows (moto answers 500, not NoSuchUpload):
    after two failed attempts to resume it, the copy starts a new upload and succeeds."""
    source = local_side(tmp_path / "src").open()
    await source.put("big.bin", BIG)
    destination = s3_side(s3_server, "s3-moto").open()
    journal_path = tmp_path / "journal.sqlite"
    listed = await anext(aiter(source.list()))
    journal = Journal(journal_path, "test-source", "test-destination")
    journal.start_upload("big.bin", "no-such-upload-id", 5 * MIB, SourceIdentity.of(listed))
    first_part = hashlib.md5(BIG[: 5 * MIB]).hexdigest()  # matches: part 1 counts as already uploaded
    journal.record_part("big.bin", "no-such-upload-id", PartRecord(1, 5 * MIB, first_part, first_part))
    journal.close()

    report = await migrate(source, destination, journal_path, retries=3)

    assert report.ok, report.failures
    assert report.retries == 2 and report.parts_uploaded == 5
    assert await contents(destination) == {"big.bin": BIG}
