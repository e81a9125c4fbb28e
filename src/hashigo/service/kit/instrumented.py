"""Backend call timing for ``/metrics``: proxies around the runtime's ports, events on the engine.

Every call records ``hashigo_backend_call_duration_seconds{backend, operation}``; a call that
fails for a reason that is not the caller's (outage, timeout, server error) also counts in
``hashigo_backend_errors_total``. A missing object, a taken key or a refused key name are
answers, not backend errors, so they are not counted.

The proxies forward anything outside the port's protocol to the adapter unchanged, so code
that reaches for an adapter's own attribute keeps working.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Mapping, Sequence
from datetime import timedelta
from typing import Any, TypeVar

from prometheus_client import Histogram
from sqlalchemy import event
from sqlalchemy.engine import Connection, Dialect, ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine

from hashigo.kv import KeyValueStore
from hashigo.kv.protocol import KeyValueError
from hashigo.pubsub.protocol import PubSub, PubSubError, Subscription
from hashigo.runtime import Runtime
from hashigo.service.kit.metrics import BACKEND_ERRORS, BACKEND_LATENCY
from hashigo.storage import ObjectStore
from hashigo.storage.protocol import (
    ByteRange,
    InvalidKey,
    InvalidMetadata,
    ObjectExists,
    ObjectInfo,
    ObjectNotFound,
    ObjectStream,
    SignedMethod,
)

T = TypeVar("T")

# Outcomes the caller asked for or caused; the backend answered correctly.
_ANSWERS: tuple[type[Exception], ...] = (ObjectNotFound, ObjectExists, InvalidKey, InvalidMetadata,
                                         KeyValueError, PubSubError)


class _Recorder:
    """One backend's label children, resolved once: ``labels()`` takes a lock on every call."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self._latency: dict[str, Histogram] = {}

    def observe(self, operation: str, seconds: float) -> None:
        child = self._latency.get(operation)
        if child is None:
            child = self._latency[operation] = BACKEND_LATENCY.labels(self.backend, operation)
        child.observe(seconds)

    def failed(self, operation: str, exc: Exception) -> None:
        if not isinstance(exc, _ANSWERS):
            BACKEND_ERRORS.labels(self.backend, operation).inc()

    async def timed(self, operation: str, call: Awaitable[T]) -> T:
        started = time.perf_counter()
        try:
            return await call
        except Exception as exc:
            self.failed(operation, exc)
            raise
        finally:
            self.observe(operation, time.perf_counter() - started)

    async def timed_iteration(self, operation: str, items: AsyncIterable[T]) -> AsyncIterator[T]:
        """A streamed listing, timed from the first request to the last item."""
        started = time.perf_counter()
        try:
            async for item in items:
                yield item
        except Exception as exc:
            self.failed(operation, exc)
            raise
        finally:
            self.observe(operation, time.perf_counter() - started)


class _Forwarding:
    def __getattr__(self, name: str) -> Any:
        # Only reached for names the proxy does not define.
        inner = self.__dict__.get("_inner")
        if inner is None:
            raise AttributeError(name)
        return getattr(inner, name)


class InstrumentedKeyValueStore(_Forwarding):
    _inner: KeyValueStore

    def __init__(self, inner: KeyValueStore, recorder: _Recorder | None = None) -> None:
        self._inner = inner
        self._rec = recorder or _Recorder("kv")

    @property
    def url(self) -> str:
        return self._inner.url

    async def get(self, key: str) -> bytes | None:
        return await self._rec.timed("get", self._inner.get(key))

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        return await self._rec.timed("get_many", self._inner.get_many(keys))

    async def set(self, key: str, value: bytes | str, *, ttl: float | None = None, if_absent: bool = False) -> bool:
        return await self._rec.timed("set", self._inner.set(key, value, ttl=ttl, if_absent=if_absent))

    async def delete(self, *keys: str) -> int:
        return await self._rec.timed("delete", self._inner.delete(*keys))

    async def expire(self, key: str, ttl: float) -> bool:
        return await self._rec.timed("expire", self._inner.expire(key, ttl))

    async def ttl(self, key: str) -> float | None:
        return await self._rec.timed("ttl", self._inner.ttl(key))

    async def incr(self, key: str, amount: int = 1, *, ttl: float | None = None) -> int:
        return await self._rec.timed("incr", self._inner.incr(key, amount, ttl=ttl))

    def scan(self, prefix: str = "") -> AsyncIterator[str]:
        return self._rec.timed_iteration("scan", self._inner.scan(prefix))

    def namespace(self, name: str) -> KeyValueStore:
        return InstrumentedKeyValueStore(self._inner.namespace(name), self._rec)

    async def ping(self) -> str:
        return await self._rec.timed("ping", self._inner.ping())

    async def close(self) -> None:
        await self._inner.close()


class InstrumentedObjectStore(_Forwarding):
    _inner: ObjectStore

    def __init__(self, inner: ObjectStore) -> None:
        self._inner = inner
        self._rec = _Recorder("storage")

    @property
    def url(self) -> str:
        return self._inner.url

    async def put(self, key: str, data: bytes | AsyncIterable[bytes], *, content_type: str | None = None,
                  cache_control: str | None = None, content_disposition: str | None = None,
                  metadata: Mapping[str, str] | None = None, if_absent: bool = False) -> ObjectInfo:
        return await self._rec.timed("put", self._inner.put(
            key, data, content_type=content_type, cache_control=cache_control,
            content_disposition=content_disposition, metadata=metadata, if_absent=if_absent))

    async def get(self, key: str, *, byte_range: ByteRange | None = None) -> ObjectStream:
        """Timed to the first byte; the body streams afterwards at the client's pace."""
        return await self._rec.timed("get", self._inner.get(key, byte_range=byte_range))

    async def head(self, key: str) -> ObjectInfo:
        return await self._rec.timed("head", self._inner.head(key))

    def list(self, prefix: str = "") -> AsyncIterator[ObjectInfo]:
        return self._rec.timed_iteration("list", self._inner.list(prefix))

    async def delete(self, key: str) -> None:
        await self._rec.timed("delete", self._inner.delete(key))

    async def copy(self, src: str, dst: str, *, if_absent: bool = False) -> None:
        await self._rec.timed("copy", self._inner.copy(src, dst, if_absent=if_absent))

    async def signed_url(self, key: str, method: SignedMethod, expires_in: timedelta) -> str:
        return await self._rec.timed("signed_url", self._inner.signed_url(key, method, expires_in))

    async def close(self) -> None:
        await self._inner.close()


class InstrumentedPubSub(_Forwarding):
    _inner: PubSub

    def __init__(self, inner: PubSub) -> None:
        self._inner = inner
        self._rec = _Recorder("pubsub")

    @property
    def url(self) -> str:
        return self._inner.url

    async def publish(self, channel: str, data: bytes) -> None:
        await self._rec.timed("publish", self._inner.publish(channel, data))

    async def subscription(self) -> Subscription:
        return await self._rec.timed("subscribe", self._inner.subscription())

    async def ping(self) -> str:
        return await self._rec.timed("ping", self._inner.ping())

    async def close(self) -> None:
        await self._inner.close()


# --- the database: SQLAlchemy events on the engine, labelled by statement kind ---------------------

_DATABASE = _Recorder("database")
_STARTED = "hashigo_statement_started"
_STATEMENT_KINDS = frozenset({"select", "insert", "update", "delete", "with", "begin", "commit", "rollback",
                              "savepoint", "release"})


def _statement_kind(statement: str | None) -> str:
    words = (statement or "").split(None, 1)
    kind = words[0].lower() if words else "other"
    return kind if kind in _STATEMENT_KINDS else "other"


def _before_execute(conn: Connection, _cursor: Any, _statement: str, _parameters: Any, _context: Any,
                    _executemany: bool) -> None:
    conn.info.setdefault(_STARTED, []).append(time.perf_counter())


def _after_execute(conn: Connection, _cursor: Any, statement: str, _parameters: Any, _context: Any,
                   _executemany: bool) -> None:
    started = conn.info.get(_STARTED)
    if started:
        _DATABASE.observe(_statement_kind(statement), time.perf_counter() - started.pop())


def _on_error(ctx: ExceptionContext) -> None:
    if ctx.is_pre_ping:
        # A pooled connection that went stale (server restarted): the pool reconnects by itself.
        BACKEND_ERRORS.labels("database", "ping").inc()
        return
    if ctx.statement is None:
        return  # a failed connect, already counted by _connect
    kind = _statement_kind(ctx.statement)
    started = ctx.connection.info.get(_STARTED) if ctx.connection is not None else None
    if started:
        _DATABASE.observe(kind, time.perf_counter() - started.pop())
    BACKEND_ERRORS.labels("database", kind).inc()


def _connect(dialect: Dialect, _record: Any, cargs: Any, cparams: Any) -> Any:
    """Opens the connection itself (the documented use of ``do_connect``) so it can time it."""
    started = time.perf_counter()
    try:
        return dialect.connect(*cargs, **cparams)
    except Exception as exc:
        _DATABASE.failed("connect", exc)
        raise
    finally:
        _DATABASE.observe("connect", time.perf_counter() - started)


_ENGINE_EVENTS = (("before_cursor_execute", _before_execute), ("after_cursor_execute", _after_execute),
                  ("handle_error", _on_error), ("do_connect", _connect))


def instrument_engine(engine: AsyncEngine) -> None:
    """Listen once per engine, however many apps are built on it."""
    target = engine.sync_engine
    for name, listener in _ENGINE_EVENTS:
        if not event.contains(target, name, listener):
            event.listen(target, name, listener)


def instrument_runtime(runtime: Runtime) -> Runtime:
    """The same backends, each call timed; closing the result closes the originals."""
    if isinstance(runtime.kv, InstrumentedKeyValueStore):
        return runtime
    instrument_engine(runtime.engine)
    return dataclasses.replace(runtime, kv=InstrumentedKeyValueStore(runtime.kv),
                               storage=InstrumentedObjectStore(runtime.storage),
                               pubsub=InstrumentedPubSub(runtime.pubsub))
