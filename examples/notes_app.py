"""A FastAPI app on hashigo's ports: the same code on a laptop and on AWS, switched by URLs.

    uvicorn --factory examples.notes_app:build        # SQLite + local folder + embedded key-value
    DATABASE_URL=postgresql://… REDIS_URL=redis://… STORAGE_URL=s3://bucket \
        uvicorn --factory examples.notes_app:build   # PostgreSQL + Redis + S3, same code
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hashigo.errors import BackendUnavailable
from hashigo.kv import KeyValueStore
from hashigo.runtime import Runtime
from hashigo.settings import load_settings
from hashigo.storage import ObjectNotFound, ObjectStore


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "example_notes"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    body: Mapped[str] = mapped_column(Text)


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    async with _runtime(request).sessions() as session:  # one session per request
        yield session


Db = Annotated[AsyncSession, Depends(_session)]
def _storage(request: Request) -> ObjectStore:
    return _runtime(request).storage


def _kv(request: Request) -> KeyValueStore:
    return _runtime(request).kv


Store = Annotated[ObjectStore, Depends(_storage)]
Kv = Annotated[KeyValueStore, Depends(_kv)]


def create_app(runtime: Runtime) -> FastAPI:
    app = FastAPI(lifespan=runtime.lifespan)
    app.state.runtime = runtime

    @app.exception_handler(BackendUnavailable)
    async def unavailable(_request: Request, exc: BackendUnavailable) -> JSONResponse:
        return JSONResponse({"detail": f"{exc.backend} unavailable"}, status_code=503, headers={"Retry-After": "5"})

    @app.put("/notes/{note_id}")
    async def put_note(note_id: str, request: Request, session: Db, store: Store, kv: Kv) -> dict[str, object]:
        body = (await request.body()).decode()
        async with runtime.engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        async with session.begin():
            await session.merge(Note(id=note_id, body=body))
        await store.put(f"notes/{note_id}.txt", body.encode(), content_type="text/plain; charset=utf-8")
        views = await kv.incr(f"writes:{note_id}", ttl=3600)
        return {"id": note_id, "writes": views}

    @app.get("/notes/{note_id}")
    async def get_note(note_id: str, session: Db, store: Store) -> Response:
        note = (await session.execute(select(Note).where(Note.id == note_id))).scalar_one_or_none()
        if note is None:
            raise HTTPException(404, "no such note")
        try:
            blob = await (await store.get(f"notes/{note_id}.txt")).read()
        except ObjectNotFound:
            raise HTTPException(500, "note body missing from the object store") from None
        return Response(blob, media_type="text/plain")

    return app


def build() -> FastAPI:
    """Built on demand (uvicorn --factory), so importing this module reads and opens nothing."""
    return create_app(Runtime.open(load_settings()))
