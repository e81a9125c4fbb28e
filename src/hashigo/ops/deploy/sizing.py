"""Sizes each platform accepts, rounded up from what the plan (or the flags) asks for.

Platform limits as documented (read 2026-12): Fargate task sizes
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size ;
Cloud Run CPU/memory https://cloud.google.com/run/docs/configuring/services/cpu ; Render instance types
https://render.com/pricing ; ElastiCache node memory https://aws.amazon.com/elasticache/pricing/ ;
RDS instance memory https://aws.amazon.com/rds/instance-types/ (1 ACU ≈ 2 GiB, Aurora Serverless v2 docs).
"""

from __future__ import annotations

import math

# vCPU units → allowed memory in MiB (Fargate, Linux).
_FARGATE: tuple[tuple[int, tuple[int, ...]], ...] = (
    (256, (512, 1024, 2048)),
    (512, tuple(range(1024, 4097, 1024))),
    (1024, tuple(range(2048, 8193, 1024))),
    (2048, tuple(range(4096, 16385, 1024))),
    (4096, tuple(range(8192, 30721, 1024))),
    (8192, tuple(range(16384, 61441, 4096))),
    (16384, tuple(range(32768, 122881, 8192))),
)


def fargate_size(vcpu: float, memory_gb: float) -> tuple[int, int]:
    """(cpu units, memory MiB): the smallest Fargate size with at least this much of both."""
    want_cpu, want_mem = vcpu * 1024, memory_gb * 1024
    for cpu, memories in _FARGATE:
        if cpu + 1e-9 < want_cpu:
            continue
        for memory in memories:
            if memory + 1e-9 >= want_mem:
                return cpu, memory
    cpu, memories = _FARGATE[-1]
    return cpu, memories[-1]


def cloud_run_size(vcpu: float, memory_gb: float) -> tuple[str, str]:
    """(cpu, memory) strings for Cloud Run: whole vCPUs (1, 2, 4, 6, 8) and memory within their limits."""
    cpu = next((c for c in (1, 2, 4, 6, 8) if c + 1e-9 >= vcpu), 8)
    limit_gib = {1: 4, 2: 8, 4: 16, 6: 24, 8: 32}[cpu]
    mib = max(512, min(limit_gib * 1024, math.ceil(memory_gb * 1024 / 256) * 256))
    return str(cpu), f"{mib}Mi" if mib % 1024 else f"{mib // 1024}Gi"


_RENDER_PLANS = (("starter", 0.5, 0.5), ("standard", 1, 2), ("pro", 2, 4), ("pro plus", 4, 8), ("pro max", 4, 16),
                 ("pro ultra", 8, 32))


def render_plan(vcpu: float, memory_gb: float, free: bool) -> str:
    if free:
        return "free"
    return next((name for name, c, m in _RENDER_PLANS if c + 1e-9 >= vcpu and m + 1e-9 >= memory_gb), "pro ultra")


def fly_memory_mb(memory_gb: float) -> int:
    return max(256, math.ceil(memory_gb * 1024 / 256) * 256)


_RDS_MEMORY_GB = {"micro": 1, "small": 2, "medium": 4, "large": 8, "xlarge": 16, "2xlarge": 32, "4xlarge": 64,
                  "8xlarge": 128}


def acu_for(database_entry: str | None, size: str | None, lines: list[dict[str, object]]) -> float | None:
    """Average ACUs the plan priced: ACU-hours over a month, or an RDS instance's memory / 2 GiB."""
    acu_hours = sum(float(str(line.get("quantity") or 0)) for line in lines
                    if line.get("component") == "database" and line.get("kind") == "acu_hours")
    if acu_hours > 0:
        return acu_hours / 730
    if database_entry and size and size.startswith("db."):
        memory = _RDS_MEMORY_GB.get(size.rsplit(".", 1)[-1])
        return memory / 2 if memory else None
    return None


def acu_range(average_acu: float | None, production: bool) -> tuple[float, float]:
    """(min, max) ACUs: 0.5 at night (seed 002 §4), and room for twice the planned average at peak.
    Production never goes below seed 002's 4 ACU ceiling; staging stays at 2."""
    if not production:
        return 0.5, 2.0
    peak = 2 * (average_acu or 0)
    ceiling = 4.0
    while ceiling < peak and ceiling < 128:
        ceiling *= 2
    return 0.5, ceiling


_CACHE_NODES = (("cache.t4g.micro", 0.5), ("cache.t4g.small", 1.37), ("cache.t4g.medium", 3.09),
                ("cache.r7g.large", 13.07), ("cache.r7g.xlarge", 26.32), ("cache.r7g.2xlarge", 52.82))


def cache_node(memory_gb: float) -> str:
    return next((name for name, gb in _CACHE_NODES if gb + 1e-9 >= memory_gb), _CACHE_NODES[-1][0])


def instances(*, planned: int, busy_vcpu_peak: float, vcpu: float, utilization: float, websockets: float,
              per_instance: float, production: bool, ha: bool) -> tuple[int, int]:
    """(min, max) instances: the plan's count (two for HA), and room for twice the planned peak."""
    needed = max(1, math.ceil(busy_vcpu_peak / max(vcpu * utilization, 1e-9)),
                 math.ceil(websockets / max(per_instance, 1)))
    if not production:
        return 1, 2
    low = max(planned, 1, 2 if ha else 1)
    high = min(100, max(low * 2, needed * 2, 2))
    return low, high
