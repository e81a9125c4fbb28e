"""Engine factory: pool settings that survive managed databases (Supabase, Aurora, poolers)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from hashigo.errors import BackendUnavailable
from hashigo.settings import DatabaseSettings
from hashigo.urls import redact_url

# Supabase's transaction pooler (Supavisor) and PgBouncer listen here; prepared statements
# do not survive a transaction-mode pooler, so asyncpg's statement cache must be off.
_POOLER_PORTS = {6543}


def create_engine(settings: DatabaseSettings) -> AsyncEngine:
    """Build the engine; nothing connects until the first query."""
    url = make_url(settings.url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(settings)
    query = dict(url.query)
    behind_pooler = url.port in _POOLER_PORTS or str(query.pop("pgbouncer", "")).lower() in {"1", "true"}
    connect_args: dict[str, Any] = {
        "timeout": settings.connect_timeout_seconds,
        "server_settings": {"application_name": "hashigo",
                            "statement_timeout": str(settings.statement_timeout_ms)},
    }
    if settings.statement_timeout_ms:
        # The server's statement_timeout cannot fire on a server that hangs (frozen, partitioned);
        # the client gives up a second later, so even the pool's pre-ping never waits forever.
        connect_args["command_timeout"] = settings.statement_timeout_ms / 1000 + 1
    if behind_pooler:
        connect_args["statement_cache_size"] = 0
        connect_args["prepared_statement_cache_size"] = 0
    return create_async_engine(
        url.set(query=query),
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_recycle=settings.pool_recycle_seconds,
        pool_pre_ping=True,
        pool_timeout=settings.connect_timeout_seconds,
        connect_args=connect_args,
    )


def _sqlite_engine(settings: DatabaseSettings) -> AsyncEngine:
    url = make_url(settings.url)
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": settings.connect_timeout_seconds})

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # WAL lets readers run beside the one writer; foreign keys are off by default in SQLite.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(settings.connect_timeout_seconds * 1000)}")
        cursor.close()

    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def database_version(engine: AsyncEngine, timeout: float) -> str:
    """Connect and return the server's version; ``BackendUnavailable`` if it does not answer."""
    is_sqlite = engine.dialect.name == "sqlite"
    query = text("select sqlite_version()" if is_sqlite else "select version()")
    try:
        async with asyncio.timeout(timeout), engine.connect() as conn:
            version = (await conn.execute(query)).scalar_one()
    except TimeoutError:
        raise BackendUnavailable("database", f"no answer from {redact_url(str(engine.url))} "
                                             f"within {timeout:g}s") from None
    except (OSError, ConnectionError) as exc:
        raise BackendUnavailable("database", f"{redact_url(str(engine.url))}: {exc}") from exc
    except Exception as exc:  # driver errors differ per backend; all mean "not usable now"
        if type(exc).__module__.startswith(("sqlalchemy", "asyncpg", "sqlite3", "aiosqlite")):
            raise BackendUnavailable("database", f"{redact_url(str(engine.url))}: {_first_line(exc)}") from exc
        raise
    return f"SQLite {version}" if is_sqlite else str(version).split(" on ")[0]


def _first_line(exc: BaseException) -> str:
    text_ = str(exc).strip().splitlines()
    return text_[0] if text_ else type(exc).__name__
