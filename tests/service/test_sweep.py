"""`hashigo sessions sweep`: lifecycle, orphans, expired sessions — and a server killed mid-upload."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from hashigo.runtime import Runtime
from hashigo.service.sessions.repository import FileRecord, file_key, owner_key
from hashigo.service.sessions.sweep import Sweeper
from hashigo.settings import load_settings
from tests.harness.service import Api, LiveService
from tests.service.accounts import signed_in
from tests.service.test_sessions import PNG, new_session

LIFECYCLE = timedelta(days=7)


async def _keys(api: Api | Runtime, prefix: str) -> set[str]:
    runtime = api.runtime if isinstance(api, Api) else api
    return {info.key async for info in runtime.storage.list(prefix)}


async def _session_with_files(api: Api, *names: str) -> tuple[str, dict[str, str]]:
    alice = await signed_in(api.client)
    sid = await new_session(api.client, alice)
    for name in names:
        response = await api.client.put(f"/api/v1/sessions/{sid}/files/{name}", content=PNG,
                                        headers={**alice.headers, "Content-Type": "image/png"})
        assert response.status_code == 201, response.text
    return sid, alice.headers


async def _age_record(api: Api, sid: str, path: str, days: float) -> None:
    raw = await api.runtime.kv.get(file_key(sid, path))
    assert raw is not None
    record = FileRecord.from_json(raw)
    old = replace(record, uploaded_at=datetime.now(UTC) - timedelta(days=days))
    await api.runtime.kv.set(file_key(sid, path), old.to_json(), ttl=3600)


async def test_files_past_the_lifecycle_are_removed_record_first(api: Api) -> None:
    sid, headers = await _session_with_files(api, "old.png", "new.png")
    await _age_record(api, sid, "old.png", days=8)
    dry = await Sweeper(api.runtime.kv, api.runtime.storage, lifecycle=LIFECYCLE, dry_run=True).run()
    assert dry.expired_files == 1 and dry.orphaned_objects == 0
    assert await _keys(api, f"sessions/{sid}") == {f"sessions/{sid}/old.png", f"sessions/{sid}/new.png"}
    report = await Sweeper(api.runtime.kv, api.runtime.storage, lifecycle=LIFECYCLE).run()
    assert report.expired_files == 1 and report.bytes_freed == len(PNG) and report.errors == []
    assert await api.runtime.kv.get(file_key(sid, "old.png")) is None
    assert await _keys(api, f"sessions/{sid}") == {f"sessions/{sid}/new.png"}
    listed = await api.client.get(f"/api/v1/sessions/{sid}/files", headers=headers)
    assert [f["path"] for f in listed.json()["items"]] == ["new.png"]


async def test_orphans_are_removed_only_after_the_grace_period(api: Api) -> None:
    sid, _ = await _session_with_files(api, "kept.png")
    # What a crash between the object write and the record write leaves behind:
    await api.runtime.storage.put(f"sessions/{sid}/.u/{'ab' * 16}.png", PNG)
    young = await Sweeper(api.runtime.kv, api.runtime.storage, lifecycle=LIFECYCLE).run()
    assert young.orphaned_objects == 0  # may be an upload in flight
    assert len(await _keys(api, f"sessions/{sid}")) == 2
    settled = await Sweeper(api.runtime.kv, api.runtime.storage, lifecycle=LIFECYCLE, grace=timedelta(0)).run()
    assert settled.orphaned_objects == 1 and settled.expired_files == 0
    assert await _keys(api, f"sessions/{sid}") == {f"sessions/{sid}/kept.png"}


async def test_expired_sessions_lose_their_objects_and_keys(api: Api) -> None:
    sid, _ = await _session_with_files(api, "a.png", "b/c.png")
    other, _ = await _session_with_files(api, "live.png")
    await api.runtime.kv.delete(owner_key(sid))  # the owner key's TTL ran out
    report = await Sweeper(api.runtime.kv, api.runtime.storage, lifecycle=LIFECYCLE, grace=timedelta(0)).run()
    assert report.expired_sessions == 1 and report.expired_session_objects == 2
    assert await _keys(api, f"sessions/{sid}") == set()
    assert [k async for k in api.runtime.kv.scan(f"session:{sid}:")] == []
    assert await _keys(api, f"sessions/{other}") == {f"sessions/{other}/live.png"}


def _cli(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hashigo", "sessions", "sweep", *args], cwd=cwd, text=True,
                          env={**os.environ, **env, "COLUMNS": "200"}, capture_output=True, timeout=120)


async def test_cli_sweep_json_table_and_bad_input(api: Api, service_env: dict[str, str], tmp_path: Path) -> None:
    sid, _ = await _session_with_files(api, "old.png")
    await _age_record(api, sid, "old.png", days=3)
    dry = await asyncio.to_thread(_cli, service_env, tmp_path, "--dry-run", "--older-than-days", "2")
    assert dry.returncode == 0, dry.stderr
    assert "dry run" in dry.stdout and "files past the lifecycle" in dry.stdout
    assert await _keys(api, f"sessions/{sid}") == {f"sessions/{sid}/old.png"}
    done = await asyncio.to_thread(_cli, service_env, tmp_path, "--json", "--older-than-days", "2")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["expired_files"] == 1 and report["dry_run"] is False and report["errors"] == []
    assert await _keys(api, f"sessions/{sid}") == set()
    bad = await asyncio.to_thread(_cli, service_env, tmp_path, "--older-than-days", "-1")
    assert bad.returncode == 2 and "--older-than-days must be 0 or more" in bad.stderr
    assert "Traceback" not in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


class SlowBody:
    """A large upload trickling in, so the server can be killed in the middle of it."""

    def __init__(self, total: int, chunk: int = 256 * 1024) -> None:
        self.total, self.chunk, self.sent = total, chunk, 0
        self.midway = asyncio.Event()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.sent < self.total:
            self.sent += self.chunk
            if self.sent >= self.total // 3:
                self.midway.set()
            yield bytes(self.chunk)
            await asyncio.sleep(0.01)


async def test_kill_mid_upload_leaves_no_record_without_its_object(service_env: dict[str, str],
                                                                   tmp_path: Path) -> None:
    live = LiveService(service_env, tmp_path).start()
    try:
        async with httpx.AsyncClient(base_url=live.url, timeout=30) as client:
            alice = await signed_in(client)
            sid = (await client.post("/api/v1/sessions", headers=alice.headers)).json()["id"]
            kept = await client.put(f"/api/v1/sessions/{sid}/files/kept.png", content=PNG,
                                    headers={**alice.headers, "Content-Type": "image/png"})
            assert kept.status_code == 201, kept.text
            signed = await client.get(kept.json()["url"])  # the signed URL works on this port too
            assert signed.status_code == 200 and signed.content == PNG
            body = SlowBody(total=48 * 1024 * 1024)
            upload = asyncio.create_task(client.put(
                f"/api/v1/sessions/{sid}/files/big.bin", content=body.__aiter__(),
                headers={**alice.headers, "Content-Type": "application/octet-stream"}))
            await asyncio.wait_for(body.midway.wait(), 60)
            live.kill()
            outcome = (await asyncio.gather(upload, return_exceptions=True))[0]
            assert isinstance(outcome, httpx.HTTPError), outcome
    finally:
        live.stop()

    restarted = LiveService(service_env, tmp_path).start()
    runtime = Runtime.open(load_settings(service_env, env_file=None, cwd=tmp_path))
    try:
        async with httpx.AsyncClient(base_url=restarted.url, timeout=30) as client:
            listed = await client.get(f"/api/v1/sessions/{sid}/files", headers=alice.headers)
            assert [f["path"] for f in listed.json()["items"]] == ["kept.png"]
            for item in listed.json()["items"]:  # every record's object is there, whole
                got = await client.get(f"/api/v1/sessions/{sid}/files/{item['path']}", headers=alice.headers)
                assert got.status_code == 200 and len(got.content) == item["size"]
        swept = await asyncio.to_thread(_cli, service_env, tmp_path, "--json", "--grace-seconds", "0")
        assert swept.returncode == 0, swept.stderr
        report = json.loads(swept.stdout)
        assert report["errors"] == []
        storage_dir = tmp_path / "data" / "storage"
        if "STORAGE_URL" not in service_env:  # the local folder: the killed upload's staging file is gone
            assert report["partial_uploads"] == 1
            assert [p.name for p in storage_dir.rglob("*#*")] == []
        records = [FileRecord.from_json(raw) for raw in await runtime.kv.get_many(
            [k async for k in runtime.kv.scan(f"session:{sid}:meta:file:")]) if raw is not None]
        assert await _keys(runtime, f"sessions/{sid}") == {r.key for r in records} == {f"sessions/{sid}/kept.png"}
    finally:
        await runtime.aclose()
        restarted.stop()
