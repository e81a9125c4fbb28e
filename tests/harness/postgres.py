"""PostgreSQL for the tests: HASHIGO_TEST_POSTGRES_URL → a private instance (initdb) → loud skip."""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from tests.harness.base import ServerProcess, find_executable, free_port, missing_server

INSTALL_HINT = ("install PostgreSQL (`apt-get install postgresql`) or set HASHIGO_TEST_POSTGRES_URL="
                "postgresql://user@host:5432/db")


def _bin_dirs() -> list[str]:
    return sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)


class PrivatePostgres:
    """A throwaway cluster in a temp dir; tests may stop and restart it."""

    def __init__(self) -> None:
        initdb = find_executable("initdb", *_bin_dirs())
        postgres = find_executable("postgres", *_bin_dirs())
        if initdb is None or postgres is None:
            raise FileNotFoundError("initdb/postgres not found")
        self.root = Path(tempfile.mkdtemp(prefix="hashigo-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        user = "postgres" if os.geteuid() == 0 else None  # PostgreSQL refuses to run as root
        if user:
            os.chmod(self.root, 0o755)
            shutil.chown(self.root, user)
        prefix = ["runuser", "-u", user, "--"] if user else []
        subprocess.run([*prefix, initdb, "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync",
                        "-E", "UTF8", "--locale=C"], check=True, capture_output=True)
        self.server = ServerProcess(
            "postgres",
            [postgres, "-D", str(self.data), "-p", str(self.port), "-k", str(self.root),
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=200"],
            self.port, self.root / "postgres.log", preexec_user=user,
            stop_signal=signal.SIGINT,  # fast shutdown: a smart one waits for every client to leave
        )
        self.server.start()

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def close(self) -> None:
        self.server.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """An admin URL (libpq style) of a PostgreSQL server the tests may create databases on."""
    given = os.environ.get("HASHIGO_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    try:
        private = PrivatePostgres()
    except (FileNotFoundError, subprocess.CalledProcessError, RuntimeError) as exc:
        missing_server("postgresql", f"{INSTALL_HINT} ({exc})")
        return
    try:
        yield private.url
    finally:
        private.close()


def _admin(url: str, statement: str) -> None:
    async def run() -> None:
        conn = await asyncpg.connect(url, timeout=10)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(run())


@pytest.fixture
def pg_database(postgres_url: str) -> Iterator[str]:
    """A fresh, empty database for one test, dropped afterwards. Returns a libpq-style URL."""
    name = f"hashigo_test_{uuid.uuid4().hex[:12]}"
    _admin(postgres_url, f'CREATE DATABASE "{name}"')
    base, _, _ = postgres_url.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        _admin(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
