"""Done when: against a running `hashigo serve` on PostgreSQL + Redis + S3 with load applied, `hashigo check`
(a real process, as cron or CI runs it) reports the measured latency, error rate, connection count and
sizes, and moves from ok to consider to required as the load crosses the seed thresholds (seed 004
§移行タイミングの判断指標: connections 100 / 400, error rate 0.1 % / 1 %, average latency 300 / 500 ms),
with exit codes 0, 1, 2.

The thresholds are the seeds'; only the sustained windows are switched off (`sustained: null`), because
this test cannot wait 3 of 7 days. Consider: 110 more connections are opened, as a connection-hungry
deployment would. Required: Redis stops answering (SIGSTOP), so every session read waits for the
key-value timeout (2 s) and answers 503 — slow and failing at once, as in a real outage.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.harness.base import missing_server
from tests.harness.objectstores import S3Server, unique_prefix
from tests.harness.postgres import INSTALL_HINT, PrivatePostgres
from tests.harness.redis import RedisServer
from tests.harness.service import LiveService
from tests.ops.check.helpers import as_json, rule, run, source
from tests.ops.check.live import Load, make_user

RULES = """\
sources:
  service: {sample_seconds: 3, timeout_seconds: 5}
  redis: {timeout_seconds: 2}
  postgres: {timeout_seconds: 5}
rules:
  latency-avg: {sustained: null}
  error-rate: {sustained: null}
  db-connections: {sustained: null}
"""
READS = ("/api/v1/users/me", "/api/v1/sessions/{session}/meta/user_profile", "/api/v1/sessions/{session}/files")


@pytest.fixture
def postgres_with_statements() -> Iterator[str]:
    """A private PostgreSQL with pg_stat_statements preloaded, and a database for the app."""
    try:
        server = PrivatePostgres()
    except (FileNotFoundError, subprocess.CalledProcessError, RuntimeError) as exc:
        missing_server("postgresql", f"{INSTALL_HINT} ({exc})")
        raise AssertionError("unreachable") from exc
    try:
        server.server.stop()
        server.server.argv += ["-c", "shared_preload_libraries=pg_stat_statements"]
        server.server.start()
        with psycopg.connect(server.url, autocommit=True) as conn:
            conn.execute("CREATE DATABASE app")
        url = server.url.rsplit("/", 1)[0] + "/app"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION pg_stat_statements")
        yield url
    finally:
        server.close()


@contextlib.contextmanager
def _held_connections(url: str, count: int) -> Iterator[None]:
    held = [psycopg.connect(url, autocommit=True) for _ in range(count)]
    try:
        yield
    finally:
        for conn in held:
            conn.close()


def test_ok_then_consider_then_required(tmp_path: Path, postgres_with_statements: str, private_redis: RedisServer,
                                        s3_server: S3Server) -> None:
    database = postgres_with_statements
    env = {"HASHIGO_DATA_DIR": str(tmp_path / "data"), "LOG_LEVEL": "WARNING", "SECRET_KEY": "test-secret-" + "k" * 40,
           "DATABASE_URL": database, "REDIS_URL": private_redis.url,
           "STORAGE_URL": f"s3://{s3_server.bucket}/{unique_prefix()}", "STORAGE_ENDPOINT_URL": s3_server.endpoint,
           "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": s3_server.access_key,
           "AWS_SECRET_ACCESS_KEY": s3_server.secret_key}
    service = LiveService(env, tmp_path).start()
    (tmp_path / "hashigo-check.yaml").write_text(RULES)
    # `hashigo check` runs beside the service with the same environment: every source is found there.
    check_env = {**env, "HASHIGO_PORT": str(service.port)}
    try:
        user = asyncio.run(make_user(service.url))

        with Load(service.url, user, READS, workers=2) as load:
            calm = as_json(run(tmp_path, "--plan", "supabase.pro,upstash.free,supabase.storage-pro", "--json",
                               env=check_env))
        assert set(load.statuses) == {200}, load.statuses
        assert calm["exit_code"] == 0, calm["verdict"]
        for name in ("service", "postgres", "redis", "storage"):
            assert source(calm, name)["ok"], source(calm, name)
        latency, errors = rule(calm, "latency-avg"), rule(calm, "error-rate")
        assert 0 < latency["value"] < 300 and latency["status"] == "ok"
        assert errors["value"] == 0 and errors["status"] == "ok"
        connections = rule(calm, "db-connections")
        assert 1 <= connections["value"] < 100 and connections["status"] == "ok"
        assert rule(calm, "db-connections-of-server")["limit"]["value"] == 200
        size = rule(calm, "db-size-of-plan")  # Supabase Pro includes 8 GB
        assert size["limit"]["value"] == 8 and 0.001 < size["value"] < 0.1
        assert rule(calm, "redis-memory-of-plan")["value"] > 0 and rule(calm, "storage-of-plan")["value"] > 0
        assert source(calm, "storage")["details"]["objects"] == 1
        assert source(calm, "postgres")["details"]["slowest_statements"], "pg_stat_statements was read"
        assert rule(calm, "db-slow-statements")["value"] is not None

        with _held_connections(database, 110), Load(service.url, user, READS, workers=2) as load:
            busy = as_json(run(tmp_path, "--json", env=check_env))
        connections = rule(busy, "db-connections")
        assert connections["value"] >= 110 and connections["status"] == "consider"
        assert busy["exit_code"] == 1 and busy["verdict"]["triggered"] == ["db-connections"]
        assert "hashigo migrate db run" in " ".join(busy["verdict"]["commands"])

        private_redis.freeze()
        try:
            with Load(service.url, user, ("/api/v1/sessions/{session}/meta/user_profile",), workers=6) as load:
                outage = run(tmp_path, env=check_env)
                outage_json = as_json(run(tmp_path, "--json", env=check_env))
        finally:
            private_redis.thaw()
        assert load.statuses[503] > 0, load.statuses
        latency, errors = rule(outage_json, "latency-avg"), rule(outage_json, "error-rate")
        assert errors["value"] > 1 and errors["status"] == "required"
        assert latency["value"] > 500 and latency["status"] == "required"
        assert outage_json["exit_code"] == 2 and outage.returncode == 2
        assert set(outage_json["verdict"]["triggered"]) >= {"latency-avg", "error-rate"}
        assert source(outage_json, "redis")["error"] == "no answer within 2 s"  # named, and required still wins
        text = " ".join(outage.stdout.split())
        assert "REQUIRED" in text and "move to the next phase now" in text and "could not measure: redis" in text
    finally:
        service.stop()
