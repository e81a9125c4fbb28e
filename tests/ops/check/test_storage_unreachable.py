"""The object store through the storage port against a real S3 server (rclone serve s3), and sources
that cannot be reached: exit 3, each named with why, never a hang; `required` still wins over 3."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from hashigo.settings import load_settings
from hashigo.storage import open_object_store
from tests.harness.base import free_port
from tests.harness.blackhole import Blackhole
from tests.harness.objectstores import S3Server, unique_prefix
from tests.ops.check.helpers import SKIP_AUTO, as_json, invoke, rule, source

ONLY_STORAGE = ("--skip", "service", "--skip", "postgres", "--skip", "redis")


def _s3_env(server: S3Server) -> dict[str, str]:
    return {"STORAGE_ENDPOINT_URL": server.endpoint, "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": server.access_key,
            "AWS_SECRET_ACCESS_KEY": server.secret_key}


def test_total_bytes_and_objects_on_s3(tmp_path: Path, rclone_server: S3Server) -> None:
    prefix = unique_prefix()
    url = f"s3://{rclone_server.bucket}/{prefix}"
    env = _s3_env(rclone_server)
    sizes = [1000 * (index + 1) for index in range(30)]  # 465,000 bytes in 30 objects

    async def fill() -> None:
        store = open_object_store(load_settings({**env, "STORAGE_URL": url}, env_file=None, cwd=tmp_path).storage)
        try:
            for index, size in enumerate(sizes):
                await store.put(f"sessions/s{index % 4}/file-{index}.bin", b"z" * size)
        finally:
            await store.close()

    asyncio.run(fill())
    args = (*ONLY_STORAGE, "--storage", url, "--history", str(tmp_path / "h.sqlite3"), "--json")
    data = as_json(invoke(tmp_path, *args, "--plan", "supabase.storage-free", env=env))
    details = source(data, "storage")["details"]
    assert details == {"bytes": sum(sizes), "objects": 30}
    quota = rule(data, "storage-of-plan")  # Supabase Free: 1 GB
    assert quota["limit"]["value"] == 1 and quota["value"] == pytest.approx(sum(sizes) / 1e9)
    assert quota["status"] == "ok" and data["exit_code"] == 0
    assert "secret" not in source(data, "storage")["target"]
    tight = as_json(invoke(tmp_path, *args, "--limit", "storage_gb=0.0004", env=env))  # 400 KB: 116 %
    assert rule(tight, "storage-of-plan")["status"] == "required" and tight["exit_code"] == 2


def test_unreachable_sources_exit_3_naming_each(tmp_path: Path, blackhole: Blackhole) -> None:
    closed = free_port()
    (tmp_path / "rules.yaml").write_text(
        "sources:\n  redis: {timeout_seconds: 1}\n  service: {timeout_seconds: 1, sample_seconds: 0.2}\n"
        "  postgres: {timeout_seconds: 2}\n")
    started = time.monotonic()
    result = invoke(tmp_path, "--rules", str(tmp_path / "rules.yaml"),
                    "--service", f"http://127.0.0.1:{closed}", "--database", f"postgresql://u@127.0.0.1:{closed}/db",
                    "--redis", f"redis://127.0.0.1:{blackhole.port}/0", "--skip", "storage",
                    "--history", str(tmp_path / "h.sqlite3"), "--json")
    assert time.monotonic() - started < 20
    data = as_json(result)
    assert result.returncode == 3 and data["exit_code"] == 3
    errors = {s["source"]: s["error"] for s in data["sources"]}
    assert "refused" in errors["service"] and "refused" in errors["postgres"].lower()
    assert errors["redis"] == "no answer within 1 s"
    assert source(data, "service")["target"] == f"http://127.0.0.1:{closed}/metrics"
    assert rule(data, "latency-avg")["status"] == "unmeasured"
    assert rule(data, "db-connections")["status"] == "unmeasured" and rule(data, "dau")["status"] == "no data"
    assert "could not measure: service, postgres, redis" in data["verdict"]["summary"]
    human = invoke(tmp_path, "--rules", str(tmp_path / "rules.yaml"), "--service", f"http://127.0.0.1:{closed}",
                   "--skip", "postgres", "--skip", "redis", "--skip", "storage", "--history", str(tmp_path / "h2"))
    assert human.returncode == 3 and "could not measure:" in human.stdout and "connection refused" in human.stdout


def test_required_wins_over_could_not_measure(tmp_path: Path) -> None:
    closed = free_port()
    result = invoke(tmp_path, *SKIP_AUTO[2:], "--service", f"http://127.0.0.1:{closed}", "--bill", "900",
                    "--history", str(tmp_path / "h.sqlite3"), "--json")
    data = as_json(result)
    assert result.returncode == 2 and data["verdict"]["unmeasured"][0].startswith("service (http://127.0.0.1:")


def test_a_server_that_is_not_hashigo(tmp_path: Path, rclone_server: S3Server) -> None:
    result = invoke(tmp_path, *SKIP_AUTO[2:], "--service", rclone_server.endpoint + "/metrics",
                    "--history", str(tmp_path / "h.sqlite3"), "--json")
    data = as_json(result)
    assert result.returncode == 3
    assert "answered" in source(data, "service")["error"] or "not" in source(data, "service")["error"]
