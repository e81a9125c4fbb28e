"""Dependencies every route may ask for; ``Annotated`` aliases keep route signatures short."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from hashigo.kv import KeyValueStore
from hashigo.pubsub.protocol import PubSub
from hashigo.runtime import Runtime
from hashigo.settings import Settings
from hashigo.storage import ObjectStore

log = logging.getLogger("hashigo.service")


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_settings(runtime: RuntimeDep) -> Settings:
    return runtime.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_db(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    session = runtime.sessions()
    try:
        yield session
    finally:
        await _close_quietly(session)


async def _close_quietly(session: AsyncSession) -> None:
    """Closing rolls back what was not committed; if the connection died meanwhile, the server has
    rolled it back already and the pool discards the connection. Raising here would come after the
    answer was sent: an unhandled error, and uvicorn would drop the client's keep-alive connection."""
    try:
        await session.close()
    except (SQLAlchemyError, OSError) as exc:
        first_line = (str(exc).splitlines() or [type(exc).__name__])[0]
        log.warning("database session closed on a lost connection", extra={"error": first_line})


DbSession = Annotated[AsyncSession, Depends(get_db)]


def get_kv(runtime: RuntimeDep) -> KeyValueStore:
    return runtime.kv


KeyValueDep = Annotated[KeyValueStore, Depends(get_kv)]


def get_storage(runtime: RuntimeDep) -> ObjectStore:
    return runtime.storage


StorageDep = Annotated[ObjectStore, Depends(get_storage)]


def get_pubsub(runtime: RuntimeDep) -> PubSub:
    return runtime.pubsub


PubSubDep = Annotated[PubSub, Depends(get_pubsub)]
