"""Redis pub/sub: events reach every service instance connected to the same Redis.

Publishing uses a small shared pool; every call runs under a deadline and raises
``BackendUnavailable("pub/sub", …)`` when Redis is down, frozen or refusing.

A subscription owns one connection and one reader task. When that connection drops (Redis
restarted, network cut) or stops answering (a PING after ``heartbeat`` seconds of silence gets
no reply within ``timeout``), the reader reconnects with capped exponential backoff and
subscribes to every channel again; iteration simply continues. Messages published while it
was away are lost: delivery is at most once, as the port promises. Iteration ends only on
``close()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from redis import exceptions as redis_errors
from redis.asyncio import BlockingConnectionPool, ConnectionPool, Redis
from redis.asyncio.connection import AbstractConnection, parse_url
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from hashigo.errors import BackendUnavailable, ConfigError
from hashigo.pubsub.backlog import Backlog, check_channel, check_data
from hashigo.pubsub.protocol import Message, PubSubError
from hashigo.urls import strip_credentials

T = TypeVar("T")

BACKEND = "pub/sub"
FIRST_RETRY_SECONDS = 0.1
MAX_RETRY_SECONDS = 5.0
log = logging.getLogger("hashigo.pubsub")

_UNAVAILABLE_ERRORS: tuple[type[redis_errors.ResponseError], ...] = (
    redis_errors.OutOfMemoryError, redis_errors.ReadOnlyError, redis_errors.MasterDownError,
    redis_errors.NoPermissionError, redis_errors.TryAgainError,
)


def _text(value: bytes | str) -> str:
    return value if isinstance(value, str) else bytes(value).decode("utf-8", "surrogateescape")


def _bytes(value: bytes | str) -> bytes:
    return value.encode("utf-8", "surrogateescape") if isinstance(value, str) else bytes(value)


class RedisPubSub:
    """``redis://`` / ``rediss://`` / ``unix://``; ``url`` never shows credentials."""

    def __init__(self, url: str, *, timeout: float, heartbeat: float = 10.0) -> None:
        try:
            parse_url(url)
        except ValueError as exc:
            raise ConfigError(f"pub/sub URL {strip_credentials(url)!r} is not a valid Redis URL: {exc}") from None
        self._url = url
        self.timeout = timeout
        self.heartbeat = heartbeat
        # Our own guard over redis-py's socket timeouts, with a little slack for scheduling.
        self.deadline = timeout + min(0.5, timeout * 0.25)
        self._client: Redis | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._subscriptions: set[RedisSubscription] = set()

    @property
    def url(self) -> str:
        return strip_credentials(self._url)

    def _connection_kwargs(self) -> dict[str, Any]:
        return {"socket_timeout": self.timeout, "socket_connect_timeout": self.timeout,
                "socket_keepalive": True, "client_name": "hashigo-pubsub",
                "retry": Retry(NoBackoff(), 0, supported_errors=(redis_errors.ConnectionError,))}

    def _redis(self) -> Redis:
        # redis.asyncio connections belong to the loop that opened them; start over on another.
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            kwargs = self._connection_kwargs()
            kwargs["retry"] = Retry(NoBackoff(), 1, supported_errors=(redis_errors.ConnectionError,))
            pool = BlockingConnectionPool.from_url(self._url, max_connections=20, timeout=self.timeout,
                                                   health_check_interval=15, **kwargs)
            self._client = Redis.from_pool(pool)
            self._loop = loop
        return self._client

    def new_connection(self) -> AbstractConnection:
        """A connection of its own for one subscription (subscribed connections cannot be shared)."""
        pool = ConnectionPool.from_url(self._url, **self._connection_kwargs())
        connection: AbstractConnection = pool.make_connection()  # type: ignore[no-untyped-call]
        return connection

    def unavailable(self, what: str, exc: BaseException) -> BackendUnavailable:
        if isinstance(exc, TimeoutError | redis_errors.TimeoutError):
            return BackendUnavailable(BACKEND, f"{self.url}: {what} got no answer within {self.timeout:g}s")
        return BackendUnavailable(BACKEND, f"{self.url}: {what}: {exc.__class__.__name__}: {exc}")

    async def _call(self, what: str, work: Callable[[Redis], Awaitable[T]]) -> T:
        try:
            async with asyncio.timeout(self.deadline):
                return await work(self._redis())
        except redis_errors.ResponseError as exc:
            if isinstance(exc, _UNAVAILABLE_ERRORS):
                raise self.unavailable(what, exc) from None
            raise PubSubError(f"{what}: {exc}") from None
        except (TimeoutError, redis_errors.RedisError, OSError) as exc:
            raise self.unavailable(what, exc) from None

    async def publish(self, channel: str, data: bytes) -> None:
        name, payload = check_channel(channel), check_data(data)

        async def work(client: Redis) -> None:
            await client.publish(name, payload)

        await self._call("PUBLISH", work)

    async def subscription(self) -> RedisSubscription:
        subscription = RedisSubscription(self)
        self._subscriptions.add(subscription)
        return subscription

    async def ping(self) -> str:
        async def work(client: Redis) -> str:
            try:
                info = await client.info("server")
            except redis_errors.ResponseError:
                await client.ping()  # some managed services disable INFO
                return "redis (version not reported)"
            version = info.get("valkey_version") or info.get("redis_version") or "unknown"
            return f"{'valkey' if 'valkey_version' in info else 'redis'} {version}"

        return await self._call("INFO", work)

    async def close(self) -> None:
        for subscription in list(self._subscriptions):
            await subscription.close()
        client, self._client = self._client, None
        loop, self._loop = self._loop, None
        if client is None or loop is not asyncio.get_running_loop():
            return  # connections of a finished loop cannot be closed from another one
        with contextlib.suppress(TimeoutError, redis_errors.RedisError, OSError):
            async with asyncio.timeout(self.deadline):
                await client.aclose()


class RedisSubscription:
    """One listener on its own connection, read by its own task; iterate it from one task.

    ``subscribe`` returns once Redis confirmed the channels, so anything published after it
    returns is delivered. If Redis does not confirm within the timeout it raises
    ``BackendUnavailable``; the channels stay wanted and are subscribed when the connection
    comes back (``unsubscribe`` them to give them up).
    """

    def __init__(self, owner: RedisPubSub) -> None:
        self._owner = owner
        self._channels: set[str] = set()
        self._confirmed: set[str] = set()
        self._waiting: dict[str, list[asyncio.Future[None]]] = {}
        self._backlog = Backlog()
        self._conn: AbstractConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._send_lock = asyncio.Lock()
        self._heard = False
        self.reconnects = 0

    @property
    def dropped(self) -> int:
        """Messages lost because this listener fell more than ``MAX_BACKLOG`` behind."""
        return self._backlog.dropped

    async def subscribe(self, *channels: str) -> None:
        if self._backlog.closed:
            raise PubSubError("the subscription is closed")
        names = list(dict.fromkeys(check_channel(channel) for channel in channels))
        loop = asyncio.get_running_loop()
        waits: dict[str, asyncio.Future[None]] = {}
        for name in names:
            self._channels.add(name)
            if name not in self._confirmed:
                waits[name] = loop.create_future()
                self._waiting.setdefault(name, []).append(waits[name])
        if not waits:
            return
        self._start_reader()
        try:
            async with asyncio.timeout(self._owner.deadline):
                conn = self._conn
                if conn is not None:  # otherwise the reader subscribes them once it is connected
                    await self._send(conn, "SUBSCRIBE", *list(waits))
                await asyncio.gather(*waits.values())
        except (TimeoutError, redis_errors.RedisError, OSError) as exc:
            raise self._owner.unavailable("SUBSCRIBE", exc) from None
        finally:
            for name, future in waits.items():
                if future in self._waiting.get(name, ()):
                    self._waiting[name].remove(future)
                future.cancel()

    async def unsubscribe(self, *channels: str) -> None:
        gone = [name for name in dict.fromkeys(channels) if name in self._channels]
        for name in gone:
            self._channels.discard(name)
            self._confirmed.discard(name)
        conn = self._conn
        if not gone or conn is None:
            return
        # Messages for these channels are filtered out from now on, so a lost UNSUBSCRIBE only
        # costs traffic until the next reconnect, which does not ask for them again.
        with contextlib.suppress(TimeoutError, redis_errors.RedisError, OSError):
            async with asyncio.timeout(self._owner.deadline):
                await self._send(conn, "UNSUBSCRIBE", *gone)

    def __aiter__(self) -> AsyncIterator[Message]:
        return self._backlog.__aiter__()

    async def close(self) -> None:
        if self._backlog.closed:
            return
        self._backlog.close()
        self._owner._subscriptions.discard(self)
        for futures in self._waiting.values():
            for future in futures:
                if not future.done():
                    future.set_exception(PubSubError("the subscription was closed"))
        reader, self._reader = self._reader, None
        if reader is not None and not reader.done():
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.disconnect(nowait=True)

    # --- the reader ---------------------------------------------------------------------

    def _start_reader(self) -> None:
        if self._reader is None or self._reader.done():
            # A fresh context: the reader outlives the request that happened to start it.
            self._reader = asyncio.get_running_loop().create_task(self._run(), name="hashigo-pubsub-reader",
                                                                  context=contextvars.Context())

    async def _send(self, conn: AbstractConnection, *args: str) -> None:
        async with self._send_lock:
            await conn.send_command(*args, check_health=False)

    async def _run(self) -> None:
        delay, failures = FIRST_RETRY_SECONDS, 0
        while not self._backlog.closed:
            conn: AbstractConnection | None = None
            self._heard = False
            try:
                conn = await self._connect()
                await self._pump(conn)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any failure of this connection: start a new one, never stop
                if self._backlog.closed:
                    return
                failures = 1 if self._heard else failures + 1
                # Loud when a working connection is lost and every 10th failed retry, quiet in between.
                level = logging.WARNING if failures % 10 == 1 else logging.DEBUG
                log.log(level, "pub/sub connection lost; reconnecting" if failures == 1 else
                        "pub/sub still unreachable; retrying",
                        extra={"url": self._owner.url, "error": f"{exc.__class__.__name__}: {exc}",
                               "attempts": failures})
            finally:
                self._conn = None
                self._confirmed.clear()
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await conn.disconnect(nowait=True)
            delay = FIRST_RETRY_SECONDS if self._heard else delay
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, MAX_RETRY_SECONDS)
            self.reconnects += 1

    async def _connect(self) -> AbstractConnection:
        conn = self._owner.new_connection()
        async with asyncio.timeout(self._owner.deadline):
            await conn.connect()  # type: ignore[no-untyped-call]
            self._conn = conn
            wanted = list(self._channels)
            if wanted:
                await self._send(conn, "SUBSCRIBE", *wanted)
        if self.reconnects:
            log.info("pub/sub reconnected", extra={"url": self._owner.url, "channels": len(wanted)})
        return conn

    async def _pump(self, conn: AbstractConnection) -> None:
        """Read until the connection fails (it raises); ``_heard`` once a reply came (resets the backoff)."""
        ping_sent, silent_since = False, asyncio.get_running_loop().time()
        while True:
            reply = await conn.read_response(timeout=self._owner.timeout, disconnect_on_error=False,
                                             push_request=True)
            now = asyncio.get_running_loop().time()
            if reply is None:  # a whole timeout of silence
                if ping_sent:
                    raise TimeoutError(f"no answer to PING within {self._owner.timeout:g}s")
                if now - silent_since >= self._owner.heartbeat:
                    await self._send(conn, "PING")
                    ping_sent = True
                continue
            self._heard, ping_sent, silent_since = True, False, now
            self._handle(reply)

    def _handle(self, reply: object) -> None:
        if not isinstance(reply, list) or len(reply) < 2:
            return
        kind = _text(reply[0]).lower()
        channel = _text(reply[1])
        if kind == "message" and len(reply) == 3:
            if channel in self._channels:  # late messages of an unsubscribed channel stay out
                self._backlog.put(Message(channel, _bytes(reply[2])))
        elif kind == "subscribe":
            if channel in self._channels:
                self._confirmed.add(channel)
            for future in self._waiting.pop(channel, []):
                if not future.done():
                    future.set_result(None)
