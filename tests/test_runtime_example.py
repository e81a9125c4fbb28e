"""A user's FastAPI app on the ports: the same code on embedded defaults and on real servers."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from examples.notes_app import create_app
from hashigo.runtime import Runtime
from hashigo.settings import load_settings
from tests.harness.objectstores import S3Server


@pytest.fixture(params=["embedded", "postgres+redis+s3"])
def environment(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    if request.param == "embedded":
        return {}
    s3: S3Server = request.getfixturevalue("s3_server")
    return {
        "DATABASE_URL": request.getfixturevalue("pg_database"),
        "REDIS_URL": request.getfixturevalue("redis_url"),
        "STORAGE_URL": f"s3://{s3.bucket}/example-{tmp_path.name}",
        "STORAGE_ENDPOINT_URL": s3.endpoint, "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": s3.access_key, "AWS_SECRET_ACCESS_KEY": s3.secret_key,
    }


async def test_same_app_code_runs_on_every_backend(environment: dict[str, str], tmp_path: Path) -> None:
    settings = load_settings(environment, env_file=None, cwd=tmp_path)
    runtime = Runtime.open(settings)
    app = create_app(runtime)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app") as client:
            first = await client.put("/notes/n1", content="こんにちは")
            second = await client.put("/notes/n1", content="hello again")
            assert first.status_code == 200, first.text
            assert first.json()["writes"] == 1
            assert second.json()["writes"] == 2
            fetched = await client.get("/notes/n1")
            assert fetched.status_code == 200
            assert fetched.text == "hello again"
            assert (await client.get("/notes/missing")).status_code == 404
        info = await runtime.storage.head("notes/n1.txt")
        assert info.content_type == "text/plain; charset=utf-8"
        expected_backend = "postgresql" if environment else "sqlite"
        assert runtime.engine.dialect.name == expected_backend
    finally:
        await runtime.aclose()


async def test_backend_outage_becomes_503(tmp_path: Path) -> None:
    from tests.harness.base import free_port

    settings = load_settings({"REDIS_URL": f"redis://127.0.0.1:{free_port()}/0", "KV_TIMEOUT": "1"},
                             env_file=None, cwd=tmp_path)
    runtime = Runtime.open(settings)
    app = create_app(runtime)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app") as client:
            response = await client.put("/notes/n1", content="x")
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "5"
        assert response.json() == {"detail": "kv-redis unavailable"}
    finally:
        await runtime.aclose()
