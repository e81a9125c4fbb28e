"""`hashigo doctor` end to end, through the real command line, against real backends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.harness.objectstores import S3Server
from tests.harness.redis import RedisServer


def doctor(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("DATABASE_", "STORAGE_", "REDIS_", "KV_", "AWS_", "SESSION", "SECRET_KEY"))}
    return subprocess.run([sys.executable, "-m", "hashigo", "doctor", *args], cwd=cwd, env={**base, **env},
                          capture_output=True, text=True, timeout=120)


def checks_of(result: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    report = json.loads(result.stdout)
    return {c["name"]: c for c in report["checks"]}


def test_defaults_pass_every_check(tmp_path: Path) -> None:
    result = doctor(tmp_path, "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    checks = checks_of(result)
    assert set(checks) == {"database", "kv", "storage", "pubsub", "disk"}
    assert checks["pubsub"]["detail"].startswith("in-process: publish/subscribe round trip ok")
    assert checks["database"]["detail"].startswith("SQLite 3.")
    assert "set/get/delete" in checks["kv"]["detail"]
    assert "write/read/delete" in checks["storage"]["detail"]
    rows = {row["setting"]: row for row in report["configuration"]}
    assert rows["database.url"]["adapter"] == "SQLite file (embedded)"
    assert rows["storage.url"]["source"] == "default"
    assert rows["security.secret_key"]["value"] == "*** (set)"
    assert (tmp_path / ".hashigo" / "storage").is_dir()
    # The probe object is cleaned up.
    assert not any(p.is_file() for p in (tmp_path / ".hashigo" / "storage").rglob("probe-*"))


def test_human_output_is_a_table(tmp_path: Path) -> None:
    result = doctor(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Configuration" in result.stdout
    assert "Checks" in result.stdout
    assert "all checks passed" in result.stdout


def test_postgres_and_redis_pass_and_secrets_are_redacted(tmp_path: Path, pg_database: str, redis_url: str) -> None:
    result = doctor(tmp_path, "--json", DATABASE_URL=pg_database, REDIS_URL=redis_url,
                    SECRET_KEY="a-very-secret-value-that-must-not-leak-0123456789")
    assert result.returncode == 0, result.stdout + result.stderr
    checks = checks_of(result)
    assert checks["database"]["detail"].startswith("PostgreSQL ")
    assert "schema not migrated" in checks["database"]["detail"]
    assert checks["kv"]["ok"] is True
    assert checks["pubsub"]["ok"] is True and checks["pubsub"]["detail"].startswith("redis ")
    assert "must-not-leak" not in result.stdout
    rows = {row["setting"]: row for row in json.loads(result.stdout)["configuration"]}
    assert rows["kv.url"]["adapter"] == "Redis"
    assert rows["kv.url"]["source"] == "env (REDIS_URL)"
    assert rows["database.url"]["adapter"] == "PostgreSQL (asyncpg)"


def test_redis_password_is_redacted(tmp_path: Path, private_redis: RedisServer) -> None:
    url = private_redis.url.replace("redis://", "redis://default:hunter2-secret@")
    result = doctor(tmp_path, "--json", REDIS_URL=url)
    assert "hunter2-secret" not in result.stdout + result.stderr
    assert "redis://default:***@" in result.stdout


def test_stopped_redis_fails_naming_redis(tmp_path: Path, private_redis: RedisServer) -> None:
    url = private_redis.url
    private_redis.stop()
    result = doctor(tmp_path, "--json", REDIS_URL=url)
    assert result.returncode == 1
    checks = checks_of(result)
    assert checks["kv"]["ok"] is False
    assert checks["pubsub"]["ok"] is False and "pub/sub" in checks["pubsub"]["detail"]
    assert checks["database"]["ok"] is True
    assert checks["kv"]["seconds"] < 15
    assert "redis" in checks["kv"]["detail"].lower()
    assert "is redis-server running?" in checks["kv"]["hint"]
    assert "redis-cli -h 127.0.0.1 -p" in checks["kv"]["hint"]
    human = doctor(tmp_path, REDIS_URL=url)
    assert human.returncode == 1
    assert "failed: kv" in human.stdout


def test_stopped_postgres_fails_with_hint(tmp_path: Path) -> None:
    from tests.harness.base import free_port

    port = free_port()
    result = doctor(tmp_path, "--json", DATABASE_URL=f"postgresql://app:pw@127.0.0.1:{port}/app")
    assert result.returncode == 1
    checks = checks_of(result)
    assert checks["database"]["ok"] is False
    assert f"pg_isready -h 127.0.0.1 -p {port}" in checks["database"]["hint"]


def test_bad_configuration_is_one_line_and_exit_2(tmp_path: Path) -> None:
    for env, expected in (
        ({"DATABASE_URL": "oracle://x"}, "unknown scheme 'oracle'"),
        ({"STORAGE_URL": "s3://a", "STORAGE_MODE": "cloud", "CLOUD_STORAGE_TYPE": "s3", "S3_BUCKET_NAME": "b"},
         "conflicts with"),
        ({"REDIS_URL": "redis://h:port"}, "malformed"),
    ):
        result = doctor(tmp_path, "--json", **env)
        assert result.returncode == 2, result.stderr
        assert expected in result.stderr
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert result.stdout == ""


def test_postgres_redis_and_s3_pass(tmp_path: Path, pg_database: str, redis_url: str, s3_server: S3Server) -> None:
    result = doctor(tmp_path, "--json", DATABASE_URL=pg_database, REDIS_URL=redis_url,
                    STORAGE_URL=f"s3://{s3_server.bucket}/doctor", STORAGE_ENDPOINT_URL=s3_server.endpoint,
                    AWS_ACCESS_KEY_ID=s3_server.access_key, AWS_SECRET_ACCESS_KEY=s3_server.secret_key,
                    AWS_REGION="us-east-1", STORAGE_PATH_STYLE="true")
    assert result.returncode == 0, result.stdout + result.stderr
    checks = checks_of(result)
    assert all(c["ok"] for c in checks.values())
    assert checks["storage"]["detail"].startswith(f"s3://{s3_server.bucket}/doctor")
    assert s3_server.secret_key not in result.stdout
    rows = {row["setting"]: row for row in json.loads(result.stdout)["configuration"]}
    assert rows["storage.url"]["adapter"].startswith("S3-compatible (127.0.0.1:")
    assert rows["storage.secret_access_key"]["value"] == "*** (set)"


def test_missing_bucket_fails_with_hint(tmp_path: Path, s3_server: S3Server) -> None:
    result = doctor(tmp_path, "--json", STORAGE_URL="s3://no-such-bucket-hashigo",
                    STORAGE_ENDPOINT_URL=s3_server.endpoint,
                    AWS_ACCESS_KEY_ID=s3_server.access_key, AWS_SECRET_ACCESS_KEY=s3_server.secret_key,
                    AWS_REGION="us-east-1", STORAGE_PATH_STYLE="true")
    assert result.returncode == 1
    storage = checks_of(result)["storage"]
    assert storage["ok"] is False
    assert "bucket" in storage["hint"]
