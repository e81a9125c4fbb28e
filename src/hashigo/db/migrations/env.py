"""Alembic environment: runs hashigo's migrations on the engine built from Settings."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from hashigo.db.engine import create_engine
from hashigo.db.models import Base
from hashigo.service import models as _service_models  # noqa: F401  (registers the tables)
from hashigo.settings import DatabaseSettings

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    settings = config.attributes.get("database_settings")
    if not isinstance(settings, DatabaseSettings):
        settings = DatabaseSettings(url=config.get_main_option("sqlalchemy.url") or "")
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())
