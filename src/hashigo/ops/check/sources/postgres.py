"""PostgreSQL: connections vs max_connections, database size, cache hit ratio, the longest running
queries and, where pg_stat_statements is enabled, the slowest statements. SQLite: the file's size.

Statistics views only, read with one short connection under a statement timeout; the check never
writes. Connections are counted for the whole server (max_connections is a server limit), leaving
out the check's own.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from hashigo.ops.check.sources.base import Reading, Sample
from hashigo.urls import strip_credentials

_CONNECTIONS = """
SELECT count(*) FILTER (WHERE pid <> pg_backend_pid()) AS used,
       current_setting('max_connections')::int AS max,
       current_setting('superuser_reserved_connections')::int AS reserved
FROM pg_stat_activity WHERE backend_type = 'client backend'
"""
_CACHE = """
SELECT sum(blks_hit)::float8 AS hit, sum(blks_read)::float8 AS read
FROM pg_stat_database WHERE datname = current_database()
"""
_LONGEST = """
SELECT pid, extract(epoch FROM clock_timestamp() - query_start)::float8 AS seconds, left(query, 160) AS query
FROM pg_stat_activity
WHERE state = 'active' AND backend_type = 'client backend' AND pid <> pg_backend_pid() AND query_start IS NOT NULL
ORDER BY query_start LIMIT 5
"""
_STATEMENTS = """
SELECT left(query, 160) AS query, calls, {mean}::float8 AS mean_ms, {total}::float8 AS total_ms
FROM pg_stat_statements WHERE calls >= 5 AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
ORDER BY {mean} DESC LIMIT 5
"""


def libpq_url(url: str) -> str:
    scheme, rest = url.split("://", 1) if "://" in url else ("", url)
    if scheme.lower() not in {"postgres", "postgresql", "postgresql+asyncpg"}:
        raise ValueError(f"database URL scheme {scheme!r}: accepted: postgresql://, postgres://, "
                         f"postgresql+asyncpg://, sqlite:///path")
    return "postgresql://" + rest


class PostgresSource:
    name = "postgres"

    def __init__(self, url: str, *, timeout_seconds: float, queries: dict[str, str]) -> None:
        self.dsn = libpq_url(url)
        self.target = strip_credentials(self.dsn)
        self.request_timeout = timeout_seconds
        self.timeout = 3 * timeout_seconds  # connect, then a handful of statements each under the timeout
        self.queries = queries
        self.provides: tuple[str, ...] = ("db_connections", "db_size_gb", "db_cache_hit_pct", "db_longest_query_s",
                         "db_statement_mean_ms", *queries)

    async def sample(self) -> Sample:
        statement_ms = int(self.request_timeout * 1000)
        conn = await psycopg.AsyncConnection.connect(
            self.dsn, autocommit=True, connect_timeout=max(2, int(self.request_timeout)),
            application_name="hashigo-check", options=f"-c statement_timeout={statement_ms}")
        try:
            sample = Sample()
            async with conn.cursor(row_factory=dict_row) as cur:
                await self._server(cur, sample)
                await self._activity(cur, sample)
                await self._statements(cur, sample)
                await self._custom(cur, sample)
            return sample
        finally:
            await conn.close()

    async def _server(self, cur: Cursor, sample: Sample) -> None:
        row = await _one(cur, _CONNECTIONS)
        used, limit, reserved = int(row["used"]), int(row["max"]), int(row["reserved"])
        sample.add(Reading("db_connections", float(used), self.name,
                           f"of max_connections {limit} ({reserved} reserved for superusers)", float(limit)))
        size = int((await _one(cur, "SELECT pg_database_size(current_database()) AS size"))["size"])
        sample.add(Reading("db_size_gb", size / 1e9, self.name, f"{size:,} bytes"))
        cache = await _one(cur, _CACHE)
        hit, read = float(cache["hit"] or 0), float(cache["read"] or 0)
        total = hit + read
        sample.add(Reading("db_cache_hit_pct", 100 * hit / total if total else None, self.name,
                           f"{hit:,.0f} of {total:,.0f} block reads from memory since statistics reset"))
        sample.details.update(max_connections=limit, superuser_reserved_connections=reserved, size_bytes=size)

    async def _activity(self, cur: Cursor, sample: Sample) -> None:
        await cur.execute(_LONGEST)
        longest = [{"pid": r["pid"], "seconds": round(float(r["seconds"]), 3), "query": r["query"]}
                   for r in await cur.fetchall()]
        sample.details["longest_queries"] = longest
        top = max((float(r["seconds"]) for r in longest), default=0.0)
        sample.add(Reading("db_longest_query_s", top, self.name,
                           f"pid {longest[0]['pid']}" if longest else "no query running"))

    async def _statements(self, cur: Cursor, sample: Sample) -> None:
        await cur.execute("SELECT 1 AS on FROM pg_extension WHERE extname = 'pg_stat_statements'")
        if await cur.fetchone() is None:
            sample.details["pg_stat_statements"] = "not enabled (CREATE EXTENSION pg_stat_statements)"
            return
        rows: list[dict[str, Any]] | None = None
        for mean, total in (("mean_exec_time", "total_exec_time"), ("mean_time", "total_time")):  # PG 13+, older
            try:
                await cur.execute(_STATEMENTS.format(mean=mean, total=total).encode())
                rows = await cur.fetchall()
                break
            except psycopg.errors.UndefinedColumn:
                continue
            except psycopg.Error as exc:  # e.g. not in shared_preload_libraries
                sample.details["pg_stat_statements"] = f"unreadable: {str(exc).splitlines()[0]}"
                return
        statements = [{**r, "mean_ms": round(float(r["mean_ms"]), 3), "total_ms": round(float(r["total_ms"]), 3)}
                      for r in rows or []]
        sample.details["slowest_statements"] = statements
        sample.add(Reading("db_statement_mean_ms", statements[0]["mean_ms"] if statements else None, self.name,
                           f"{len(statements)} statements called 5 times or more"))

    async def _custom(self, cur: Cursor, sample: Sample) -> None:
        for metric, sql in self.queries.items():
            try:
                await cur.execute(sql.encode())
                row = await cur.fetchone()
            except psycopg.Error as exc:
                raise RuntimeError(f"queries.{metric}: {str(exc).splitlines()[0]}") from None
            value = next(iter(row.values())) if row else None
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float | Decimal)):
                raise RuntimeError(f"queries.{metric}: must return one number, got {value!r}")
            sample.add(Reading(metric, None if value is None else float(value), self.name, "your query"))

    async def close(self) -> None:
        return None


Cursor = psycopg.AsyncCursor[dict[str, Any]]


async def _one(cur: Cursor, sql: str) -> dict[str, Any]:
    await cur.execute(sql.encode())
    row = await cur.fetchone()
    if row is None:
        raise RuntimeError(f"no row from {sql.split()[1]}")
    return row


class SqliteSource:
    """The embedded database: its size is all there is to measure (one writer, no connection limit)."""

    name = "sqlite"
    provides: tuple[str, ...] = ("db_size_gb",)

    def __init__(self, path: Path, timeout_seconds: float) -> None:
        self.path = path
        self.target = f"sqlite:///{path}"
        self.timeout = self.request_timeout = timeout_seconds

    async def sample(self) -> Sample:
        if not self.path.exists():
            raise FileNotFoundError(f"no database file at {self.path}")
        size = sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.exists())
        return Sample([Reading("db_size_gb", size / 1e9, self.name, f"{size:,} bytes (SQLite file and WAL)")])

    async def close(self) -> None:
        return None
