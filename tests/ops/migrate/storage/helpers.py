"""Shared pieces of the `migrate storage` tests: stores on real servers, seeding, comparing, the CLI."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hashigo.ops.migrate.storage.engine import RunOptions, run_copy
from hashigo.ops.migrate.storage.filters import KeyFilter
from hashigo.ops.migrate.storage.journal import Journal
from hashigo.ops.migrate.storage.report import MigrationReport
from hashigo.ops.migrate.storage.transfer import CopySettings
from hashigo.settings import StorageSettings
from hashigo.storage import ObjectStore, open_object_store
from tests.harness.objectstores import AzureServer, S3Server, unique_prefix

REPO = Path(__file__).resolve().parents[4]
MIB = 1024 * 1024


@dataclass
class Side:
    """A store to migrate from or to: its URL for the CLI, the environment it needs, and an open store."""

    name: str
    url: str
    settings: StorageSettings
    env: dict[str, str] = field(default_factory=dict)

    def open(self) -> ObjectStore:
        return open_object_store(self.settings)


def local_side(folder: Path) -> Side:
    return Side("local", f"file://{folder}", StorageSettings(url=f"file://{folder}"))


def s3_side(server: S3Server, name: str, prefix: str | None = None) -> Side:
    prefix = prefix or unique_prefix()
    settings = StorageSettings(url=f"s3://{server.bucket}/{prefix}", endpoint_url=server.endpoint,
                               region="us-east-1", path_style=True, access_key_id=server.access_key,
                               secret_access_key=server.secret_key, timeout_seconds=20)
    url = f"s3://{server.bucket}/{prefix}?endpoint={server.endpoint}&path_style=true&region=us-east-1"
    return Side(name, url, settings, {"AWS_ACCESS_KEY_ID": server.access_key,
                                      "AWS_SECRET_ACCESS_KEY": server.secret_key})


def azure_side(server: AzureServer) -> Side:
    prefix = unique_prefix()
    settings = StorageSettings(url=f"az://{server.container}/{prefix}", endpoint_url=server.endpoint,
                               azure_account_name=server.account, azure_account_key=server.key)
    return Side("azure", f"az://{server.container}/{prefix}?endpoint={server.endpoint}", settings,
                {"AZURE_STORAGE_ACCOUNT_NAME": server.account, "AZURE_STORAGE_ACCOUNT_KEY": server.key})


def pattern(size: int, seed: int) -> bytes:
    """Deterministic bytes that differ in every 32-byte block, so a moved or repeated block shows."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


async def seed(store: ObjectStore, objects: dict[str, bytes], **attributes: Any) -> None:
    for key, data in objects.items():
        await store.put(key, data, **attributes)


async def contents(store: ObjectStore, prefix: str = "") -> dict[str, bytes]:
    found = {}
    async for info in store.list(prefix):
        found[info.key] = await (await store.get(info.key)).read()
    return found


def options(**changes: Any) -> RunOptions:
    copy = {name: changes.pop(name) for name in list(changes) if name in CopySettings.__dataclass_fields__}
    defaults: dict[str, Any] = {"concurrency": 4, "retries": 2, "backoff_seconds": 0.01, "backoff_max_seconds": 0.05}
    return RunOptions(**{**defaults, **changes}, copy=CopySettings(**{"part_size": 5 * MIB,
                                                                      "multipart_threshold": 5 * MIB, **copy}))


async def migrate(source: ObjectStore, destination: ObjectStore, journal_path: Path,
                  key_filter: KeyFilter | None = None, **changes: Any) -> MigrationReport:
    run = options(**changes)
    journal = Journal(journal_path, "test-source", "test-destination")
    report = MigrationReport("source", "destination", str(journal_path), run.copy.verify)
    try:
        return await run_copy(source, destination, journal, key_filter or KeyFilter(), run, report)
    finally:
        journal.close()


def cli_env(source: Side, destination: Side) -> dict[str, str]:
    """The process environment without storage settings, plus each side's, prefixed SRC_ and DST_."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STORAGE_", "AZURE_", "SRC_", "DST_"))}
    env.update({f"SRC_{k}": v for k, v in source.env.items()})
    env.update({f"DST_{k}": v for k, v in destination.env.items()})
    return env


def hashigo(*args: str, env: dict[str, str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hashigo", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, check=False)


def hashigo_popen(*args: str, env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "hashigo", *args], env=env, cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
