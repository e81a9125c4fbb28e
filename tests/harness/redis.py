"""Redis for the tests; see tests/harness/base.py for the order (env URL → private → loud skip).

``redis_url``      session-wide; ``HASHIGO_TEST_REDIS_URL`` when set, else a private server.
                   Tests share it, so each keeps to its own namespace.
``private_redis``  always a private server of this test alone, which the test may stop,
                   freeze (SIGSTOP) and restart to produce real outages.
``private_redis_tls``  a private server speaking only TLS and requiring a password, like
                   Upstash; its ``url`` is ``rediss://default:<pw>@localhost:N/0?ssl_ca_certs=…``.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness.base import ServerProcess, find_executable, free_port, missing_server

INSTALL_HINT = ("apt-get install redis-server (or brew install redis), "
                "or set HASHIGO_TEST_REDIS_URL=redis://host:port/db")


class RedisServer(ServerProcess):
    """A private ``redis-server`` without persistence, on a free port."""

    def __init__(self, executable: str, data_dir: Path, *, tls: TlsFiles | None = None) -> None:
        port = free_port()
        data_dir.mkdir(parents=True, exist_ok=True)
        argv = [executable, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", str(data_dir), "--daemonize", "no"]
        if tls is None:
            argv += ["--port", str(port)]
        else:
            argv += ["--port", "0", "--tls-port", str(port), "--tls-cert-file", str(tls.cert),
                     "--tls-key-file", str(tls.key), "--tls-ca-cert-file", str(tls.ca),
                     "--tls-auth-clients", "no", "--requirepass", tls.password]
        super().__init__("redis", argv, port, data_dir / "redis.log", start_timeout=15.0)
        self.tls = tls
        self.frozen = False

    @property
    def url(self) -> str:
        if self.tls is None:
            return f"redis://127.0.0.1:{self.port}/0"
        return f"rediss://default:{self.tls.password}@localhost:{self.port}/0?ssl_ca_certs={self.tls.ca}"

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


class TlsFiles:
    """A throwaway CA and a server certificate for localhost / 127.0.0.1, made with openssl."""

    def __init__(self, folder: Path) -> None:
        openssl = shutil.which("openssl")
        if openssl is None:
            missing_server("openssl (for the TLS Redis)", "apt-get install openssl")
            raise AssertionError("unreachable")
        folder.mkdir(parents=True, exist_ok=True)
        self.ca, self.cert, self.key = folder / "ca.pem", folder / "server.pem", folder / "server.key"
        self.password = secrets.token_urlsafe(16)
        ca_key, csr, ext = folder / "ca.key", folder / "server.csr", folder / "san.ext"
        ext.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        for argv in (
            [openssl, "req", "-x509", *ec, "-keyout", str(ca_key), "-out", str(self.ca), "-days", "2",
             "-subj", "/CN=hashigo test CA"],
            [openssl, "req", *ec, "-keyout", str(self.key), "-out", str(csr), "-subj", "/CN=localhost"],
            [openssl, "x509", "-req", "-in", str(csr), "-CA", str(self.ca), "-CAkey", str(ca_key),
             "-CAcreateserial", "-out", str(self.cert), "-days", "2", "-extfile", str(ext)],
        ):
            subprocess.run(argv, check=True, capture_output=True, timeout=60)


def _private_redis(data_dir: Path, *, tls: TlsFiles | None = None) -> RedisServer:
    executable = find_executable("redis-server", "/usr/sbin", "/usr/local/bin", "/opt/homebrew/bin")
    if executable is None:
        missing_server("redis", INSTALL_HINT)
        raise AssertionError("unreachable")  # missing_server skips or fails
    server = RedisServer(executable, data_dir, tls=tls)
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


@pytest.fixture
def private_redis_tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    folder = tmp_path_factory.mktemp("redis-tls")
    server = _private_redis(folder / "data", tls=TlsFiles(folder / "certs"))
    try:
        yield server
    finally:
        server.stop()
