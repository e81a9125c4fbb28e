"""/api/v1/ws with Redis pub/sub: two service processes, a slow client, a Redis outage.

The key test: a client connected to instance A receives the event caused by a REST call on
instance B (same PostgreSQL, Redis and S3 — the "servers" profile).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import time
import zlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from hashigo.pubsub import PubSub, open_pubsub
from hashigo.service.realtime.events import publish_session_event
from hashigo.settings import PubSubSettings
from tests.harness.redis import RedisServer
from tests.harness.service import LiveService, profile_environment
from tests.service.accounts import signed_in
from tests.service.realtime_helpers import (
    close_of,
    expect,
    metric,
    new_session,
    next_frame,
    nothing_but_pong,
    opened,
    refusal,
    subscribe,
)

DROPPED = ("hashigo_websocket_events_total", '{outcome="dropped"}')


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = (1).to_bytes(4, "big") * 2 + bytes([8, 0, 0, 0, 0])
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
            + chunk(b"IEND", b""))


@pytest.fixture
def two_instances(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[LiveService, LiveService]]:
    env = profile_environment("servers", request, tmp_path)
    first = LiveService(env, tmp_path).start()  # migrates; the second then finds the schema at head
    try:
        second = LiveService(env, tmp_path).start()
        try:
            yield first, second
        finally:
            second.stop()
    finally:
        first.stop()


async def test_an_event_from_instance_b_reaches_a_socket_on_instance_a(
        two_instances: tuple[LiveService, LiveService]) -> None:
    a, b = two_instances
    async with httpx.AsyncClient(base_url=b.url, timeout=15, trust_env=False) as on_b:
        account = await signed_in(on_b)  # registered and logged in on B; the token works on A too
        session_id = await new_session(on_b, account.headers)
        socket = await opened(a, account.access_token)
        assert await subscribe(socket, session_id) == {"type": "subscribed", "session_id": session_id}

        put = await on_b.put(f"/api/v1/sessions/{session_id}/meta/user_profile", headers=account.headers,
                             json={"plan": "free"})
        assert put.status_code == 200, put.text
        event = await expect(socket, "meta.changed")
        assert (event["session_id"], event["data"]["field"]) == (session_id, "user_profile")

        photo = tiny_png()
        upload = await on_b.put(f"/api/v1/sessions/{session_id}/files/photos/cat.png", content=photo,
                                headers={**account.headers, "Content-Type": "image/png"})
        assert upload.status_code == 201, upload.text
        added = await expect(socket, "file.added")
        assert added["data"] == {"path": "photos/cat.png", "size": len(photo), "content_type": "image/png"}

        out = await on_b.post("/api/v1/auth/logout", headers=account.headers)  # revocation crosses too
        assert out.status_code == 204
        assert await close_of(socket) == (4401, "token revoked")


@pytest.fixture
def redis_pubsub_service(request: pytest.FixtureRequest, tmp_path: Path,
                         redis_url: str) -> Iterator[LiveService]:
    """Embedded database and store; pub/sub on Redis so the test can publish big events itself."""
    env = profile_environment("embedded", request, tmp_path)
    env.update({"PUBSUB_URL": redis_url, "WS_QUEUE_SIZE": "4"})
    service = LiveService(env, tmp_path).start()
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture
async def redis_pubsub(redis_url: str) -> AsyncIterator[PubSub]:
    pubsub = open_pubsub(PubSubSettings(url=redis_url, timeout_seconds=5))
    try:
        yield pubsub
    finally:
        await pubsub.close()


async def test_a_slow_consumer_is_dropped_with_1013_and_counted(redis_pubsub_service: LiveService,
                                                                 redis_pubsub: PubSub) -> None:
    """Checklist 18: the outbound queue is bounded; a client that stops reading is closed."""
    service = redis_pubsub_service
    async with httpx.AsyncClient(base_url=service.url, timeout=15, trust_env=False) as http:
        account = await signed_in(http)
        session_id = await new_session(http, account.headers)
        dropped_before = await metric(http, *DROPPED)
        # No compression and a one-frame client queue: the bytes pile up in the sockets fast.
        socket = await opened(service, account.access_token, compression=None, max_queue=1)
        await subscribe(socket, session_id)
        padding = base64.b64encode(os.urandom(96 * 1024)).decode()  # 128 KiB, incompressible
        sent = 0
        deadline = time.monotonic() + 60
        while await metric(http, *DROPPED) == dropped_before:  # the client reads nothing meanwhile
            assert time.monotonic() < deadline, "a client that reads nothing was never dropped"
            for _ in range(10):
                assert await publish_session_event(redis_pubsub, session_id, "file.added", {"pad": padding})
            sent += 10
        assert await metric(http, *DROPPED) == dropped_before + 1

        received = 0
        try:
            async with asyncio.timeout(30):
                while True:
                    json.loads(await socket.recv())
                    received += 1
        except Exception as exc:  # ConnectionClosed once the backlog is read
            assert socket.close_code == 1013, exc
        assert socket.close_reason == "too slow: event queue full"
        assert received < sent
        # The server is fine, and a well-behaved client still gets its events.
        healthy = await opened(service, account.access_token)
        await subscribe(healthy, session_id)
        assert await publish_session_event(redis_pubsub, session_id, "meta.changed", {"field": "x"})
        assert (await expect(healthy, "meta.changed"))["data"] == {"field": "x"}
        await healthy.close()
    assert "Traceback" not in service.log()


async def test_clients_vanishing_mid_stream_leave_nothing_behind(redis_pubsub_service: LiveService,
                                                                 redis_pubsub: PubSub) -> None:
    service = redis_pubsub_service
    async with httpx.AsyncClient(base_url=service.url, timeout=15, trust_env=False) as http:
        account = await signed_in(http)
        session_id = await new_session(http, account.headers)
        before = await metric(http, "hashigo_websocket_connections")
        sockets = [await opened(service, account.access_token) for _ in range(5)]
        for socket in sockets:
            await subscribe(socket, session_id)
        streaming = asyncio.create_task(_publish_many(redis_pubsub, session_id, 200))
        await asyncio.sleep(0.05)
        for socket in sockets:
            socket.transport.abort()  # no close frame: the TCP connection just ends
        await streaming
        deadline = time.monotonic() + 10
        while await metric(http, "hashigo_websocket_connections") != before:
            assert time.monotonic() < deadline, "sockets that vanished are still counted"
            await asyncio.sleep(0.05)
        survivor = await opened(service, account.access_token)
        await subscribe(survivor, session_id)
        assert await publish_session_event(redis_pubsub, session_id, "meta.changed", {"field": "after"})
        assert (await expect(survivor, "meta.changed"))["data"] == {"field": "after"}
        await survivor.close()
    await asyncio.sleep(0.2)
    log = service.log()
    assert "Traceback" not in log and '"level": "ERROR"' not in log, log[-2000:]


async def _publish_many(pubsub: PubSub, session_id: str, count: int) -> None:
    for i in range(count):
        await publish_session_event(pubsub, session_id, "meta.changed", {"field": f"f{i}"})


@pytest.fixture
def outage_service(request: pytest.FixtureRequest, tmp_path: Path,
                   private_redis: RedisServer) -> Iterator[LiveService]:
    env = profile_environment("embedded", request, tmp_path)
    env.update({"PUBSUB_URL": private_redis.url, "PUBSUB_TIMEOUT": "1"})
    service = LiveService(env, tmp_path).start()
    try:
        yield service
    finally:
        service.stop()


async def test_pubsub_outage_refuses_new_sockets_and_open_ones_recover(outage_service: LiveService,
                                                                       private_redis: RedisServer) -> None:
    service = outage_service
    async with httpx.AsyncClient(base_url=service.url, timeout=15, trust_env=False) as http:
        account, newcomer = await signed_in(http), await signed_in(http)
        session_id = await new_session(http, account.headers)
        socket = await opened(service, account.access_token)
        await subscribe(socket, session_id)

        private_redis.stop()
        # A socket whose user channel this process does not listen to yet cannot be served.
        started = time.monotonic()
        status, body = await refusal(service, newcomer.access_token)
        assert (status, body["code"]) == (503, "backend_unavailable")
        assert time.monotonic() - started < 1 + 2.0
        await nothing_but_pong(socket)  # the open socket is not dropped
        put = await http.put(f"/api/v1/sessions/{session_id}/meta/f", headers=account.headers, json=1)
        assert put.status_code == 200  # publishing is best effort; the write succeeded

        private_redis.start()
        deadline = time.monotonic() + 20
        while True:  # the hub's subscription reconnects and subscribes again by itself
            assert time.monotonic() < deadline, "events never came back after Redis returned"
            put = await http.put(f"/api/v1/sessions/{session_id}/meta/f", headers=account.headers, json=2)
            assert put.status_code == 200
            try:
                event = await next_frame(socket, timeout=0.5)
            except TimeoutError:
                continue
            assert event["type"] == "meta.changed"
            break
        fresh = await opened(service, newcomer.access_token)
        await fresh.close()
        await socket.close()


async def test_a_revocation_published_through_redis_closes_the_socket(redis_pubsub_service: LiveService,
                                                                      redis_pubsub: PubSub) -> None:
    """Revocations of another login of the same user leave this socket open."""
    from hashigo.service.realtime.events import publish_user_event

    service = redis_pubsub_service
    async with httpx.AsyncClient(base_url=service.url, timeout=15, trust_env=False) as http:
        account = await signed_in(http)
    socket = await opened(service, account.access_token)
    assert await publish_user_event(redis_pubsub, account.user_id, "auth.revoked",
                                    {"family_id": secrets.token_hex(16)})
    await nothing_but_pong(socket)
    assert await publish_user_event(redis_pubsub, account.user_id, "auth.revoked", {"family_id": None})
    assert await close_of(socket) == (4401, "token revoked")
