"""The reference service under test, on two profiles: embedded defaults, and PostgreSQL + Redis + S3.

``api`` runs the app in-process (httpx over ASGI, lifespan included); ``live_service`` runs
`hashigo serve` as a real process on a free port, so tests can use real HTTP and WebSockets
and kill it mid-request.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from hashigo.db import migrate_schema
from hashigo.runtime import Runtime
from hashigo.service.app import create_app
from hashigo.settings import load_settings
from tests.harness.base import free_port
from tests.harness.objectstores import S3Server

PROFILES = ("embedded", "servers")


def profile_environment(profile: str, request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """The environment a user would set for ``profile``; only URLs and credentials differ."""
    env = {"HASHIGO_DATA_DIR": str(tmp_path / "data"), "LOG_LEVEL": "WARNING",
           "SECRET_KEY": "test-secret-" + "k" * 40}
    if profile == "embedded":
        return env
    s3: S3Server = request.getfixturevalue("s3_server")
    env.update({
        "DATABASE_URL": request.getfixturevalue("pg_database"),
        "REDIS_URL": request.getfixturevalue("redis_url"),
        "STORAGE_URL": f"s3://{s3.bucket}/service-{tmp_path.name}",
        "STORAGE_ENDPOINT_URL": s3.endpoint, "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": s3.access_key, "AWS_SECRET_ACCESS_KEY": s3.secret_key,
    })
    return env


@pytest.fixture(params=PROFILES)
def service_env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    return profile_environment(request.param, request, tmp_path)


@dataclass
class Api:
    """The app in-process: ``client`` speaks HTTP to it, ``runtime`` reaches its backends directly."""

    app: FastAPI
    client: httpx.AsyncClient
    runtime: Runtime


@pytest.fixture
async def api(service_env: dict[str, str], tmp_path: Path) -> AsyncIterator[Api]:
    async with running_api(service_env, tmp_path) as opened:
        yield opened


class running_api:
    def __init__(self, env: Mapping[str, str], cwd: Path, *, client_host: str = "127.0.0.1") -> None:
        self.settings = load_settings(env, env_file=None, cwd=cwd)
        self.client_host = client_host

    async def __aenter__(self) -> Api:
        await asyncio.to_thread(migrate_schema.upgrade, self.settings.database, "head")
        self.runtime = Runtime.open(self.settings)
        self.app = create_app(runtime=self.runtime)
        self._lifespan = self.app.router.lifespan_context(self.app)
        await self._lifespan.__aenter__()
        transport = httpx.ASGITransport(app=self.app, client=(self.client_host, 50000))
        self.client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        return Api(self.app, self.client, self.runtime)

    async def __aexit__(self, *exc: object) -> None:
        try:
            await self.client.aclose()
            await self._lifespan.__aexit__(None, None, None)
        finally:
            await self.runtime.aclose()


class LiveService:
    """`hashigo serve` in its own process, its output in ``log_path``."""

    def __init__(self, env: Mapping[str, str], cwd: Path, *, port: int | None = None) -> None:
        self.port = port or free_port()
        self.env = {**os.environ, **env, "HASHIGO_PORT": str(self.port), "HASHIGO_HOST": "127.0.0.1"}
        self.env.pop("HASHIGO_TEST_REQUIRE_SERVERS", None)
        self.cwd = cwd
        self.log_path = cwd / f"serve-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> LiveService:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "hashigo", "serve", "--migrate"], env=self.env,
                                     cwd=self.cwd, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"hashigo serve exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/openapi.json", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"hashigo serve did not answer within {timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no cleanup — a crash."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def live_service(service_env: dict[str, str], tmp_path: Path) -> Iterator[LiveService]:
    service = LiveService(service_env, tmp_path).start()
    try:
        yield service
    finally:
        service.stop()
