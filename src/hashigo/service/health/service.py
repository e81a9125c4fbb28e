"""Readiness: every backend asked at once, each with its own deadline, none of them trusted to return."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Awaitable, Callable

from sqlalchemy import text

from hashigo.runtime import Runtime
from hashigo.service.health.schemas import BackendCheck, Readiness
from hashigo.storage.protocol import ObjectNotFound
from hashigo.urls import redact_url

# A key nobody writes: asking for it costs one HEAD (or stat) and proves the store answers.
READINESS_PROBE_KEY = "hashigo-readyz/absent"
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")
_MAX_ERROR = 300


def scrub(message: str) -> str:
    """An error message fit for a public endpoint: URLs redacted, one line, bounded."""
    line = " ".join(message.split())
    return _URL.sub(lambda m: redact_url(m.group(0)), line)[:_MAX_ERROR]


async def _database(runtime: Runtime) -> None:
    async with runtime.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def _kv(runtime: Runtime) -> None:
    await runtime.kv.ping()


async def _storage(runtime: Runtime) -> None:
    with contextlib.suppress(ObjectNotFound):  # the store answered; the key is meant to be absent
        await runtime.storage.head(READINESS_PROBE_KEY)


async def _pubsub(runtime: Runtime) -> None:
    await runtime.pubsub.ping()


async def _check(backend: str, timeout: float, probe: Callable[[], Awaitable[None]]) -> BackendCheck:
    started = time.perf_counter()
    error: str | None = None
    try:
        async with asyncio.timeout(timeout):
            await probe()
    except TimeoutError:
        error = f"no answer within {timeout:g}s"
    except Exception as exc:  # any failure means "not ready"; the message says which
        error = scrub(str(exc)) or type(exc).__name__
    latency_ms = round((time.perf_counter() - started) * 1000, 3)
    return BackendCheck(ok=error is None, latency_ms=latency_ms, backend=backend, error=error)


def backend_urls(runtime: Runtime) -> dict[str, str]:
    database = runtime.engine.url.render_as_string(hide_password=True)
    return {"database": redact_url(database), "kv": runtime.kv.url, "storage": runtime.storage.url,
            "pubsub": runtime.pubsub.url}


async def check_readiness(runtime: Runtime, timeout: float) -> Readiness:
    probes: dict[str, Callable[[], Awaitable[None]]] = {
        "database": lambda: _database(runtime), "kv": lambda: _kv(runtime),
        "storage": lambda: _storage(runtime), "pubsub": lambda: _pubsub(runtime)}
    urls = backend_urls(runtime)
    results = await asyncio.gather(*(_check(urls[name], timeout, probe) for name, probe in probes.items()))
    checks = dict(zip(probes, results, strict=True))
    ready = all(check.ok for check in results)
    return Readiness(status="ready" if ready else "unavailable", checks=checks)
