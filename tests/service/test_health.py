"""/healthz, /readyz and /metrics on both profiles, and readiness against backends that do not answer."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from hashigo import __version__
from hashigo.runtime import Runtime
from hashigo.service.app import create_app
from hashigo.settings import load_settings
from tests.harness.blackhole import Blackhole
from tests.harness.redis import RedisServer
from tests.harness.service import Api, running_api

BACKENDS = {"database", "kv", "storage", "pubsub"}


@asynccontextmanager
async def bare_client(env: dict[str, str], cwd: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The app without migrations or start-up hooks: for backends that cannot be migrated (a blackhole)."""
    runtime = Runtime.open(load_settings(env, env_file=None, cwd=cwd))
    app = create_app(runtime=runtime)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
    finally:
        await runtime.aclose()


def embedded_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"HASHIGO_DATA_DIR": str(tmp_path / "data"), "LOG_LEVEL": "WARNING",
            "SECRET_KEY": "test-secret-" + "k" * 40, **extra}


async def test_healthz_reports_the_version(api: Api) -> None:
    response = await api.client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": __version__}


async def test_healthz_asks_no_backend(blackhole: Blackhole, tmp_path: Path) -> None:
    """Liveness must not depend on the database: a hung database still leaves the process alive."""
    env = embedded_env(tmp_path, DATABASE_URL=f"postgresql://u:p@127.0.0.1:{blackhole.port}/db",
                       DATABASE_CONNECT_TIMEOUT="5")
    async with bare_client(env, tmp_path) as client:
        started = time.monotonic()
        response = await client.get("/healthz")
        assert response.status_code == 200
        assert time.monotonic() - started < 1.0
    assert blackhole.held == []  # not even a connection was opened


async def test_readyz_all_backends_ready(api: Api, service_env: dict[str, str]) -> None:
    response = await api.client.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == BACKENDS
    for name, check in body["checks"].items():
        assert check["ok"] is True, (name, check)
        assert check["error"] is None
        assert 0 <= check["latency_ms"] < 2000
        assert check["backend"]
    for secret_name in ("SECRET_KEY", "AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID"):
        if secret_name in service_env:
            assert service_env[secret_name] not in response.text


async def test_readyz_answers_503_naming_the_hung_backends_within_the_timeout(
        blackhole: Blackhole, tmp_path: Path) -> None:
    """Database and Redis accept connections but never answer; the checks run concurrently, so the
    whole answer takes about one timeout, not one per backend."""
    env = embedded_env(tmp_path, DATABASE_URL=f"postgresql://u:p@127.0.0.1:{blackhole.port}/db",
                       REDIS_URL=f"redis://127.0.0.1:{blackhole.port}/0", READINESS_TIMEOUT="1",
                       KV_TIMEOUT="5", DATABASE_CONNECT_TIMEOUT="5", RETRY_AFTER_SECONDS="7")
    async with bare_client(env, tmp_path) as client:
        started = time.monotonic()
        response = await client.get("/readyz")
        elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.headers["retry-after"] == "7"
    assert 0.9 < elapsed < 1.8, elapsed
    body = response.json()
    assert body["status"] == "unavailable"
    checks = body["checks"]
    for hung in ("database", "kv", "pubsub"):
        assert checks[hung]["ok"] is False
        assert checks[hung]["error"] == "no answer within 1s"
        assert checks[hung]["latency_ms"] >= 900
    assert checks["storage"]["ok"] is True
    assert str(blackhole.port) in checks["database"]["backend"]
    assert ":p@" not in response.text


async def test_readyz_never_shows_credentials(private_redis_tls: RedisServer, pg_database: str,
                                              tmp_path: Path) -> None:
    """Passwords in DATABASE_URL and REDIS_URL (an Upstash-style rediss:// URL) stay out of the body."""
    db_password = "pg-pw-that-must-not-leak"
    database_url = pg_database.replace("postgresql://postgres@", f"postgresql://postgres:{db_password}@")
    assert db_password in database_url  # trust auth accepts any password
    env = embedded_env(tmp_path, DATABASE_URL=database_url, REDIS_URL=private_redis_tls.url)
    assert private_redis_tls.tls is not None
    async with running_api(env, tmp_path) as api:
        response = await api.client.get("/readyz")
    assert response.status_code == 200, response.text
    assert db_password not in response.text
    assert private_redis_tls.tls.password not in response.text
    assert response.json()["checks"]["kv"]["backend"].startswith("rediss://")


async def test_readyz_error_for_a_stopped_backend_names_it(private_redis: RedisServer, tmp_path: Path) -> None:
    env = embedded_env(tmp_path, REDIS_URL=private_redis.url, KV_TIMEOUT="1", READINESS_TIMEOUT="2")
    async with running_api(env, tmp_path) as api:
        assert (await api.client.get("/readyz")).status_code == 200
        private_redis.stop()
        response = await api.client.get("/readyz")
        assert response.status_code == 503
        checks = response.json()["checks"]
        assert checks["kv"]["ok"] is False and checks["kv"]["error"]
        assert checks["database"]["ok"] is True and checks["storage"]["ok"] is True
        private_redis.start()
        assert (await api.client.get("/readyz")).status_code == 200


async def test_metrics_is_prometheus_text(api: Api) -> None:
    await api.client.get("/healthz")
    response = await api.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    for family in ("hashigo_http_request_duration_seconds", "hashigo_http_requests_total",
                   "hashigo_http_requests_in_flight", "hashigo_websocket_connections",
                   "hashigo_backend_call_duration_seconds", "hashigo_backend_errors_total"):
        assert f"# TYPE {family} " in text, family
    assert 'route="/healthz"' in text


async def test_operations_routes_are_in_the_openapi_document(tmp_path: Path) -> None:
    async with bare_client(embedded_env(tmp_path), tmp_path) as client:
        document = (await client.get("/openapi.json")).json()
    for path in ("/healthz", "/readyz", "/metrics"):
        assert "get" in document["paths"][path], path
    assert "503" in document["paths"]["/readyz"]["get"]["responses"]
