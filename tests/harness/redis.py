"""Redis for the tests; see tests/harness/base.py for the order (env URL → private → loud skip).

``redis_url``      session-wide; ``HASHIGO_TEST_REDIS_URL`` when set, else a private server.
                   Tests share it, so each keeps to its own namespace.
``private_redis``  always a private server of this test alone, which the test may stop,
                   freeze (SIGSTOP) and restart to produce real outages.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness.base import ServerProcess, find_executable, free_port, missing_server

INSTALL_HINT = ("apt-get install redis-server (or brew install redis), "
                "or set HASHIGO_TEST_REDIS_URL=redis://host:port/db")


class RedisServer(ServerProcess):
    """A private ``redis-server`` without persistence, on a free port."""

    def __init__(self, executable: str, data_dir: Path) -> None:
        port = free_port()
        data_dir.mkdir(parents=True, exist_ok=True)
        super().__init__(
            "redis",
            [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(data_dir), "--daemonize", "no"],
            port,
            data_dir / "redis.log",
            start_timeout=15.0,
        )
        self.frozen = False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def freeze(self) -> None:
        """SIGSTOP: the port still accepts connections but nothing ever answers."""
        assert self.proc is not None, "redis is not running"
        os.killpg(self.proc.pid, signal.SIGSTOP)
        self.frozen = True

    def thaw(self) -> None:
        if self.proc is not None and self.frozen:
            os.killpg(self.proc.pid, signal.SIGCONT)
        self.frozen = False

    def stop(self) -> None:
        self.thaw()  # a stopped process never handles SIGTERM
        super().stop()


def _private_redis(data_dir: Path) -> RedisServer:
    executable = find_executable("redis-server", "/usr/sbin", "/usr/local/bin", "/opt/homebrew/bin")
    if executable is None:
        missing_server("redis", INSTALL_HINT)
        raise AssertionError("unreachable")  # missing_server skips or fails
    server = RedisServer(executable, data_dir)
    server.start()
    return server


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from_env = os.environ.get("HASHIGO_TEST_REDIS_URL", "").strip()
    if from_env:
        yield from_env
        return
    server = _private_redis(tmp_path_factory.mktemp("redis-shared"))
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def private_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = _private_redis(tmp_path_factory.mktemp("redis-private"))
    try:
        yield server
    finally:
        server.stop()
