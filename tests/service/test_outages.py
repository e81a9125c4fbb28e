"""Checklist 25: PostgreSQL or Redis down → 503 with Retry-After within the configured timeout, never a
pass, never a hang; and the same requests succeed again once the server is back, without a restart
of the service. The servers are private to each test, which stops, freezes and restarts them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
import redis
from sqlalchemy import text

from hashigo.service.deps import DbSession
from hashigo.service.kit.metrics import REGISTRY
from tests.harness.base import missing_server
from tests.harness.blackhole import Blackhole
from tests.harness.postgres import INSTALL_HINT, PrivatePostgres
from tests.harness.redis import RedisServer
from tests.harness.service import Api, LiveService, running_api
from tests.service.accounts import PASSWORD, Account, signed_in

KV_TIMEOUT = 1.0
DB_CONNECT_TIMEOUT = 2.0
DB_STATEMENT_TIMEOUT = 2.0  # the client gives up one second after the server's statement_timeout
RETRY_AFTER = "5"
# Scheduling slack on a loaded two-core machine; the point is "about the timeout", not "forever".
MARGIN = 2.5

pytestmark = pytest.mark.slow


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    try:
        server = PrivatePostgres()
    except (FileNotFoundError, RuntimeError) as exc:
        missing_server("postgresql", f"{INSTALL_HINT} ({exc})")
        raise AssertionError("unreachable") from exc
    try:
        yield server
    finally:
        thaw(server)
        server.close()


def cluster_pids(server: PrivatePostgres) -> list[int]:
    """The postmaster and its children. Each backend is its own process group (PostgreSQL calls
    setsid() in every child), so signalling the postmaster's group would miss them."""
    assert server.server.proc is not None
    postmaster = server.server.proc.pid
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        if int(fields[1]) == postmaster:
            children.append(int(stat.parent.name))
    return [postmaster, *children]


def freeze(server: PrivatePostgres) -> None:
    """SIGSTOP the whole cluster: sockets stay open, nothing answers."""
    for pid in cluster_pids(server):
        os.kill(pid, signal.SIGSTOP)


def thaw(server: PrivatePostgres) -> None:
    if server.server.proc is not None:
        for pid in cluster_pids(server):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


def persist_and_stop(server: RedisServer) -> None:
    """Stop Redis after a snapshot, as a managed Redis (with persistence) restarts: data survives."""
    client = redis.Redis.from_url(server.url)
    try:
        client.save()
    finally:
        client.close()
    server.stop()


def outage_env(tmp_path: Path, *, database_url: str | None = None, redis_url: str | None = None) -> dict[str, str]:
    env = {"HASHIGO_DATA_DIR": str(tmp_path / "data"), "LOG_LEVEL": "WARNING",
           "SECRET_KEY": "test-secret-" + "k" * 40, "KV_TIMEOUT": str(KV_TIMEOUT),
           "DATABASE_CONNECT_TIMEOUT": str(DB_CONNECT_TIMEOUT),
           "DATABASE_STATEMENT_TIMEOUT_MS": str(int(DB_STATEMENT_TIMEOUT * 1000)), "READINESS_TIMEOUT": "2",
           "RETRY_AFTER_SECONDS": RETRY_AFTER}
    if database_url:
        env["DATABASE_URL"] = database_url
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


@dataclass
class Client:
    """The app in-process with a signed-in user who owns one session with one metadata field."""

    api: Api
    account: Account
    session_id: str

    async def call(self, method: str, path: str, **kwargs: object) -> tuple[httpx.Response, float]:
        started = time.monotonic()
        response = await self.api.client.request(method, path, timeout=30.0, **kwargs)  # type: ignore[arg-type]
        return response, time.monotonic() - started

    async def me(self) -> tuple[httpx.Response, float]:
        return await self.call("GET", "/api/v1/users/me", headers=self.account.headers)

    async def meta(self) -> tuple[httpx.Response, float]:
        return await self.call("GET", f"/api/v1/sessions/{self.session_id}/meta/user_profile",
                               headers=self.account.headers)

    async def login(self) -> tuple[httpx.Response, float]:
        return await self.call("POST", "/api/v1/auth/login",
                               json={"email": self.account.email, "password": self.account.password})


@asynccontextmanager
async def open_client(env: dict[str, str], cwd: Path) -> AsyncIterator[Client]:
    async with running_api(env, cwd) as api:
        account = await signed_in(api.client)
        created = await api.client.post("/api/v1/sessions", headers=account.headers)
        assert created.status_code == 201, created.text
        session_id = created.json()["id"]
        stored = await api.client.put(f"/api/v1/sessions/{session_id}/meta/user_profile",
                                      json={"name": "Ada"}, headers=account.headers)
        assert stored.status_code == 200, stored.text
        client = Client(api, account, session_id)
        for ask in (client.me, client.meta):
            response, _ = await ask()
            assert response.status_code == 200, response.text
        yield client


def backend_errors(backend: str) -> float:
    return sum(sample.value for metric in REGISTRY.collect() if metric.name == "hashigo_backend_errors"
               for sample in metric.samples
               if sample.name.endswith("_total") and sample.labels.get("backend") == backend)


def assert_unavailable(response: httpx.Response, elapsed: float, budget: float) -> None:
    """503 with Retry-After, the stable error body, and in time."""
    assert response.status_code == 503, (response.status_code, response.text)
    assert response.headers["retry-after"] == RETRY_AFTER
    assert response.json()["code"] == "backend_unavailable"
    assert elapsed < budget + MARGIN, f"took {elapsed:.2f}s, budget {budget}s + {MARGIN}s"


async def assert_recovers(ask: Callable[[], Awaitable[tuple[httpx.Response, float]]], within: float = 10.0) -> None:
    """The service finds the backend again by itself; meanwhile nothing but 503 (never 500, never 200 early)."""
    deadline = time.monotonic() + within
    while True:
        response, _ = await ask()
        if response.status_code == 200:
            return
        assert response.status_code == 503, (response.status_code, response.text)
        assert time.monotonic() < deadline, f"still {response.status_code} {within}s after the backend returned"
        await asyncio.sleep(0.2)


async def readiness(client: Client) -> dict[str, dict[str, object]]:
    response, elapsed = await client.call("GET", "/readyz")
    assert elapsed < 2 + MARGIN
    checks: dict[str, dict[str, object]] = response.json()["checks"]
    if all(check["ok"] for check in checks.values()):
        assert response.status_code == 200
    else:
        assert response.status_code == 503 and response.headers["retry-after"] == RETRY_AFTER
    return checks


# --- PostgreSQL ----------------------------------------------------------------------------------------

async def test_postgres_stopped_refuses_then_recovers(private_postgres: PrivatePostgres, tmp_path: Path) -> None:
    env = outage_env(tmp_path, database_url=private_postgres.url)
    async with open_client(env, tmp_path) as client:
        errors_before = backend_errors("database")
        private_postgres.server.stop()
        for ask in (client.me, client.meta, client.login):
            response, elapsed = await ask()
            assert_unavailable(response, elapsed, DB_CONNECT_TIMEOUT)
        assert backend_errors("database") >= errors_before + 3  # /metrics shows the outage
        checks = await readiness(client)
        assert checks["database"]["ok"] is False and checks["database"]["error"]
        assert checks["kv"]["ok"] is True and checks["storage"]["ok"] is True
        anonymous, _ = await client.call("GET", "/api/v1/users/me")
        assert anonymous.status_code == 401  # no token is refused without asking any backend

        # Ask without pause while the server comes back: "starting up" is an outage too, never a 500.
        starting = asyncio.create_task(asyncio.to_thread(private_postgres.server.start))
        statuses = set()
        while not starting.done():
            response, _ = await client.me()
            statuses.add(response.status_code)
        await starting
        assert statuses <= {200, 503}, statuses
        for ask in (client.me, client.meta, client.login):
            await assert_recovers(ask)
        assert (await readiness(client))["database"]["ok"] is True


async def test_postgres_frozen_answers_503_in_time_then_recovers(private_postgres: PrivatePostgres,
                                                                 tmp_path: Path) -> None:
    """The hang case: the server holds its sockets open and answers nothing."""
    env = outage_env(tmp_path, database_url=private_postgres.url)
    async with open_client(env, tmp_path) as client:
        freeze(private_postgres)
        try:
            # First a pooled connection's pre-ping gives up (statement timeout + 1 s), then a new
            # connection is tried (connect timeout); after that the pool knows and only connects.
            response, elapsed = await client.me()
            assert_unavailable(response, elapsed, DB_STATEMENT_TIMEOUT + 1 + DB_CONNECT_TIMEOUT)
            response, elapsed = await client.meta()
            assert_unavailable(response, elapsed, DB_CONNECT_TIMEOUT)
            checks = await readiness(client)
            assert checks["database"]["ok"] is False
        finally:
            thaw(private_postgres)
        for ask in (client.me, client.meta):
            await assert_recovers(ask)


# --- Redis ---------------------------------------------------------------------------------------------

async def test_redis_stopped_refuses_then_recovers(private_redis: RedisServer, tmp_path: Path) -> None:
    env = outage_env(tmp_path, redis_url=private_redis.url)
    async with open_client(env, tmp_path) as client:
        errors_before = backend_errors("kv")
        persist_and_stop(private_redis)
        for ask in (client.meta, client.login):
            response, elapsed = await ask()
            assert_unavailable(response, elapsed, KV_TIMEOUT)
        assert backend_errors("kv") >= errors_before + 2
        # Authentication is in the database, so a token still proves who is asking.
        me, _ = await client.me()
        assert me.status_code == 200
        checks = await readiness(client)
        assert checks["kv"]["ok"] is False and checks["pubsub"]["ok"] is False
        assert checks["database"]["ok"] is True

        private_redis.start()
        for ask in (client.meta, client.login):
            await assert_recovers(ask)
        assert all(check["ok"] for check in (await readiness(client)).values())


async def test_redis_frozen_answers_503_in_time_then_recovers(private_redis: RedisServer, tmp_path: Path) -> None:
    env = outage_env(tmp_path, redis_url=private_redis.url)
    async with open_client(env, tmp_path) as client:
        private_redis.freeze()
        try:
            for ask in (client.meta, client.login):
                response, elapsed = await ask()
                assert_unavailable(response, elapsed, KV_TIMEOUT)
        finally:
            private_redis.thaw()
        for ask in (client.meta, client.login):
            await assert_recovers(ask)


async def test_a_login_is_never_let_through_when_the_rate_limiter_hangs(blackhole: Blackhole,
                                                                         tmp_path: Path) -> None:
    """Redis that accepts connections and never answers, from the start: the login limiter cannot
    count, so the login is refused (503), even with the right password."""
    async with running_api(outage_env(tmp_path), tmp_path) as api:
        account = await signed_in(api.client)  # made on the embedded store; the hole replaces it below
    env = outage_env(tmp_path, redis_url=f"redis://127.0.0.1:{blackhole.port}/0")
    async with running_api(env, tmp_path) as api:
        started = time.monotonic()
        response = await api.client.post("/api/v1/auth/login", timeout=30.0,
                                          json={"email": account.email, "password": account.password})
        elapsed = time.monotonic() - started
        assert_unavailable(response, elapsed, KV_TIMEOUT)
        assert "access_token" not in response.text


# --- the same over real HTTP, against `hashigo serve` --------------------------------------------------

def test_hashigo_serve_answers_503_in_time_and_recovers(private_postgres: PrivatePostgres,
                                                        private_redis: RedisServer, tmp_path: Path) -> None:
    env = outage_env(tmp_path, database_url=private_postgres.url, redis_url=private_redis.url)
    service = LiveService(env, tmp_path).start()
    try:
        with httpx.Client(base_url=service.url, timeout=30.0) as http:
            email = "outage@example.com"
            assert http.post("/api/v1/auth/register", json={
                "email": email, "password": PASSWORD, "display_name": "O"}).status_code == 201
            token = http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            session_id = http.post("/api/v1/sessions", headers=headers).json()["id"]
            meta_url = f"/api/v1/sessions/{session_id}/meta/user_profile"
            assert http.put(meta_url, json={"name": "Ada"}, headers=headers).status_code == 200

            def timed(method: str, url: str) -> tuple[httpx.Response, float]:
                started = time.monotonic()
                response = http.request(method, url, headers=headers)
                return response, time.monotonic() - started

            private_redis.freeze()
            try:
                assert_unavailable(*timed("GET", meta_url), KV_TIMEOUT)
            finally:
                private_redis.thaw()
            assert timed("GET", meta_url)[0].status_code == 200

            private_postgres.server.stop()
            assert_unavailable(*timed("GET", "/api/v1/users/me"), DB_CONNECT_TIMEOUT)
            readiness = http.get("/readyz")
            assert readiness.status_code == 503 and readiness.json()["checks"]["database"]["ok"] is False
            private_postgres.server.start()
            deadline = time.monotonic() + 10
            while (me := timed("GET", "/api/v1/users/me")[0]).status_code == 503 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert me.status_code == 200, me.text
            assert http.get("/readyz").status_code == 200
    finally:
        service.stop()
    assert "Traceback" not in service.log()


async def test_a_connection_lost_after_the_answer_does_not_break_the_next_request(
        private_postgres: PrivatePostgres, tmp_path: Path) -> None:
    """The database goes away between a route's last query and the end of its session (the rollback
    on close): the client already has its answer; the failure must not surface as an unhandled error
    (uvicorn would drop the keep-alive connection) and the next request must be served."""
    async def terminate(pid: int) -> None:
        admin = await asyncpg.connect(private_postgres.url)
        try:
            await admin.execute("SELECT pg_terminate_backend($1)", pid)
        finally:
            await admin.close()

    async def cut_after_reading(db: DbSession) -> dict[str, int]:
        pid = int((await db.execute(text("SELECT pg_backend_pid()"))).scalar_one())
        await terminate(pid)  # the session still holds this connection, inside its transaction
        return {"pid": pid}

    async with running_api(outage_env(tmp_path, database_url=private_postgres.url), tmp_path) as api:
        api.app.add_api_route("/_probe/cut", cut_after_reading)
        response = await api.client.get("/_probe/cut")
        assert response.status_code == 200, response.text
        account = await signed_in(api.client)
        me = await api.client.get("/api/v1/users/me", headers=account.headers)
        assert me.status_code == 200, me.text
