"""Redis (or Upstash): memory in use vs maxmemory, keys evicted, and commands per month at the current rate.

Commands are counted by reading `total_commands_processed` twice, `sample_seconds` apart (in
`--watch`, since the previous tick), and projecting the rate to 30 days, the way Upstash counts a
monthly allowance. The check reads INFO once per sample and leaves that one command out of the count.
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
        self.previous: tuple[float, dict[str, Any]] | None = None  # (monotonic time, INFO)
        self._client: Any = aioredis.from_url(url, socket_timeout=timeout_seconds,
                                              socket_connect_timeout=timeout_seconds, decode_responses=True)

    async def _read(self) -> tuple[float, dict[str, Any]]:
        """One INFO (server, memory, stats...): one command, so the check's own share is known exactly."""
        info = await self._client.info()
        return time.monotonic(), info

    async def sample(self) -> Sample:
        before = self.previous
        if before is None:
            before = await self._read()
            await asyncio.sleep(self.sample_seconds)
        after = await self._read()
        self.previous = after
        info, earlier = after[1], before[1]
        total, total_before = float(info["total_commands_processed"]), float(earlier["total_commands_processed"])
        seconds = max(after[0] - before[0], 1e-6)
        if float(info.get("uptime_in_seconds", 0)) < float(earlier.get("uptime_in_seconds", 0)) or total < total_before:
            total_before, seconds = 0.0, max(float(info.get("uptime_in_seconds", 0)), 1.0)  # restarted in between
        # The earlier INFO is counted once it has run: the check's own one command, not the app's.
        commands = max(0.0, total - total_before - 1)
        used, limit = float(info["used_memory"]), float(info.get("maxmemory", 0) or 0)
        evicted = float(info.get("evicted_keys", 0))
        sample = Sample(details={"used_memory": int(used), "maxmemory": int(limit),
                                 "maxmemory_policy": info.get("maxmemory_policy"), "evicted_keys": int(evicted),
                                 "commands_in_sample": int(commands), "sample_seconds": round(seconds, 3)})
        sample.add(Reading("redis_memory_gb", used / 1e9, self.name,
                           f"{used:,.0f} bytes" + (f" of maxmemory {limit:,.0f}" if limit else ", no maxmemory set"),
                           limit / 1e9 if limit else None))
        sample.add(Reading("redis_evicted_keys", evicted, self.name, f"policy {info.get('maxmemory_policy', '?')}"))
        sample.add(Reading("redis_commands_month", commands / seconds * _MONTH, self.name,
                           f"{commands:,.0f} commands in {seconds:.1f} s, projected to 30 days"))
        return sample

    async def close(self) -> None:
        await self._client.aclose()
