"""How the test suite finds real servers.

Order: a URL from a ``HASHIGO_TEST_*`` variable, then a private instance started on
a free port, then a loud skip naming the server and how to install it. With
``HASHIGO_TEST_REQUIRE_SERVERS=1`` (CI sets it) a missing server fails instead.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

REQUIRE_SERVERS = os.environ.get("HASHIGO_TEST_REQUIRE_SERVERS", "") in {"1", "true", "yes"}


def missing_server(server: str, how_to_install: str) -> None:
    """Skip loudly (locally) or fail (CI) because a real server is not available."""
    line = f"MISSING SERVER {server}: {how_to_install}"
    if REQUIRE_SERVERS:
        pytest.fail(line + " (HASHIGO_TEST_REQUIRE_SERVERS=1 turns this skip into a failure)")
    sys.stderr.write(f"\n*** {line} ***\n")
    pytest.skip(line)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(host: str, port: int, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server process exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listened on {host}:{port} within {timeout}s")


def find_executable(name: str, *extra_dirs: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for folder in extra_dirs:
        candidate = Path(folder) / name
        if candidate.exists():
            return str(candidate)
    return None


class ServerProcess:
    """A server the tests own: they may stop and restart it to inject real outages."""

    def __init__(self, name: str, argv: Sequence[str], port: int, log_path: Path,
                 *, env: dict[str, str] | None = None, cwd: Path | None = None,
                 start_timeout: float = 30.0, preexec_user: str | None = None,
                 stop_signal: int = signal.SIGTERM) -> None:
        self.name = name
        self.argv = list(argv)
        self.port = port
        self.log_path = log_path
        self.env = env
        self.cwd = cwd
        self.start_timeout = start_timeout
        self.preexec_user = preexec_user
        self.stop_signal = stop_signal
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        # The server is our direct child (no runuser in between), so stop() waits for it.
        user = self.preexec_user if self.preexec_user and os.geteuid() == 0 else None
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                self.argv, stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=self.cwd,
                start_new_session=True, user=user, group=user,
            )
        try:
            wait_for_port("127.0.0.1", self.port, self.start_timeout, self.proc)
        except RuntimeError as exc:
            self.stop()
            tail = self.log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{self.name}: {exc}\n{tail}") from exc

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, self.stop_signal)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self.proc = None
        # The port must be free again before a restart binds it.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    time.sleep(0.1)
            except OSError:
                return

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None
