"""What the object-copy benchmark needs: a data set on disk, `rclone serve s3` servers, and one
measured client run (wall time, CPU seconds from wait4, peak RSS from VmHWM)."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench._harness import REPO, SERVER_CORE, free_port, pinned

MIB = 1024 * 1024
ACCESS_KEY, SECRET_KEY = "benchaccesskey", "bench-secret-key-0123456789"
RCLONE = str(REPO / ".venv" / "bin" / "rclone")
# The package's bin/s5cmd is a Python wrapper that runs the Go binary as a child: call the binary itself,
# or peak RSS would be the wrapper's.
S5CMD = str(next((REPO / ".venv" / "lib").glob("python3*/site-packages/s5cmd/bin/s5cmd")))


@dataclass(frozen=True)
class DataSet:
    root: Path
    """The bucket folder: files live under it; it is also the S3 source's bucket."""
    objects: int
    size: int


def make_dataset(root: Path, small: int, large: int, large_min: int, large_max: int, seed: int = 42) -> DataSet:
    """``small`` files of 1-64 KiB and ``large`` files of large_min..large_max bytes, unicode names."""
    rng = random.Random(seed)
    total = 0
    for index in range(small):
        path = root / "small" / f"{index % 100:02d}" / f"ファイル-{index:05d}-é ñ.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        data = rng.randbytes(rng.randint(1024, 64 * 1024))
        path.write_bytes(data)
        total += len(data)
    block = rng.randbytes(MIB)
    for index in range(large):
        size = rng.randint(large_min, large_max)
        path = root / "large" / f"大きい-{index:02d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            written = 0
            while written < size:
                # Every MiB differs (its number up front), so no part repeats another.
                piece = (written // MIB).to_bytes(8, "big") + block[8:]
                piece = piece[: size - written]
                handle.write(piece)
                written += len(piece)
        total += size
    return DataSet(root, small + large, total)


def folder_totals(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


@dataclass
class S3Server:
    endpoint: str
    root: Path
    proc: subprocess.Popen[bytes]


@contextmanager
def rclone_s3_server(root: Path, log: Path) -> Iterator[S3Server]:
    """`rclone serve s3` over ``root`` (each subfolder is a bucket), pinned to the server core."""
    port = free_port()
    root.mkdir(parents=True, exist_ok=True)
    argv = [RCLONE, "serve", "s3", str(root), "--addr", f"127.0.0.1:{port}", "--auth-key",
            f"{ACCESS_KEY},{SECRET_KEY}", "--config", "/dev/null", "--dir-cache-time", "1s"]
    with log.open("ab") as out:
        proc = subprocess.Popen(pinned(SERVER_CORE, argv), stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                import socket

                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"rclone serve s3 did not start: {log.read_text()[-2000:]}") from None
                time.sleep(0.1)
        yield S3Server(f"http://127.0.0.1:{port}", root, proc)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@dataclass(frozen=True)
class Measured:
    wall_seconds: float
    cpu_seconds: float
    peak_rss_bytes: int
    returncode: int
    output: str


def _peak_watcher(pid: int, peak: list[int], done: threading.Event) -> None:
    while not done.is_set():
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak[0] = max(peak[0], int(line.split()[1]) * 1024)
        except (OSError, ValueError):
            return
        done.wait(0.05)


def measure(argv: list[str], env: Mapping[str, str], core: str, log: Path) -> Measured:
    """Run ``argv`` pinned to ``core``; CPU is the child's user+system time as wait4 reports it."""
    started = time.monotonic()
    with log.open("w") as out:
        proc = subprocess.Popen(pinned(core, argv), env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
    peak = [0]
    done = threading.Event()
    watcher = threading.Thread(target=_peak_watcher, args=(proc.pid, peak, done), daemon=True)
    watcher.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    done.set()
    watcher.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Measured(wall, usage.ru_utime + usage.ru_stime, peak[0], proc.returncode, log.read_text()[-4000:])


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
