"""Redis (or Upstash): memory in use vs maxmemory, keys evicted, and commands per month at the current rate.

Commands are counted by reading `total_commands_processed` twice, `sample_seconds` apart (in
`--watch`, since the previous tick), and projecting the rate to 30 days, the way Upstash counts a
monthly allowance. The check's own few INFO commands are included; they are noise at any real load.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import redis.asyncio as aioredis

from hashigo.ops.check.sources.base import Reading, Sample
from hashigo.urls import strip_credentials

_MONTH = 30 * 86400.0


class RedisSource:
    name = "redis"
    provides: tuple[str, ...] = ("redis_memory_gb", "redis_evicted_keys", "redis_commands_month")

    def __init__(self, url: str, *, timeout_seconds: float, sample_seconds: float) -> None:
        self.url = url
        self.target = strip_credentials(url)
        self.request_timeout = timeout_seconds
        self.sample_seconds = sample_seconds
        self.timeout = sample_seconds + 3 * timeout_seconds
        self.previous: tuple[float, float, float] | None = None  # (monotonic time, commands, uptime)
        self._client: Any = aioredis.from_url(url, socket_timeout=timeout_seconds,
                                              socket_connect_timeout=timeout_seconds, decode_responses=True)

    async def _counters(self) -> tuple[float, float, float]:
        stats = await self._client.info("stats")
        server = await self._client.info("server")
        return time.monotonic(), float(stats["total_commands_processed"]), float(server.get("uptime_in_seconds", 0))

    async def sample(self) -> Sample:
        before = self.previous
        if before is None:
            before = await self._counters()
            await asyncio.sleep(self.sample_seconds)
        memory = await self._client.info("memory")
        stats = await self._client.info("stats")
        after = await self._counters()
        if after[2] < before[2] or after[1] < before[1]:  # restarted in between: count from its start
            before = (after[0] - after[2], 0.0, 0.0)
        self.previous = after
        used, limit = float(memory["used_memory"]), float(memory.get("maxmemory", 0) or 0)
        seconds = max(after[0] - before[0], 1e-6)
        commands = after[1] - before[1]
        sample = Sample(details={"used_memory": int(used), "maxmemory": int(limit),
                                 "maxmemory_policy": memory.get("maxmemory_policy"),
                                 "evicted_keys": int(stats.get("evicted_keys", 0)),
                                 "commands_in_sample": int(commands), "sample_seconds": round(seconds, 3)})
        sample.add(Reading("redis_memory_gb", used / 1e9, self.name,
                           f"{used:,.0f} bytes" + (f" of maxmemory {limit:,.0f}" if limit else ", no maxmemory set"),
                           limit / 1e9 if limit else None))
        sample.add(Reading("redis_evicted_keys", float(stats.get("evicted_keys", 0)), self.name,
                           f"policy {memory.get('maxmemory_policy', '?')}"))
        sample.add(Reading("redis_commands_month", commands / seconds * _MONTH, self.name,
                           f"{commands:,.0f} commands in {seconds:.1f} s, projected to 30 days"))
        return sample

    async def close(self) -> None:
        await self._client.aclose()
