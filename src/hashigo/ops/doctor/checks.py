"""Each check talks to one backend under a timeout and returns a result, never raises."""

from __future__ import annotations

import asyncio
import shutil
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url

from hashigo.db import create_engine, database_version
from hashigo.db.migrate_schema import current_revision, head_revision
from hashigo.errors import BackendUnavailable, HashigoError
from hashigo.kv import open_kv
from hashigo.ops.doctor.hints import hint_for
from hashigo.pubsub import open_pubsub
from hashigo.settings import Settings
from hashigo.storage import open_object_store
from hashigo.urls import redact_url

MIN_FREE_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ConfigRow:
    setting: str
    adapter: str
    value: str
    source: str


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    hint: str | None
    seconds: float

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def database_adapter(url: str) -> str:
    backend = make_url(url).get_backend_name()
    return "SQLite file (embedded)" if backend == "sqlite" else "PostgreSQL (asyncpg)"


def storage_adapter(settings: Settings) -> str:
    scheme = urlsplit(settings.storage.url).scheme
    if scheme == "s3":
        endpoint = settings.storage.endpoint_url
        return f"S3-compatible ({urlsplit(endpoint).netloc})" if endpoint else "AWS S3"
    return {"file": "local folder (embedded)", "memory": "in memory (lost on exit)",
            "gs": "Google Cloud Storage", "az": "Azure Blob Storage"}.get(scheme, scheme)


def kv_adapter(url: str) -> str:
    scheme = urlsplit(url).scheme
    return {"sqlite": "embedded (SQLite, on disk)", "redis": "Redis", "rediss": "Redis over TLS"}.get(scheme, scheme)


def configuration_rows(settings: Settings) -> list[ConfigRow]:
    """The active configuration, secrets redacted, with where each value came from."""
    origin = settings.origins

    def source(path: str) -> str:
        found = origin.get(path)
        return found.describe() if found else "default"

    rows = [
        ConfigRow("data_dir", "-", str(settings.data_dir), source("data_dir")),
        ConfigRow("database.url", database_adapter(settings.database.url), redact_url(settings.database.url),
                  source("database.url")),
        ConfigRow("storage.url", storage_adapter(settings), redact_url(settings.storage.url), source("storage.url")),
        ConfigRow("kv.url", kv_adapter(settings.kv.url), redact_url(settings.kv.url), source("kv.url")),
    ]
    storage = settings.storage
    for field, value in (("storage.endpoint_url", storage.endpoint_url), ("storage.region", storage.region)):
        if value is not None:
            rows.append(ConfigRow(field, "-", redact_url(value), source(field)))
    if storage.path_style:
        rows.append(ConfigRow("storage.path_style", "-", "true", source("storage.path_style")))
    for field in ("access_key_id", "secret_access_key", "session_token", "azure_account_key",
                  "azure_connection_string"):
        if getattr(storage, field) is not None:
            rows.append(ConfigRow(f"storage.{field}", "-", "*** (set)", source(f"storage.{field}")))
    rows.append(ConfigRow("security.secret_key", "-", "*** (set)", source("security.secret_key")))
    rows.append(ConfigRow("security.environment", "-", settings.security.environment,
                          source("security.environment")))
    rows.append(ConfigRow("sessions.ttl_seconds", "-", str(settings.sessions.ttl_seconds),
                          source("sessions.ttl_seconds")))
    return rows


async def _timed(name: str, timeout: float, probe: Callable[[], Awaitable[str]]) -> CheckResult:
    started = time.monotonic()
    try:
        async with asyncio.timeout(timeout):
            detail = await probe()
    except TimeoutError:
        detail = f"no answer within {timeout:g}s"
        return CheckResult(name, False, detail, None, time.monotonic() - started)
    except (BackendUnavailable, HashigoError, OSError) as exc:
        detail = str(exc)
        return CheckResult(name, False, detail, None, time.monotonic() - started)
    return CheckResult(name, True, detail, None, time.monotonic() - started)


async def _check_database(settings: Settings) -> str:
    engine = create_engine(settings.database)
    try:
        version = await database_version(engine, settings.database.connect_timeout_seconds)
        current = await current_revision(engine)
    finally:
        await engine.dispose()
    head = head_revision()
    if current is None:
        schema = "schema not migrated (run `hashigo db upgrade`)"
    elif current == head:
        schema = f"schema at head ({current})"
    else:
        schema = f"schema at {current}, head is {head} (run `hashigo db upgrade`)"
    return f"{version}; {schema}"


async def _check_kv(settings: Settings) -> str:
    store = open_kv(settings.kv)
    try:
        version = await store.ping()
        key = f"hashigo-doctor:{uuid.uuid4().hex}"
        await store.set(key, b"probe", ttl=30)
        value = await store.get(key)
        await store.delete(key)
    finally:
        await store.close()
    if value != b"probe":
        raise HashigoError(f"wrote a probe key but read back {value!r}")
    return f"{version}; set/get/delete with TTL ok"


async def _check_storage(settings: Settings) -> str:
    store = open_object_store(settings.storage)
    key = f"hashigo-doctor/probe-{uuid.uuid4().hex}"
    payload = uuid.uuid4().bytes * 64
    try:
        await store.put(key, payload, content_type="application/octet-stream")
        body = await (await store.get(key)).read()
        await store.delete(key)
    finally:
        await store.close()
    if body != payload:
        raise HashigoError(f"probe object {key!r} read back {len(body)} bytes that differ from "
                           f"the {len(payload)} written")
    return f"{redact_url(store.url)}: write/read/delete of a {len(payload)}-byte probe ok"


async def _check_pubsub(settings: Settings) -> str:
    """A message to ourselves: proves SUBSCRIBE and PUBLISH are allowed, not just that Redis answers."""
    pubsub = open_pubsub(settings.pubsub)
    channel = f"hashigo-doctor:{uuid.uuid4().hex}"
    try:
        version = await pubsub.ping()
        listener = await pubsub.subscription()
        await listener.subscribe(channel)
        await pubsub.publish(channel, b"probe")
        async with asyncio.timeout(settings.pubsub.timeout_seconds):
            async for message in listener:
                if message.data == b"probe":
                    break
        await listener.close()
    finally:
        await pubsub.close()
    scope = "one process only; set REDIS_URL or PUBSUB_URL to run several" if version == "in-process" else \
        "events reach every instance on this server"
    return f"{version}: publish/subscribe round trip ok ({scope})"


def embedded_paths(settings: Settings) -> list[Path]:
    """Folders that embedded backends write to; each needs free disk."""
    paths = []
    db_url = make_url(settings.database.url)
    if db_url.get_backend_name() == "sqlite" and db_url.database not in (None, "", ":memory:"):
        paths.append(Path(str(db_url.database)).parent)
    if settings.storage.url.startswith("file://"):
        paths.append(Path(urlsplit(settings.storage.url).path))
    if settings.kv.url.startswith("sqlite://"):
        paths.append(Path(urlsplit(settings.kv.url).path).parent)
    return sorted(set(paths))


async def _check_disk(settings: Settings) -> str:
    lines = []
    for path in embedded_paths(settings):
        existing = path
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        free = shutil.disk_usage(existing).free
        if free < MIN_FREE_BYTES:
            raise HashigoError(f"only {free / 2**20:.0f} MiB free at {path} (need ≥ {MIN_FREE_BYTES // 2**20} MiB)")
        lines.append(f"{path}: {free / 2**30:.1f} GiB free")
    return "; ".join(lines) if lines else "no embedded store in use"


async def run_checks(settings: Settings) -> list[CheckResult]:
    """Every backend check, concurrently, each bounded by its own timeout."""
    slack = 2.0
    checks = [
        _timed("database", settings.database.connect_timeout_seconds * 2 + slack, lambda: _check_database(settings)),
        _timed("kv", settings.kv.timeout_seconds * 4 + slack, lambda: _check_kv(settings)),
        _timed("storage", settings.storage.timeout_seconds + slack, lambda: _check_storage(settings)),
        _timed("pubsub", settings.pubsub.timeout_seconds * 3 + slack, lambda: _check_pubsub(settings)),
        _timed("disk", 10.0, lambda: _check_disk(settings)),
    ]
    results = await asyncio.gather(*checks)
    return [r if r.ok else replace(r, hint=hint_for(r.name, r.detail, settings)) for r in results]
