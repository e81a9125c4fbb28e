"""`hashigo db upgrade|downgrade|current|history`: Alembic, wired to the package and to Settings."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from hashigo.settings import DatabaseSettings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(settings: DatabaseSettings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", settings.url.replace("%", "%%"))
    config.attributes["database_settings"] = settings
    return config


def upgrade(settings: DatabaseSettings, revision: str = "head") -> None:
    command.upgrade(alembic_config(settings), revision)


def downgrade(settings: DatabaseSettings, revision: str) -> None:
    command.downgrade(alembic_config(settings), revision)


def head_revision() -> str | None:
    script = ScriptDirectory.from_config(alembic_config(DatabaseSettings(url="sqlite://")))
    return script.get_current_head()


def history_lines() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config(DatabaseSettings(url="sqlite://")))
    return [f"{rev.revision}: {rev.doc}" for rev in script.walk_revisions()]


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())


def known_revisions() -> set[str]:
    script = ScriptDirectory.from_config(alembic_config(DatabaseSettings(url="sqlite://")))
    return {rev.revision for rev in script.walk_revisions()}
