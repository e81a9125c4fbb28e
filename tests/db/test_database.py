"""The database port on SQLite and on a real PostgreSQL: engine, migrations, outages."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from hashigo.cli import app
from hashigo.db import create_engine, database_version
from hashigo.db.migrate_schema import current_revision, head_revision
from hashigo.errors import BackendUnavailable
from hashigo.settings import DatabaseSettings
from hashigo.urls import normalise_database_url
from tests.harness.blackhole import Blackhole
from tests.harness.postgres import PrivatePostgres

runner = CliRunner()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    return str(request.getfixturevalue("pg_database"))


def cli(url: str, *args: str, cwd: Path) -> tuple[int, str]:
    env = {"DATABASE_URL": url, "HASHIGO_DATA_DIR": str(cwd / ".hashigo")}
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.output


def test_migrations_upgrade_current_downgrade(database_url: str, tmp_path: Path) -> None:
    code, output = cli(database_url, "db", "current", "--json", cwd=tmp_path)
    assert code == 0, output
    assert '"current": null' in output
    code, output = cli(database_url, "db", "upgrade", cwd=tmp_path)
    assert code == 0, output
    code, output = cli(database_url, "db", "current", "--json", cwd=tmp_path)
    assert f'"current": "{head_revision()}"' in output
    assert '"up_to_date": true' in output

    async def marker_rows() -> list[tuple[str, str]]:
        engine = create_engine(DatabaseSettings(url=normalise_database_url(database_url)))
        try:
            async with engine.connect() as conn:
                rows = (await conn.execute(text("select key, value from hashigo_schema_info"))).all()
                return [(r[0], r[1]) for r in rows]
        finally:
            await engine.dispose()

    assert asyncio.run(marker_rows())[0][0] == "created_by"
    code, output = cli(database_url, "db", "downgrade", "base", cwd=tmp_path)
    assert code == 0, output

    async def after_downgrade() -> str | None:
        engine = create_engine(DatabaseSettings(url=normalise_database_url(database_url)))
        try:
            return await current_revision(engine)
        finally:
            await engine.dispose()

    assert asyncio.run(after_downgrade()) is None


def test_unknown_revision_is_refused_with_exit_2(tmp_path: Path) -> None:
    code, output = cli(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", "db", "downgrade", "zzz", cwd=tmp_path)
    assert code == 2
    assert "unknown revision 'zzz'" in output


async def test_version_and_pool_settings(database_url: str) -> None:
    settings = DatabaseSettings(url=normalise_database_url(database_url), pool_size=3)
    engine = create_engine(settings)
    try:
        version = await database_version(engine, timeout=5)
        if database_url.startswith("sqlite"):
            assert version.startswith("SQLite 3.")
        else:
            assert version.startswith("PostgreSQL ")
            assert engine.pool.size() == 3  # type: ignore[attr-defined]
            async with engine.connect() as conn:
                timeout = (await conn.execute(text("show statement_timeout"))).scalar_one()
                app_name = (await conn.execute(text("show application_name"))).scalar_one()
            assert timeout == "30s"
            assert app_name == "hashigo"
    finally:
        await engine.dispose()


async def test_refused_connection_raises_backend_unavailable() -> None:
    from tests.harness.base import free_port

    settings = DatabaseSettings(url=f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/postgres",
                                connect_timeout_seconds=2)
    engine = create_engine(settings)
    started = time.monotonic()
    with pytest.raises(BackendUnavailable) as caught:
        await database_version(engine, timeout=3)
    await engine.dispose()
    assert caught.value.backend == "database"
    assert time.monotonic() - started < 3.5


async def test_hung_server_raises_backend_unavailable_within_timeout(blackhole: Blackhole) -> None:
    settings = DatabaseSettings(url=f"postgresql+asyncpg://postgres@127.0.0.1:{blackhole.port}/postgres",
                                connect_timeout_seconds=1)
    engine = create_engine(settings)
    started = time.monotonic()
    with pytest.raises(BackendUnavailable):
        await database_version(engine, timeout=1.5)
    await engine.dispose()
    assert time.monotonic() - started < 2.5


@pytest.fixture(scope="module")
def private_postgres() -> Iterator[PrivatePostgres]:
    try:
        server = PrivatePostgres()
    except (FileNotFoundError, RuntimeError) as exc:
        from tests.harness.base import missing_server

        missing_server("postgresql (private, restartable)", f"install PostgreSQL server binaries ({exc})")
        raise
    try:
        yield server
    finally:
        server.close()


@pytest.mark.slow
async def test_server_stopped_mid_test_then_recovers(private_postgres: PrivatePostgres) -> None:
    settings = DatabaseSettings(url=normalise_database_url(private_postgres.url), connect_timeout_seconds=2)
    engine = create_engine(settings)
    try:
        assert (await database_version(engine, timeout=5)).startswith("PostgreSQL")
        await asyncio.to_thread(private_postgres.server.stop)
        started = time.monotonic()
        with pytest.raises(BackendUnavailable):
            await database_version(engine, timeout=3)
        assert time.monotonic() - started < 3.5
        await asyncio.to_thread(private_postgres.server.start)
        # pool_pre_ping replaces the dead pooled connection; no restart of the app is needed.
        assert (await database_version(engine, timeout=5)).startswith("PostgreSQL")
    finally:
        await engine.dispose()
