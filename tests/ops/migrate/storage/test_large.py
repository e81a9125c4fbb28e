"""A 256 MiB object up to the S3 server and back down, each way in a real `hashigo` process whose
peak memory is measured: it must stay far below the object's size (streaming, bounded buffers)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.harness.objectstores import S3Server
from tests.ops.migrate.storage.helpers import MIB, Side, cli_env, local_side, s3_side

SIZE = 256 * MIB
def measured(args: list[str], env: dict[str, str], cwd: Path) -> tuple[dict[str, object], int]:
    """Run `hashigo` and watch its VmHWM (peak RSS) from here until it exits. Not ru_maxrss: Linux carries
    that over from the parent (pytest, large) across fork and exec."""
    with (cwd / "out.json").open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "hashigo", *args, "--json"], env=env, cwd=cwd, stdout=out,
                                   stderr=subprocess.PIPE, text=True)
    peak = 0
    while process.poll() is None:
        try:
            status = Path(f"/proc/{process.pid}/status").read_text()
            peak = max(peak, int(status.split("VmHWM:")[1].split()[0]) * 1024)
        except (OSError, IndexError):
            pass
        time.sleep(0.02)
    assert process.returncode == 0, process.stderr.read() if process.stderr else ""
    return json.loads((cwd / "out.json").read_text()), peak


def write_random(path: Path, size: int) -> str:
    digest = hashlib.sha256()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        for _ in range(size // MIB):
            block = os.urandom(MIB)
            digest.update(block)
            handle.write(block)
    return digest.hexdigest()


@pytest.mark.timeout(300)
def test_large_object_streams_with_bounded_memory(rclone_server: S3Server, tmp_path: Path) -> None:
    expected = write_random(tmp_path / "src" / "video" / "big.bin", SIZE)
    (tmp_path / "tiny" / "t.txt").parent.mkdir()
    (tmp_path / "tiny" / "t.txt").write_bytes(b"tiny")
    bucket = s3_side(rclone_server, "s3")
    tight = ["--part-size", "8MiB", "--part-concurrency", "2"]
    # What the same command needs for a tiny object: the interpreter and its imports.
    tiny = local_side(tmp_path / "tiny")
    _, baseline = measured(["migrate", "storage", tiny.url, s3_side(rclone_server, "s3").url, *tight],
                           cli_env(tiny, bucket), tmp_path)

    source = local_side(tmp_path / "src")
    up, up_peak = measured(["migrate", "storage", source.url, bucket.url, *tight], cli_env(source, bucket), tmp_path)
    back = Side("local", f"file://{tmp_path}/back", source.settings)
    down, down_peak = measured(["migrate", "storage", bucket.url, back.url, *tight, "--verify", "read-back"],
                               cli_env(bucket, back), tmp_path)

    assert up["copied_bytes"] == SIZE and up["verified_by"] == {"multipart-md5-etag": 1}
    assert down["verified_by"] == {"read-back-sha256": 1}
    digest = hashlib.sha256()
    with (tmp_path / "back" / "video" / "big.bin").open("rb") as handle:
        while block := handle.read(8 * MIB):
            digest.update(block)
    assert digest.hexdigest() == expected
    print(f"\npeak RSS: baseline {baseline / MIB:.0f} MiB, up {up_peak / MIB:.0f} MiB, down {down_peak / MIB:.0f} MiB "
          f"for a {SIZE / MIB:.0f} MiB object")
    for peak in (up_peak, down_peak):
        assert peak - baseline < 96 * MIB, f"grew by {(peak - baseline) / MIB:.0f} MiB over the baseline"
        assert peak < SIZE * 3 // 4
