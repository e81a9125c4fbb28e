"""One conformance suite for every key-value adapter, each against a real backend.

The embedded store runs on a file under tmp_path; Redis is a real server (``redis_url``,
shared, so every test keeps to a namespace of its own) or, for the outage tests, a private
server the test stops and freezes. Adding a backend means adding it to ``ADAPTERS``.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import os
import re
import secrets
import sqlite3
import sys
import textwrap
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from redis.asyncio import Redis

from hashigo.errors import BackendUnavailable, ConfigError
from hashigo.kv import KeyValueError, KeyValueStore, open_kv
from hashigo.settings import KeyValueSettings
from tests.harness.base import free_port
from tests.harness.redis import RedisServer

ADAPTERS = ["embedded", "redis"]
TIMEOUT = 2.0
# What "within the timeout" may overshoot by: our own guard plus scheduling on a busy CI box.
SLACK = 0.75
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Target:
    """Where one adapter's store lives for one test: a URL and this test's own namespace."""

    kind: str
    url: str
    ns: str

    def open(self, timeout: float = TIMEOUT) -> KeyValueStore:
        return open_kv(KeyValueSettings(url=self.url, timeout_seconds=timeout))


@pytest.fixture(params=ADAPTERS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Target:
    ns = f"conformance-{uuid.uuid4().hex[:12]}"
    if request.param == "embedded":
        return Target("embedded", f"sqlite://{tmp_path / 'kv' / 'store.sqlite3'}", ns)
    return Target("redis", request.getfixturevalue("redis_url"), ns)


@pytest.fixture
async def kv(target: Target) -> AsyncIterator[KeyValueStore]:
    root = target.open()
    store = root.namespace(target.ns)
    try:
        yield store
    finally:
        # The Redis server may be shared with other runs: leave nothing behind.
        leftovers = [key async for key in store.scan()]
        if leftovers:
            await store.delete(*leftovers)
        await root.close()


async def keys_of(store: KeyValueStore, prefix: str = "") -> list[str]:
    return sorted([key async for key in store.scan(prefix)])


# --- normal use -------------------------------------------------------------------------


async def test_set_get_overwrite_delete(kv: KeyValueStore) -> None:
    assert await kv.get("greeting") is None
    assert await kv.set("greeting", b"hello") is True
    assert await kv.get("greeting") == b"hello"
    assert await kv.set("greeting", "héllo") is True
    assert await kv.get("greeting") == "héllo".encode()
    assert await kv.set("other", b"x") is True
    assert await kv.delete("greeting", "other", "never-set", "greeting") == 2
    assert await kv.get("greeting") is None
    assert await kv.delete("greeting") == 0
    assert await kv.delete() == 0


async def test_get_many_keeps_order_duplicates_and_gaps(kv: KeyValueStore) -> None:
    for name in ("a", "b", "c"):
        await kv.set(name, name.upper())
    assert await kv.get_many(["c", "missing", "a", "c", "b"]) == [b"C", None, b"A", b"C", b"B"]
    assert await kv.get_many([]) == []
    many = [f"k{i}" for i in range(1200)]  # more than one SQL chunk
    for key in many[::100]:
        await kv.set(key, key)
    got = await kv.get_many(many)
    assert [i for i, value in enumerate(got) if value is not None] == list(range(0, 1200, 100))
    assert got[300] == b"k300"


async def test_if_absent_writes_only_missing_or_expired_keys(kv: KeyValueStore) -> None:
    assert await kv.set("lock", b"first", if_absent=True) is True
    assert await kv.set("lock", b"second", if_absent=True) is False
    assert await kv.get("lock") == b"first"
    assert await kv.ttl("lock") == math.inf

    assert await kv.set("lease", b"one", ttl=0.2, if_absent=True) is True
    assert await kv.set("lease", b"two", ttl=5, if_absent=True) is False
    await asyncio.sleep(0.35)
    assert await kv.set("lease", b"three", ttl=5, if_absent=True) is True
    assert await kv.get("lease") == b"three"
    remaining = await kv.ttl("lease")
    assert remaining is not None and 4 < remaining <= 5


async def test_incr_counts_and_rejects_non_integers(kv: KeyValueStore) -> None:
    assert await kv.incr("hits") == 1
    assert await kv.incr("hits", 41) == 42
    assert await kv.incr("hits", -50) == -8
    assert await kv.get("hits") == b"-8"
    assert await kv.ttl("hits") == math.inf
    await kv.set("preset", "100")
    assert await kv.incr("preset", 5) == 105
    await kv.set("word", b"ten")
    with pytest.raises(KeyValueError):
        await kv.incr("word")
    assert await kv.get("word") == b"ten"
    await kv.set("near-max", str(2**63 - 1))
    with pytest.raises(KeyValueError):
        await kv.incr("near-max")
    assert await kv.get("near-max") == str(2**63 - 1).encode()
    with pytest.raises(KeyValueError):
        await kv.incr("hits", 1.5)  # type: ignore[arg-type]


async def test_concurrent_increments_in_one_process_are_exact(kv: KeyValueStore) -> None:
    results = await asyncio.gather(*(kv.incr("together") for _ in range(200)))
    assert sorted(results) == list(range(1, 201))
    assert await kv.get("together") == b"200"


async def test_ping_reports_backend_version(kv: KeyValueStore, target: Target) -> None:
    version = await kv.ping()
    expected = r"sqlite 3\.\d+\.\d+" if target.kind == "embedded" else r"(redis|valkey) \d+\.\d+\.\d+"
    assert re.fullmatch(expected, version), version


async def test_unicode_keys_and_binary_values(kv: KeyValueStore) -> None:
    pairs = {
        "ключ": bytes(range(256)),
        "鍵🔑": b"\x00\xff\x00",
        "e\u0301 with space": b"",
        "line\nbreak\ttab": "値".encode(),
        "ｈａｓｈｉｇｏ:nested:colons": b"\r\n\x1b",
    }
    for key, value in pairs.items():
        assert await kv.set(key, value) is True
    for key, value in pairs.items():
        assert await kv.get(key) == value
    assert await kv.get_many(list(pairs)) == list(pairs.values())
    assert await keys_of(kv) == sorted(pairs)
    assert await keys_of(kv, "鍵") == ["鍵🔑"]
    with pytest.raises(KeyValueError):
        await kv.set("\ud800 lone surrogate", b"x")
    with pytest.raises(KeyValueError):
        await kv.get(b"bytes-key")  # type: ignore[arg-type]


async def test_large_value_round_trips(kv: KeyValueStore) -> None:
    value = secrets.token_bytes(8 * 1024 * 1024)
    assert await kv.set("blob", value) is True
    assert await kv.get("blob") == value
    assert await kv.get_many(["blob", "none"]) == [value, None]


# --- TTLs -------------------------------------------------------------------------------


async def test_expired_keys_vanish_everywhere(kv: KeyValueStore) -> None:
    await kv.set("short", b"1", ttl=0.25)
    await kv.set("long", b"2", ttl=30)
    await kv.set("forever", b"3")
    assert await kv.get("short") == b"1"
    assert await keys_of(kv) == ["forever", "long", "short"]
    await asyncio.sleep(0.4)
    assert await kv.get("short") is None
    assert await kv.get_many(["short", "long", "forever"]) == [None, b"2", b"3"]
    assert await kv.ttl("short") is None
    assert await kv.expire("short", 10) is False
    assert await keys_of(kv) == ["forever", "long"]
    assert await kv.delete("short", "long") == 1


async def test_ttl_semantics(kv: KeyValueStore) -> None:
    assert await kv.ttl("missing") is None
    await kv.set("plain", b"v")
    assert await kv.ttl("plain") == math.inf
    await kv.set("timed", b"v", ttl=10)
    left = await kv.ttl("timed")
    assert left is not None and 9 < left <= 10
    # A plain set replaces the value and its expiry, as Redis SET does.
    await kv.set("timed", b"w")
    assert await kv.ttl("timed") == math.inf
    assert await kv.expire("timed", 0.5) is True
    left = await kv.ttl("timed")
    assert left is not None and 0.2 < left <= 0.5
    assert await kv.expire("missing", 5) is False
    assert await kv.get("missing") is None
    await asyncio.sleep(0.65)
    assert await kv.get("timed") is None


@pytest.mark.parametrize("bad", [0, -1, math.nan, math.inf, "5"])
async def test_invalid_ttls_are_refused(kv: KeyValueStore, bad: object) -> None:
    with pytest.raises(KeyValueError):
        await kv.set("k", b"v", ttl=bad)  # type: ignore[arg-type]
    with pytest.raises(KeyValueError):
        await kv.incr("n", ttl=bad)  # type: ignore[arg-type]
    await kv.set("k", b"v")
    with pytest.raises(KeyValueError):
        await kv.expire("k", bad)  # type: ignore[arg-type]
    assert await kv.ttl("k") == math.inf
    assert await kv.get("n") is None


async def test_incr_ttl_applies_only_when_the_key_is_created(kv: KeyValueStore) -> None:
    assert await kv.incr("window", ttl=0.4) == 1
    first = await kv.ttl("window")
    assert first is not None and 0.2 < first <= 0.4
    await asyncio.sleep(0.1)
    assert await kv.incr("window", ttl=60) == 2
    second = await kv.ttl("window")
    assert second is not None and second < first, "an existing counter kept its window"
    assert await kv.incr("window") == 3
    assert (await kv.ttl("window") or 0) < 1, "plain incr keeps the expiry"
    await asyncio.sleep(0.45)
    assert await kv.get("window") is None
    assert await kv.incr("window", 5, ttl=60) == 5, "an expired counter starts a new window"
    third = await kv.ttl("window")
    assert third is not None and 59 < third <= 60


# --- scan and namespaces ----------------------------------------------------------------


async def test_scan_by_prefix_streams_every_key_once(kv: KeyValueStore) -> None:
    for i in range(600):  # several batches for both adapters
        await kv.set(f"user:{i:04d}", b"u")
    await kv.set("users", b"not under user:")
    await kv.set("order:1", b"o")
    got = [key async for key in kv.scan("user:")]
    assert len(got) == 600 and len(set(got)) == 600
    assert sorted(got) == [f"user:{i:04d}" for i in range(600)]
    assert await keys_of(kv, "order") == ["order:1"]
    assert len(await keys_of(kv)) == 602
    assert await keys_of(kv, "nothing-here") == []


async def test_scan_treats_glob_characters_literally(kv: KeyValueStore) -> None:
    keys = ["a*", "a*b", "a?c", "a[x]", "a[", "a]", "a\\d", "a^-", "ab", "axc", "ax]"]
    for key in keys:
        await kv.set(key, key)
    assert await keys_of(kv, "a*") == ["a*", "a*b"]
    assert await keys_of(kv, "a?") == ["a?c"]
    assert await keys_of(kv, "a[") == ["a[", "a[x]"]
    assert await keys_of(kv, "a[x") == ["a[x]"]
    assert await keys_of(kv, "a]") == ["a]"]
    assert await keys_of(kv, "a\\") == ["a\\d"]
    assert await keys_of(kv, "a^") == ["a^-"]
    assert await keys_of(kv, "a") == sorted(keys)


async def test_namespaces_are_isolated(kv: KeyValueStore) -> None:
    sessions = kv.namespace("sessions")
    limits = kv.namespace("limits")
    await sessions.set("alice", b"session-data")
    await limits.set("alice", b"7")
    assert await sessions.get("alice") == b"session-data"
    assert await limits.get("alice") == b"7"
    assert await kv.get("alice") is None
    assert await limits.incr("alice") == 8
    assert await sessions.get("alice") == b"session-data"
    assert await keys_of(sessions) == ["alice"]
    assert await keys_of(limits) == ["alice"]
    # A view's keys live under "name:" in its parent.
    assert await keys_of(kv) == ["limits:alice", "sessions:alice"]
    assert await kv.get("sessions:alice") == b"session-data"
    nested = sessions.namespace("2024")
    await nested.set("bob", b"b")
    assert await keys_of(sessions) == ["2024:bob", "alice"]
    assert await keys_of(nested) == ["bob"]
    assert await sessions.delete("alice") == 1
    assert await limits.get("alice") == b"8"
    assert await nested.get("bob") == b"b"
    # Namespaces that are prefixes of each other still do not see each other's keys.
    await kv.namespace("a").set("k", b"1")
    await kv.namespace("ab").set("k", b"2")
    assert await keys_of(kv.namespace("a")) == ["k"]
    with pytest.raises(KeyValueError):
        kv.namespace("")


async def test_close_of_a_view_leaves_the_store_open(kv: KeyValueStore) -> None:
    view = kv.namespace("v")
    await view.set("k", b"1")
    await view.close()
    assert await view.get("k") == b"1"
    assert await kv.get("v:k") == b"1"


def test_store_follows_the_caller_to_a_new_event_loop(target: Target) -> None:
    """A CLI may call asyncio.run more than once with the same store."""
    root = target.open()
    store = root.namespace(target.ns)
    try:
        assert asyncio.run(store.set("k", b"first")) is True
        assert asyncio.run(store.get("k")) == b"first"
        assert asyncio.run(store.incr("n")) == 1
    finally:
        asyncio.run(store.delete("k", "n"))
        asyncio.run(root.close())


# --- several OS processes ----------------------------------------------------------------

_INCR_WORKER = textwrap.dedent("""
    import asyncio, os, sys, time
    from hashigo.kv import open_kv
    from hashigo.settings import KeyValueSettings

    url, ns, count, go_file = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]

    async def main():
        store = open_kv(KeyValueSettings(url=url, timeout_seconds=15)).namespace(ns)
        await store.ping()  # connect (and create the schema) before the start line
        print("ready", flush=True)
        while not os.path.exists(go_file):
            time.sleep(0.005)
        for _ in range(count):
            await store.incr("shared-counter", ttl=300)
        await store.close()

    asyncio.run(main())
""")


async def test_increments_from_several_processes_are_exact(kv: KeyValueStore, target: Target,
                                                           tmp_path: Path) -> None:
    processes, per_process = 4, 500
    go_file = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    workers = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", _INCR_WORKER, target.url, target.ns, str(per_process), str(go_file),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env)
        for _ in range(processes)
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None
            line = await asyncio.wait_for(worker.stdout.readline(), 60)
            assert line.strip() == b"ready", (line, await worker.communicate())
        started = time.monotonic()
        go_file.touch()
        outputs = await asyncio.wait_for(asyncio.gather(*(worker.communicate() for worker in workers)), 120)
        elapsed = time.monotonic() - started
    finally:
        for worker in workers:
            if worker.returncode is None:
                worker.kill()
                await worker.wait()
    codes = [worker.returncode for worker in workers]
    assert codes == [0] * processes, [err.decode(errors="replace") for _, err in outputs]
    assert await kv.get("shared-counter") == str(processes * per_process).encode()
    left = await kv.ttl("shared-counter")
    assert left is not None and left <= 300, "the ttl was set once, on creation"
    sys.stderr.write(f"\n{target.kind}: {processes}x{per_process} incr across processes in {elapsed:.2f}s\n")


# --- the factory ------------------------------------------------------------------------


def test_unknown_scheme_is_a_config_error_naming_what_is_accepted() -> None:
    for url in ("memcached://localhost:11211", "localhost:6379", "postgresql://u:hunter2@db/app"):
        with pytest.raises(ConfigError) as caught:
            open_kv(KeyValueSettings(url=url))
        message = str(caught.value)
        assert "redis://" in message and "rediss://" in message and "sqlite:///" in message
        assert "hunter2" not in message


def test_embedded_url_must_name_an_absolute_file() -> None:
    for url in ("sqlite://relative/kv.sqlite3", "sqlite:///", "sqlite:///tmp/dir/"):
        with pytest.raises(ConfigError):
            open_kv(KeyValueSettings(url=url))


def test_url_property_hides_credentials() -> None:
    store = open_kv(KeyValueSettings(url="rediss://default:s3cr3t-pw@eu1-fast-owl.upstash.io:6379"))
    assert store.url == "rediss://eu1-fast-owl.upstash.io:6379"
    store = open_kv(KeyValueSettings(url="redis://cache.internal:6380/2?password=s3cr3t-pw&db=2"))
    assert "s3cr3t" not in store.url and store.url.startswith("redis://cache.internal:6380/2")
    assert "s3cr3t" not in repr(store.namespace("x").url)


async def test_nothing_connects_until_the_first_call(tmp_path: Path) -> None:
    port = free_port()  # nothing listens here
    store = open_kv(KeyValueSettings(url=f"redis://127.0.0.1:{port}/0", timeout_seconds=1))
    view = store.namespace("x")
    started = time.monotonic()
    with pytest.raises(BackendUnavailable) as caught:
        await view.get("k")
    assert time.monotonic() - started < 1 + SLACK
    assert caught.value.backend == "kv-redis"
    await store.close()

    path = tmp_path / "not" / "yet" / "kv.sqlite3"
    embedded = open_kv(KeyValueSettings(url=f"sqlite://{path}"))
    assert not path.parent.exists(), "the factory touched the disk"
    assert await embedded.set("k", b"v") is True
    assert path.exists(), "the first call creates the parent directory and the file"
    await embedded.close()


# --- embedded: durability and locking ---------------------------------------------------


def _sqlite_url(path: Path) -> str:
    return f"sqlite://{path}"


async def test_embedded_data_survives_close_and_reopen(tmp_path: Path) -> None:
    url = _sqlite_url(tmp_path / "kv.sqlite3")
    first = open_kv(KeyValueSettings(url=url))
    await first.set("kept", b"across restarts")
    await first.namespace("ns").set("timed", b"t", ttl=60)
    await first.incr("counter", 3)
    await first.close()
    await first.close()  # closing twice is harmless

    second = open_kv(KeyValueSettings(url=url))
    assert await second.get("kept") == b"across restarts"
    assert await second.namespace("ns").get("timed") == b"t"
    left = await second.namespace("ns").ttl("timed")
    assert left is not None and 55 < left <= 60
    assert await second.incr("counter") == 4
    await second.close()
    # A closed store reopens on its next call.
    assert await second.get("kept") == b"across restarts"
    await second.close()


async def test_embedded_purges_expired_rows_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "kv.sqlite3"
    store = open_kv(KeyValueSettings(url=_sqlite_url(path)))
    for i in range(50):
        await store.set(f"gone{i}", b"x", ttl=0.1)
    await store.set("stays", b"y")
    await store.close()
    await asyncio.sleep(0.2)
    # A new process (here: a new store) purges on its first write.
    fresh = open_kv(KeyValueSettings(url=_sqlite_url(path)))
    await fresh.set("trigger", b"z")
    await fresh.close()
    with sqlite3.connect(path) as conn:
        rows = {row[0] for row in conn.execute("SELECT key FROM hashigo_kv")}
    assert rows == {"stays", "trigger"}


def test_embedded_store_opened_before_a_fork_works_in_the_child(tmp_path: Path) -> None:
    """Pre-loading servers (gunicorn --preload) fork after the app, and its store, exist."""
    store = open_kv(KeyValueSettings(url=_sqlite_url(tmp_path / "kv.sqlite3"), timeout_seconds=2))
    assert asyncio.run(store.incr("forks")) == 1

    def child() -> None:
        os._exit(0 if asyncio.run(store.incr("forks")) == 2 else 1)

    process = multiprocessing.get_context("fork").Process(target=child)
    process.start()
    process.join(30)
    assert process.exitcode == 0
    assert asyncio.run(store.get("forks")) == b"2"
    asyncio.run(store.close())


@pytest.fixture
def held_write_lock(tmp_path: Path) -> Iterator[tuple[Path, sqlite3.Connection]]:
    """Another process's writer, sitting on the database's write lock."""
    path = tmp_path / "locked.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode = WAL")
    try:
        yield path, conn
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        conn.close()


async def test_embedded_locked_beyond_timeout_is_backend_unavailable(
        held_write_lock: tuple[Path, sqlite3.Connection]) -> None:
    path, other = held_write_lock
    timeout = 0.5
    store = open_kv(KeyValueSettings(url=_sqlite_url(path), timeout_seconds=timeout))
    await store.set("before", b"1")
    other.execute("BEGIN IMMEDIATE")
    for attempt in (store.set("k", b"v"), store.incr("n"), store.delete("before")):
        started = time.monotonic()
        with pytest.raises(BackendUnavailable) as caught:
            await attempt
        elapsed = time.monotonic() - started
        assert timeout * 0.8 <= elapsed < timeout + SLACK, elapsed
        assert caught.value.backend == "kv-sqlite" and "locked" in caught.value.detail
    # WAL readers are not blocked by a writer.
    assert await store.get("before") == b"1"
    other.execute("ROLLBACK")
    assert await store.set("k", b"v") is True
    assert await store.incr("n") == 1
    await store.close()


async def test_embedded_unusable_path_is_backend_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"not a directory")
    store = open_kv(KeyValueSettings(url=_sqlite_url(blocker / "kv.sqlite3"), timeout_seconds=1))
    with pytest.raises(BackendUnavailable):
        await store.get("k")
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"this is not a database" * 100)
    store = open_kv(KeyValueSettings(url=_sqlite_url(garbage), timeout_seconds=1))
    with pytest.raises(BackendUnavailable):
        await store.get("k")
    await store.close()


# --- Redis: real outages ----------------------------------------------------------------


async def test_redis_stopped_is_backend_unavailable_and_recovers(private_redis: RedisServer) -> None:
    timeout = 1.0
    store = open_kv(KeyValueSettings(url=private_redis.url, timeout_seconds=timeout))
    assert await store.set("k", b"v") is True
    private_redis.stop()
    for attempt in (store.get("k"), store.set("k", b"w"), store.incr("n", ttl=5)):
        started = time.monotonic()
        with pytest.raises(BackendUnavailable) as caught:
            await attempt
        assert time.monotonic() - started < timeout + SLACK
        assert caught.value.backend == "kv-redis"
    private_redis.start()
    # The first call after the restart already works: dead pooled connections are replaced.
    assert await store.get("k") is None  # no persistence: the restart emptied it
    assert await store.set("k", b"again") is True
    assert await store.get("k") == b"again"
    await store.close()


async def test_frozen_redis_is_backend_unavailable_within_the_timeout(private_redis: RedisServer) -> None:
    timeout = 0.75
    warm = open_kv(KeyValueSettings(url=private_redis.url, timeout_seconds=timeout))
    assert await warm.set("k", b"v") is True
    private_redis.freeze()
    try:
        cold = open_kv(KeyValueSettings(url=private_redis.url, timeout_seconds=timeout))
        for attempt in (warm.get("k"), warm.incr("n", ttl=5), cold.ping(), cold.get("k")):
            started = time.monotonic()
            with pytest.raises(BackendUnavailable) as caught:
                await attempt
            elapsed = time.monotonic() - started
            assert timeout * 0.8 <= elapsed < timeout + SLACK, elapsed
            assert caught.value.backend == "kv-redis"
        scan_started = time.monotonic()
        with pytest.raises(BackendUnavailable):
            _ = [key async for key in warm.scan()]
        assert time.monotonic() - scan_started < timeout + SLACK
    finally:
        private_redis.thaw()
    assert await warm.get("k") == b"v"
    assert await cold.get("k") == b"v"
    await warm.close()
    await cold.close()


async def test_redis_root_store_on_a_private_server(private_redis: RedisServer) -> None:
    """Everything above ran in a namespace; the root store (no prefix) must behave the same."""
    store = open_kv(KeyValueSettings(url=private_redis.url))
    await store.set("plain", b"1")
    await store.set("with*glob", b"2", ttl=30)
    assert await keys_of(store) == ["plain", "with*glob"]
    assert await keys_of(store, "with*") == ["with*glob"]
    assert await store.incr("counter", ttl=30) == 1
    assert await store.delete("plain", "with*glob", "counter") == 3
    assert await keys_of(store) == []
    await store.close()


async def test_rediss_with_password_like_upstash(private_redis_tls: RedisServer) -> None:
    tls = private_redis_tls.tls
    assert tls is not None
    store = open_kv(KeyValueSettings(url=private_redis_tls.url, timeout_seconds=TIMEOUT))
    assert tls.password not in store.url and store.url.startswith("rediss://localhost:")
    assert re.fullmatch(r"redis \d+\.\d+\.\d+", await store.ping())
    view = store.namespace("sessions")
    assert await view.set("s1", b"data", ttl=30) is True
    assert await view.get("s1") == b"data"
    assert await view.incr("hits", ttl=30) == 1
    assert await keys_of(store) == ["sessions:hits", "sessions:s1"]
    await store.close()

    # Wrong password, untrusted certificate, plain text to a TLS port: all refusals, none a hang.
    port = private_redis_tls.port
    refused = [
        private_redis_tls.url.replace(tls.password, "wrong-password"),
        f"rediss://default:{tls.password}@localhost:{port}/0",
        f"redis://default:{tls.password}@localhost:{port}/0",
    ]
    for url in refused:
        bad = open_kv(KeyValueSettings(url=url, timeout_seconds=1.0))
        started = time.monotonic()
        with pytest.raises(BackendUnavailable) as caught:
            await bad.get("s1")
        assert time.monotonic() - started < 1.0 + SLACK
        assert tls.password not in str(caught.value), "the error message leaks the password"
        await bad.close()


async def test_redis_refusing_writes_is_backend_unavailable(private_redis: RedisServer) -> None:
    """A full server (maxmemory, noeviction) is an outage for writers, not a bad request."""
    store = open_kv(KeyValueSettings(url=private_redis.url))
    assert await store.set("small", b"fits") is True
    admin = Redis.from_url(private_redis.url)
    used = int((await admin.info("memory"))["used_memory"])
    await admin.config_set("maxmemory-policy", "noeviction")
    await admin.config_set("maxmemory", str(used + 256 * 1024))
    chunk = b"x" * (512 * 1024)
    with pytest.raises(BackendUnavailable) as caught:
        for i in range(10):
            await store.set(f"big{i}", chunk)
    assert "memory" in caught.value.detail.lower()
    with pytest.raises(BackendUnavailable):
        await store.incr("counter", ttl=5)
    assert await store.get("small") == b"fits", "reads still work"
    await admin.config_set("maxmemory", "0")
    assert await store.incr("counter", ttl=5) == 1
    await admin.aclose()
    await store.close()
