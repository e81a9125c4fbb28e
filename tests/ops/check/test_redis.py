"""Redis, for real: fill memory up to maxmemory until keys are evicted; count commands exactly, leaving
the check's own out; compare with the Upstash Free allowance from the catalog."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import redis as sync_redis

from hashigo.ops.check.sources.redis import RedisSource
from tests.harness.redis import RedisServer
from tests.ops.check.helpers import as_json, invoke, rule, source, write_rules

ONLY_REDIS = ("--skip", "service", "--skip", "postgres", "--skip", "storage")


def test_memory_fills_to_maxmemory_and_keys_are_evicted(tmp_path: Path, private_redis: RedisServer) -> None:
    client = sync_redis.Redis.from_url(private_redis.url)
    client.config_set("maxmemory", str(8 * 1024 * 1024))
    client.config_set("maxmemory-policy", "allkeys-lru")
    rules = write_rules(tmp_path, {
        "memory": {"metric": "redis_memory_gb", "limit": "server", "consider": 50, "required": 80},
        "evictions": {"metric": "redis_evicted_keys", "consider": 1},
        "of-plan": {"metric": "redis_memory_gb", "limit": "plan", "consider": 80, "required": 95}})
    args = (*ONLY_REDIS, "--redis", private_redis.url, "--rules", str(rules), "--plan", "upstash.free",
            "--sample-seconds", "0.2", "--history", str(tmp_path / "h.sqlite3"), "--json")
    empty = as_json(invoke(tmp_path, *args))
    assert rule(empty, "memory")["status"] == "ok" and rule(empty, "evictions")["status"] == "ok"
    assert empty["exit_code"] == 0

    pipe = client.pipeline(transaction=False)
    for index in range(1200):  # 12 MB of values into 8 MB
        pipe.set(f"session:{index}", b"x" * 10_000)
    pipe.execute()
    info = client.info()
    full = as_json(invoke(tmp_path, *args))
    memory = rule(full, "memory")
    assert memory["limit"]["value"] == pytest.approx(8 * 1024 * 1024 / 1e9)
    assert memory["compared"] > 80 and memory["status"] == "required" and full["exit_code"] == 2
    evicted = rule(full, "evictions")
    assert evicted["value"] >= info["evicted_keys"] > 0 and evicted["status"] == "consider"
    # Upstash Free's 256 MB: a few MB is nowhere near it.
    plan = rule(full, "of-plan")
    assert plan["limit"]["value"] == 0.256 and plan["compared"] < 10 and plan["status"] == "ok"
    assert source(full, "redis")["details"]["maxmemory_policy"] == "allkeys-lru"


def test_commands_are_counted_without_the_checks_own(private_redis: RedisServer) -> None:
    async def measure() -> tuple[int, int, float]:
        probe = RedisSource(private_redis.url, timeout_seconds=5, sample_seconds=0.2)
        try:
            quiet = await probe.sample()  # two reads, nothing else in between
            client = sync_redis.Redis.from_url(private_redis.url)
            for index in range(250):
                client.incr(f"rate:{index % 7}")
            client.close()
            busy = await probe.sample()  # since the previous read, as in --watch
        finally:
            await probe.close()
        month = next(r.value for r in busy.readings if r.metric == "redis_commands_month")
        assert month is not None
        return quiet.details["commands_in_sample"], busy.details["commands_in_sample"], month

    quiet, busy, month = asyncio.run(measure())
    # The INCRs plus the client's connection handshake (CLIENT SETINFO ×2), nothing of the check's.
    assert quiet == 0 and 250 <= busy <= 253
    assert month > 500_000  # 250 commands in well under a minute is past Upstash Free's monthly pace


def test_commands_vs_the_upstash_free_allowance(tmp_path: Path, private_redis: RedisServer) -> None:
    client = sync_redis.Redis.from_url(private_redis.url)
    stop = asyncio.Event()

    async def traffic() -> None:
        while not stop.is_set():
            await asyncio.to_thread(client.set, "k", "v")
            await asyncio.sleep(0.01)

    async def check() -> dict[str, object]:
        task = asyncio.create_task(traffic())
        try:
            result = await asyncio.to_thread(invoke, tmp_path, *ONLY_REDIS, "--redis", private_redis.url,
                                             "--plan", "upstash.free", "--sample-seconds", "1", "--history",
                                             str(tmp_path / "h.sqlite3"), "--json")
        finally:
            stop.set()
            await task
        return as_json(result)

    data = asyncio.run(check())
    commands = rule(data, "redis-commands-of-plan")  # sustained over days: 'now' says it, the level waits
    assert commands["limit"]["value"] == 500_000 and commands["compared"] > 100
    assert commands["now_level"] == "required" and commands["status"] == "ok"
