"""The metrics `hashigo check` knows: their units, which part of the stack they belong to, and which
catalog limit (if any) they are measured against.

A rule names one of these; a source produces readings of some of them. Keeping the list in one
place lets the rules file be validated before anything is measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Level = Literal["ok", "consider", "required"]
LEVELS: tuple[Level, ...] = ("ok", "consider", "required")
Component = Literal["compute", "database", "cache", "storage", "all"]


def level_rank(level: Level) -> int:
    return LEVELS.index(level)


def worst(levels: list[Level]) -> Level:
    return max(levels, key=level_rank, default="ok")


@dataclass(frozen=True)
class MetricSpec:
    name: str
    title: str
    unit: str
    component: Component
    plan_quantity: str | None = None
    """The catalog limit quantity (`limits[].quantity`, or a meter's free allowance) it is compared with."""
    digits: int = 1


_SPECS = (
    MetricSpec("request_rate", "requests per second", "req/s", "compute", digits=2),
    MetricSpec("requests_per_day", "requests per day (projected from the current rate)", "requests", "compute",
               "requests_per_day", digits=0),
    MetricSpec("requests_month", "requests per month (projected from the current rate)", "requests", "compute",
               "requests", digits=0),
    MetricSpec("latency_avg_ms", "average API latency", "ms", "compute"),
    MetricSpec("latency_p95_ms", "p95 API latency", "ms", "compute"),
    MetricSpec("latency_p99_ms", "p99 API latency", "ms", "compute"),
    MetricSpec("error_rate_pct", "server errors (5xx) of all responses", "%", "compute", digits=2),
    MetricSpec("in_flight", "requests in flight", "requests", "compute", digits=0),
    MetricSpec("websockets", "open WebSocket connections", "connections", "compute", digits=0),
    MetricSpec("db_connections", "database connections (whole server)", "connections", "database",
               "connections", digits=0),
    MetricSpec("db_size_gb", "database size", "GB", "database", "database_gb", digits=3),
    MetricSpec("db_cache_hit_pct", "database cache hit ratio", "%", "database", digits=2),
    MetricSpec("db_longest_query_s", "longest running query", "s", "database"),
    MetricSpec("db_statement_mean_ms", "slowest statement, mean time (pg_stat_statements)", "ms", "database"),
    MetricSpec("redis_memory_gb", "Redis memory in use", "GB", "cache", "cache_memory_gb", digits=4),
    MetricSpec("redis_evicted_keys", "Redis keys evicted since it started", "keys", "cache", digits=0),
    MetricSpec("redis_commands_month", "Redis commands per month (projected from the current rate)", "commands",
               "cache", "cache_commands", digits=0),
    MetricSpec("storage_gb", "object storage size", "GB", "storage", "storage_gb", digits=4),
    MetricSpec("storage_objects", "objects stored", "objects", "storage", digits=0),
    MetricSpec("bill_usd", "monthly bill", "USD", "all", digits=2),
    MetricSpec("dau", "daily active users", "users", "all", digits=0),
    MetricSpec("active_users", "active users", "users", "all", digits=0),
    MetricSpec("page_views_month", "page views per month", "views", "all", digits=0),
)

METRICS: dict[str, MetricSpec] = {spec.name: spec for spec in _SPECS}
MetricName = Literal[
    "request_rate", "requests_per_day", "requests_month", "latency_avg_ms", "latency_p95_ms", "latency_p99_ms",
    "error_rate_pct", "in_flight", "websockets", "db_connections", "db_size_gb", "db_cache_hit_pct",
    "db_longest_query_s", "db_statement_mean_ms", "redis_memory_gb", "redis_evicted_keys",
    "redis_commands_month", "storage_gb", "storage_objects", "bill_usd", "dau", "active_users",
    "page_views_month",
]
# Quantities a `limits:` entry may name: the catalog's plus the ones only a team knows (connections).
LIMIT_QUANTITIES: tuple[str, ...] = tuple(sorted({s.plan_quantity for s in _SPECS if s.plan_quantity}))


def format_value(metric: str, value: float | None) -> str:
    if value is None:
        return "—"
    spec = METRICS[metric]
    digits = spec.digits
    if digits and abs(value) >= 100:
        digits = 0 if spec.unit not in {"GB", "%"} else min(digits, 1)
    text = f"{value:,.{digits}f}"
    return f"{text} {spec.unit}" if spec.unit not in {"%"} else f"{text} %"


def format_number(value: float) -> str:
    """A threshold or a limit as a person writes it: 0.5, 100, 1,000,000."""
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
