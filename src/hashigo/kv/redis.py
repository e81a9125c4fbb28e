"""The Redis key-value store: Redis, Valkey, Upstash (``rediss://``), ElastiCache, Memorystore.

redis-py's own retries are cut to one reconnect (never a retry after a timeout), and every
call also runs under our own deadline, so a server that is down or frozen costs the caller
at most ``timeout_seconds`` plus a little slack.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TypeVar

from redis import exceptions as redis_errors
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.connection import parse_url
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript

from hashigo.errors import BackendUnavailable, ConfigError
from hashigo.kv.namespaced import KeySpace, check_amount, check_key, encode_value, ttl_milliseconds
from hashigo.kv.protocol import KeyValueError, KeyValueStore
from hashigo.urls import strip_credentials

T = TypeVar("T")

BACKEND = "kv-redis"
_SCAN_COUNT = 500
# Answers that mean "the server cannot serve right now", not "your request is wrong".
_UNAVAILABLE_ERRORS: tuple[type[redis_errors.ResponseError], ...] = (
    redis_errors.OutOfMemoryError, redis_errors.ReadOnlyError, redis_errors.MasterDownError,
    redis_errors.ClusterDownError, redis_errors.TryAgainError, redis_errors.NoPermissionError,
)
# Errors without their own class keep their code at the start of the message.
_UNAVAILABLE_CODES = ("BUSY ", "OOM ", "READONLY ", "MASTERDOWN ", "NOPERM ")
# ttl applies only when this call creates the key: a fixed window for rate limits.
_INCR_WITH_TTL = """
local existed = redis.call('EXISTS', KEYS[1])
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
if existed == 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return value
"""


def escape_glob(text: str) -> str:
    """Make ``text`` match itself literally in a Redis MATCH pattern."""
    return "".join("\\" + ch if ch in "\\*?[]^-" else ch for ch in text)


def _as_bytes(value: bytes | str) -> bytes:
    # decode_responses is off, so replies are bytes; the str branch only satisfies the types.
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def _check_url(url: str) -> None:
    try:
        parse_url(url)
    except ValueError as exc:
        raise ConfigError(f"key-value URL {strip_credentials(url)!r} is not a valid Redis URL: {exc}") from None


class _RedisClient:
    """One redis-py client, shared by every namespace view, created on first use.

    redis.asyncio connections belong to the event loop that opened them; when a caller shows
    up on another loop (a CLI running ``asyncio.run`` twice, a test per loop) we start over.
    """

    def __init__(self, url: str, timeout: float) -> None:
        self.url = url
        self.timeout = timeout
        self.deadline = timeout + min(0.5, timeout * 0.25)
        self._client: Redis | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._incr_script: AsyncScript | None = None

    def client(self) -> Redis:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            pool = BlockingConnectionPool.from_url(
                self.url,
                # Past this many connections callers queue (within their deadline) instead of
                # failing; free tiers cap connections. ?max_connections=N in the URL overrides.
                max_connections=50,
                timeout=self.timeout,
                socket_timeout=self.timeout,
                socket_connect_timeout=self.timeout,
                socket_keepalive=True,
                # Idle connections (Upstash drops them) get a PING before reuse.
                health_check_interval=15,
                # One quick reconnect for a connection found dead; never a retry after a timeout.
                retry=Retry(NoBackoff(), 1, supported_errors=(redis_errors.ConnectionError,)),
                client_name="hashigo",
            )
            self._client = Redis.from_pool(pool)
            self._loop = loop
            self._incr_script = None
        return self._client

    def incr_script(self) -> AsyncScript:
        client = self.client()
        if self._incr_script is None:
            self._incr_script = client.register_script(_INCR_WITH_TTL)
        return self._incr_script

    async def call(self, what: str, work: Callable[[Redis], Awaitable[T]]) -> T:
        try:
            async with asyncio.timeout(self.deadline):
                return await work(self.client())
        except TimeoutError:
            raise BackendUnavailable(BACKEND, f"{strip_credentials(self.url)}: {what} got no answer within "
                                              f"{self.timeout:g}s") from None
        except redis_errors.ResponseError as exc:
            message = str(exc)
            if isinstance(exc, _UNAVAILABLE_ERRORS) or message.startswith(_UNAVAILABLE_CODES):
                raise BackendUnavailable(BACKEND, f"{strip_credentials(self.url)}: {what}: {message}") from None
            raise KeyValueError(f"{what}: {message}") from None
        except redis_errors.TimeoutError:
            raise BackendUnavailable(BACKEND, f"{strip_credentials(self.url)}: {what} got no answer within "
                                              f"{self.timeout:g}s") from None
        except (redis_errors.RedisError, OSError) as exc:
            raise BackendUnavailable(BACKEND, f"{strip_credentials(self.url)}: {what}: "
                                              f"{exc.__class__.__name__}: {exc}") from None

    async def close(self) -> None:
        client, self._client = self._client, None
        loop, self._loop = self._loop, None
        if client is None or loop is not asyncio.get_running_loop():
            return  # connections of a finished loop cannot be closed from another one
        try:
            async with asyncio.timeout(self.deadline):
                await client.aclose()
        except (TimeoutError, redis_errors.RedisError, OSError):
            pass


class RedisKeyValueStore(KeyValueStore):
    """``redis://`` / ``rediss://`` / ``unix://``. Namespaces are key prefixes ``name:``;
    views share the client, and only the store returned by ``open_kv`` closes it."""

    def __init__(self, url: str, *, timeout: float, _client: _RedisClient | None = None,
                 _space: KeySpace | None = None) -> None:
        if _client is None:
            _check_url(url)
        self._client = _client if _client is not None else _RedisClient(url, timeout)
        self._space = _space if _space is not None else KeySpace()
        self._owner = _client is None

    @property
    def url(self) -> str:
        return strip_credentials(self._client.url)

    def namespace(self, name: str) -> KeyValueStore:
        return RedisKeyValueStore(self._client.url, timeout=self._client.timeout, _client=self._client,
                                  _space=self._space.child(name))

    async def get(self, key: str) -> bytes | None:
        stored = self._space.qualify(key)

        async def work(client: Redis) -> bytes | None:
            value = await client.get(stored)
            return None if value is None else _as_bytes(value)

        return await self._client.call("GET", work)

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        if isinstance(keys, str):
            raise KeyValueError("get_many takes a sequence of keys, not one str")
        stored = [self._space.qualify(key) for key in keys]
        if not stored:
            return []

        async def work(client: Redis) -> list[bytes | None]:
            values = await client.mget(stored)
            return [None if value is None else _as_bytes(value) for value in values]

        return await self._client.call("MGET", work)

    async def set(self, key: str, value: bytes | str, *, ttl: float | None = None,
                  if_absent: bool = False) -> bool:
        stored = self._space.qualify(key)
        data = encode_value(value)
        px = None if ttl is None else ttl_milliseconds(ttl)

        async def work(client: Redis) -> bool:
            return bool(await client.set(stored, data, px=px, nx=if_absent))

        return await self._client.call("SET", work)

    async def delete(self, *keys: str) -> int:
        stored = list(dict.fromkeys(self._space.qualify(key) for key in keys))
        if not stored:
            return 0

        async def work(client: Redis) -> int:
            return int(await client.delete(*stored))

        return await self._client.call("DEL", work)

    async def expire(self, key: str, ttl: float) -> bool:
        stored = self._space.qualify(key)
        px = ttl_milliseconds(ttl)

        async def work(client: Redis) -> bool:
            return bool(await client.pexpire(stored, px))

        return await self._client.call("PEXPIRE", work)

    async def ttl(self, key: str) -> float | None:
        stored = self._space.qualify(key)

        async def work(client: Redis) -> float | None:
            millis = int(await client.pttl(stored))
            if millis == -2:
                return None
            if millis == -1:
                return float("inf")
            return max(0.0, millis / 1000)

        return await self._client.call("PTTL", work)

    async def incr(self, key: str, amount: int = 1, *, ttl: float | None = None) -> int:
        stored = self._space.qualify(key)
        step = check_amount(amount)
        if ttl is None:
            async def plain(client: Redis) -> int:
                return int(await client.incrby(stored, step))

            return await self._client.call("INCRBY", plain)

        px = ttl_milliseconds(ttl)

        async def scripted(client: Redis) -> int:
            script = self._client.incr_script()
            return int(await script(keys=[stored], args=[step, px], client=client))

        return await self._client.call("INCRBY", scripted)

    async def scan(self, prefix: str = "") -> AsyncIterator[str]:
        check_key(prefix)
        pattern = escape_glob(self._space.qualify(prefix)) + "*"
        cursor = 0
        # SCAN may return a key twice while the table is being resized.
        seen: set[bytes] = set()
        while True:
            async def work(client: Redis, cursor: int = cursor) -> tuple[int, list[bytes]]:
                next_cursor, keys = await client.scan(cursor, match=pattern, count=_SCAN_COUNT)
                return int(next_cursor), [_as_bytes(key) for key in keys]

            cursor, keys = await self._client.call("SCAN", work)
            for raw in keys:
                if raw in seen:
                    continue
                seen.add(raw)
                yield self._space.strip(raw.decode("utf-8", "surrogateescape"))
            if cursor == 0:
                return

    async def ping(self) -> str:
        async def work(client: Redis) -> str:
            try:
                info = await client.info("server")
            except redis_errors.ResponseError:
                # Some managed services disable INFO; an answered PING still proves it is up.
                await client.ping()
                return "redis (version not reported)"
            version = info.get("valkey_version") or info.get("redis_version") or "unknown"
            name = "valkey" if "valkey_version" in info else "redis"
            return f"{name} {version}"

        return await self._client.call("INFO", work)

    async def close(self) -> None:
        if self._owner:
            await self._client.close()
