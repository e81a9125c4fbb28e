"""One conformance suite for every pub/sub adapter, each against a real backend.

The in-process adapter needs no server; Redis is a real server (``redis_url``, shared, so every
test uses channel names of its own) or, for outages, a private server the test stops, freezes
and restarts. Adding a backend means adding it to ``ADAPTERS``.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import AsyncIterator

import pytest

from hashigo.errors import BackendUnavailable, ConfigError
from hashigo.pubsub import Message, PubSub, PubSubError, Subscription, open_pubsub
from hashigo.pubsub.redis import RedisPubSub, RedisSubscription
from hashigo.settings import PubSubSettings
from tests.harness.base import free_port
from tests.harness.blackhole import Blackhole
from tests.harness.redis import RedisServer

ADAPTERS = ["memory", "redis"]
TIMEOUT = 2.0
# What "within the timeout" may overshoot by: our own guard plus scheduling on a busy CI box.
SLACK = 0.75


@pytest.fixture(params=ADAPTERS)
def pubsub_url(request: pytest.FixtureRequest) -> str:
    if request.param == "memory":
        return "memory://"
    return str(request.getfixturevalue("redis_url"))


@pytest.fixture
async def pubsub(pubsub_url: str) -> AsyncIterator[PubSub]:
    opened = open_pubsub(PubSubSettings(url=pubsub_url, timeout_seconds=TIMEOUT))
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def channel() -> str:
    """A channel prefix of this test alone: the Redis server may be shared."""
    return f"conformance-{uuid.uuid4().hex[:12]}"


async def take(subscription: Subscription, count: int, timeout: float = 5.0) -> list[Message]:
    got: list[Message] = []
    if count == 0:
        return got
    async with asyncio.timeout(timeout):
        async for message in subscription:
            got.append(message)
            if len(got) == count:
                break
    return got


async def nothing_arrives(subscription: Subscription, within: float = 0.3) -> bool:
    try:
        await take(subscription, 1, within)
    except TimeoutError:
        return True
    return False


# --- normal use -------------------------------------------------------------------------


async def test_every_subscriber_gets_every_message_of_its_channels(pubsub: PubSub, channel: str) -> None:
    news, sport = f"{channel}:news", f"{channel}:sport"
    both, only_news, only_sport = [await pubsub.subscription() for _ in range(3)]
    await both.subscribe(news, sport)
    await only_news.subscribe(news)
    await only_sport.subscribe(sport)
    await pubsub.publish(news, b"n1")
    await pubsub.publish(sport, b"s1")
    await pubsub.publish(news, b"n2")

    assert sorted((m.channel, m.data) for m in await take(both, 3)) == [(news, b"n1"), (news, b"n2"),
                                                                         (sport, b"s1")]
    assert [(m.channel, m.data) for m in await take(only_news, 2)] == [(news, b"n1"), (news, b"n2")]
    assert [(m.channel, m.data) for m in await take(only_sport, 1)] == [(sport, b"s1")]
    assert await nothing_arrives(only_sport)
    for subscription in (both, only_news, only_sport):
        await subscription.close()


async def test_messages_keep_publish_order_per_channel(pubsub: PubSub, channel: str) -> None:
    listener = await pubsub.subscription()
    await listener.subscribe(channel)
    for i in range(300):
        await pubsub.publish(channel, str(i).encode())
    got = await take(listener, 300, timeout=15)
    assert [int(m.data) for m in got] == list(range(300))
    await listener.close()


async def test_only_messages_published_after_subscribe_arrive(pubsub: PubSub, channel: str) -> None:
    listener = await pubsub.subscription()
    await pubsub.publish(channel, b"too early")
    await listener.subscribe(channel)
    await pubsub.publish(channel, b"on time")
    assert [m.data for m in await take(listener, 1)] == [b"on time"]
    await listener.close()


async def test_unsubscribe_stops_delivery_of_that_channel_only(pubsub: PubSub, channel: str) -> None:
    kept, dropped = f"{channel}:kept", f"{channel}:dropped"
    listener = await pubsub.subscription()
    await listener.subscribe(kept, dropped)
    await listener.unsubscribe(dropped)
    await listener.unsubscribe(dropped, f"{channel}:never-subscribed")  # idempotent
    await pubsub.publish(dropped, b"unwanted")
    await pubsub.publish(kept, b"wanted")
    assert [(m.channel, m.data) for m in await take(listener, 1)] == [(kept, b"wanted")]
    assert await nothing_arrives(listener)
    await listener.subscribe(dropped)  # and back again
    await pubsub.publish(dropped, b"welcome back")
    assert [m.data for m in await take(listener, 1)] == [b"welcome back"]
    await listener.close()


async def test_close_ends_iteration_and_refuses_new_channels(pubsub: PubSub, channel: str) -> None:
    listener = await pubsub.subscription()
    await listener.subscribe(channel)
    received: list[Message] = []
    first = asyncio.Event()

    async def drain() -> None:
        async for message in listener:
            received.append(message)
            first.set()

    reader = asyncio.create_task(drain())
    await pubsub.publish(channel, b"before close")
    async with asyncio.timeout(5):
        await first.wait()
    await listener.close()
    async with asyncio.timeout(2):
        await reader  # the iteration ended by itself
    assert [m.data for m in received] == [b"before close"]
    with pytest.raises(PubSubError, match="closed"):
        await listener.subscribe(channel)
    await listener.close()  # twice is fine
    await pubsub.publish(channel, b"after close")  # nobody listens; still fine


async def test_binary_payloads_arrive_unchanged(pubsub: PubSub, channel: str) -> None:
    payloads = [bytes(range(256)), b"", b"\x00\r\n*3\r\n$7\r\nmessage", "日本語".encode(), b"\xff" * (1 << 20)]
    listener = await pubsub.subscription()
    await listener.subscribe(channel)
    for payload in payloads:
        await pubsub.publish(channel, payload)
    await pubsub.publish(channel, bytearray(b"bytearray"))  # type: ignore[arg-type]
    got = [m.data for m in await take(listener, len(payloads) + 1)]
    assert got == [*payloads, b"bytearray"]
    assert all(type(data) is bytes for data in got)
    await listener.close()


async def test_channel_names_are_taken_literally(pubsub: PubSub, channel: str) -> None:
    glob, plain = f"{channel}:*", f"{channel}:x"
    listener = await pubsub.subscription()
    await listener.subscribe(glob, f"{channel}:ünï")
    await pubsub.publish(plain, b"must not match the glob")
    await pubsub.publish(glob, b"literal star")
    await pubsub.publish(f"{channel}:ünï", b"unicode")
    assert [(m.channel, m.data) for m in await take(listener, 2)] == [(glob, b"literal star"),
                                                                       (f"{channel}:ünï", b"unicode")]
    await listener.close()


async def test_publishing_to_a_channel_nobody_listens_to_is_fine(pubsub: PubSub, channel: str) -> None:
    for _ in range(3):
        await pubsub.publish(f"{channel}:empty-room", b"hello?")


async def test_bad_arguments_are_refused_clearly(pubsub: PubSub, channel: str) -> None:
    listener = await pubsub.subscription()
    with pytest.raises(PubSubError, match="non-empty str"):
        await listener.subscribe("")
    with pytest.raises(PubSubError, match="non-empty str"):
        await pubsub.publish("", b"x")
    with pytest.raises(PubSubError, match="bytes, not str"):
        await pubsub.publish(channel, "text")  # type: ignore[arg-type]
    with pytest.raises(PubSubError, match="bytes, not int"):
        await pubsub.publish(channel, 5)  # type: ignore[arg-type]
    with pytest.raises(PubSubError, match="at most 1024 bytes"):
        await pubsub.publish("x" * 2000, b"x")
    await listener.close()


async def test_a_subscription_that_never_subscribed_closes(pubsub: PubSub) -> None:
    listener = await pubsub.subscription()
    await listener.close()
    assert [m async for m in listener] == []


async def test_ping_names_the_backend(pubsub: PubSub, pubsub_url: str) -> None:
    version = await pubsub.ping()
    if pubsub_url == "memory://":
        assert version == "in-process"
    else:
        assert re.fullmatch(r"(redis|valkey) \d+\.\d+\.\d+", version), version


async def test_closing_the_pubsub_ends_every_subscription(pubsub_url: str, channel: str) -> None:
    opened = open_pubsub(PubSubSettings(url=pubsub_url, timeout_seconds=TIMEOUT))
    listener = await opened.subscription()
    await listener.subscribe(channel)
    await opened.close()
    async with asyncio.timeout(2):
        assert [m async for m in listener] == []


# --- configuration ----------------------------------------------------------------------


def test_unknown_scheme_is_a_config_error_naming_what_is_accepted() -> None:
    with pytest.raises(ConfigError, match=r"'kafka://broker:9092'.*memory://.*redis://"):
        open_pubsub(PubSubSettings(url="kafka://user:pw@broker:9092"))


def test_malformed_redis_url_is_a_config_error_without_the_password() -> None:
    with pytest.raises(ConfigError) as caught:
        open_pubsub(PubSubSettings(url="redis://user:hunter2@localhost:port/0"))
    assert "hunter2" not in str(caught.value)
    assert "'redis://localhost/0' is not a valid Redis URL" in str(caught.value)


def test_url_property_hides_credentials() -> None:
    adapter = open_pubsub(PubSubSettings(url="rediss://default:s3cret@cache.example.com:6380/0?password=x"))
    assert adapter.url == "rediss://cache.example.com:6380/0"


async def test_nothing_connects_until_the_first_call() -> None:
    port = free_port()  # nothing listens here
    adapter = open_pubsub(PubSubSettings(url=f"redis://127.0.0.1:{port}/0", timeout_seconds=1))
    listener = await adapter.subscription()  # still nothing
    await listener.close()
    await adapter.close()


def test_redis_adapter_follows_the_caller_to_a_new_event_loop(redis_url: str, channel: str) -> None:
    """A CLI may call asyncio.run more than once with the same adapter."""
    adapter = open_pubsub(PubSubSettings(url=redis_url, timeout_seconds=TIMEOUT))
    asyncio.run(adapter.publish(channel, b"first loop"))
    asyncio.run(adapter.publish(channel, b"second loop"))
    assert asyncio.run(adapter.ping()).startswith(("redis", "valkey"))
    asyncio.run(adapter.close())


# --- Redis: several instances, real outages ---------------------------------------------


async def test_messages_cross_between_two_adapters_on_one_redis(redis_url: str, channel: str) -> None:
    """What two service processes do: one publishes, the other's subscribers receive."""
    left = open_pubsub(PubSubSettings(url=redis_url, timeout_seconds=TIMEOUT))
    right = open_pubsub(PubSubSettings(url=redis_url, timeout_seconds=TIMEOUT))
    listener = await right.subscription()
    await listener.subscribe(channel)
    await left.publish(channel, b"from the left instance")
    assert [m.data for m in await take(listener, 1)] == [b"from the left instance"]
    await left.close()
    await right.close()


@pytest.mark.parametrize("kind", ["refused", "hung"])
async def test_unreachable_redis_is_backend_unavailable_within_the_timeout(kind: str, blackhole: Blackhole) -> None:
    timeout = 0.75
    port = free_port() if kind == "refused" else blackhole.port
    adapter = open_pubsub(PubSubSettings(url=f"redis://127.0.0.1:{port}/0", timeout_seconds=timeout))
    listener = await adapter.subscription()
    for attempt in (adapter.publish("c", b"x"), adapter.ping(), listener.subscribe("c")):
        started = time.monotonic()
        with pytest.raises(BackendUnavailable) as caught:
            await attempt
        assert time.monotonic() - started < timeout + SLACK
        assert caught.value.backend == "pub/sub"
        assert f"127.0.0.1:{port}" in str(caught.value)
    await adapter.close()


async def test_frozen_redis_is_backend_unavailable_and_the_subscription_comes_back(
        private_redis: RedisServer, channel: str) -> None:
    timeout = 0.75
    adapter = RedisPubSub(private_redis.url, timeout=timeout, heartbeat=0.5)
    listener = await adapter.subscription()
    await listener.subscribe(channel)
    private_redis.freeze()
    try:
        started = time.monotonic()
        with pytest.raises(BackendUnavailable):
            await adapter.publish(channel, b"lost")
        elapsed = time.monotonic() - started
        assert timeout * 0.8 <= elapsed < timeout + SLACK, elapsed
        # The silent connection is noticed (PING unanswered) and replaced.
        await wait_until(lambda: listener.reconnects >= 1, within=4 * timeout + 2)
    finally:
        private_redis.thaw()
    await publish_until_heard(adapter, listener, channel)
    await adapter.close()


async def test_subscription_survives_a_redis_restart(private_redis: RedisServer, channel: str) -> None:
    adapter = open_pubsub(PubSubSettings(url=private_redis.url, timeout_seconds=1.0))
    listener = await adapter.subscription()
    assert isinstance(listener, RedisSubscription)
    await listener.subscribe(channel, f"{channel}:second")
    await adapter.publish(channel, b"before")
    assert [m.data for m in await take(listener, 1)] == [b"before"]

    private_redis.stop()
    started = time.monotonic()
    with pytest.raises(BackendUnavailable):
        await adapter.publish(channel, b"during")
    assert time.monotonic() - started < 1.0 + SLACK
    private_redis.start()

    # Messages published before the reader is back are lost (at most once); then they flow.
    await publish_until_heard(adapter, listener, channel)
    await adapter.publish(f"{channel}:second", b"second channel too")
    got = await take(listener, 1)
    while got[0].channel == channel:  # extra probes still on their way
        got = await take(listener, 1)
    assert (got[0].channel, got[0].data) == (f"{channel}:second", b"second channel too")
    assert listener.reconnects >= 1
    await adapter.close()


async def test_subscribe_while_redis_is_down_fails_then_works_after_restart(
        private_redis: RedisServer, channel: str) -> None:
    adapter = open_pubsub(PubSubSettings(url=private_redis.url, timeout_seconds=0.75))
    listener = await adapter.subscription()
    private_redis.stop()
    with pytest.raises(BackendUnavailable):
        await listener.subscribe(channel)
    private_redis.start()
    # The channel stayed wanted: once the reader reconnects it is subscribed again.
    await publish_until_heard(adapter, listener, channel)
    await adapter.close()


async def test_rediss_with_password_like_upstash(private_redis_tls: RedisServer, channel: str) -> None:
    tls = private_redis_tls.tls
    assert tls is not None
    adapter = open_pubsub(PubSubSettings(url=private_redis_tls.url, timeout_seconds=TIMEOUT))
    assert tls.password not in adapter.url
    listener = await adapter.subscription()
    await listener.subscribe(channel)
    await adapter.publish(channel, b"over tls")
    assert [m.data for m in await take(listener, 1)] == [b"over tls"]
    await adapter.close()

    wrong = open_pubsub(PubSubSettings(url=private_redis_tls.url.replace(tls.password, "wrong"),
                                       timeout_seconds=1.0))
    with pytest.raises(BackendUnavailable) as caught:
        await wrong.publish(channel, b"x")
    assert tls.password not in str(caught.value)
    await wrong.close()


async def wait_until(condition: object, within: float) -> None:
    assert callable(condition)
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def publish_until_heard(adapter: PubSub, listener: Subscription, channel: str, within: float = 15) -> None:
    """Publish probes until one arrives: the subscription is back."""
    deadline = time.monotonic() + within
    while True:
        assert time.monotonic() < deadline, "the subscription never came back"
        try:
            await adapter.publish(channel, b"probe")
        except BackendUnavailable:
            await asyncio.sleep(0.1)
            continue
        try:
            got = await take(listener, 1, timeout=0.3)
        except TimeoutError:
            continue
        assert got[0].data == b"probe"
        return
