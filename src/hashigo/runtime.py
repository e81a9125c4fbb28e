"""The ports, opened together from one Settings: what an app holds for its lifetime.

    runtime = Runtime.open(load_settings())
    app = FastAPI(lifespan=runtime.lifespan)

Opening connects to nothing; each port connects on first use and ``aclose()`` releases all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hashigo.db import create_engine, session_factory
from hashigo.kv import KeyValueStore, open_kv
from hashigo.pubsub import PubSub, open_pubsub
from hashigo.settings import Settings
from hashigo.storage import ObjectStore, open_object_store


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    storage: ObjectStore
    kv: KeyValueStore
    pubsub: PubSub

    @classmethod
    def open(cls, settings: Settings) -> Runtime:
        engine = create_engine(settings.database)
        return cls(settings, engine, session_factory(engine), open_object_store(settings.storage),
                   open_kv(settings.kv), open_pubsub(settings.pubsub))

    async def aclose(self) -> None:
        try:
            await self.pubsub.close()
            await self.kv.close()
            await self.storage.close()
        finally:
            await self.engine.dispose()

    @asynccontextmanager
    async def lifespan(self, _app: Any) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await self.aclose()
