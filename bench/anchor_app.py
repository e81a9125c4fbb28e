"""The anchor: what a team writes by hand from seed 002 §7 — FastAPI, PyJWT, one SELECT.

It runs on the same backends as hashigo (same DATABASE_URL, key-value store and object store,
opened through hashigo's ports so the storage/KV clients are identical) but does no more than
the seed's code: decode the JWT, fetch the user row, answer. No token-family revocation check,
no rate limits, no size or type checks, no metrics, no request logging.

    uvicorn --factory bench.anchor_app:create_app
"""

from __future__ import annotations

import json
import os
from typing import Annotated, Any

import jwt
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import text

from hashigo.runtime import Runtime
from hashigo.settings import load_settings

SECRET = os.environ.get("ANCHOR_JWT_SECRET", "anchor-secret-" + "x" * 40)
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")


async def current_user(request: Request, token: Annotated[str, Depends(oauth2_scheme)]) -> dict[str, Any]:
    try:
        payload = jwt.decode(token, SECRET, algorithms=["HS256"])
    except jwt.PyJWTError:
        raise HTTPException(401, "Could not validate credentials") from None
    runtime: Runtime = request.app.state.runtime
    async with runtime.sessions() as session:
        row = (await session.execute(text("select id, email, display_name from users where id = :id"),
                                     {"id": payload["sub"]})).first()
    if row is None:
        raise HTTPException(401, "Could not validate credentials")
    return {"id": row.id, "email": row.email, "display_name": row.display_name}


# Module level: with postponed annotations FastAPI resolves dependency aliases from module globals.
User = Annotated[dict[str, Any], Depends(current_user)]


def create_app() -> FastAPI:
    runtime = Runtime.open(load_settings())
    app = FastAPI(lifespan=runtime.lifespan)
    app.state.runtime = runtime

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/users/me")
    async def me(user: User) -> dict[str, Any]:
        return user

    @app.get("/sessions/{session_id}/meta/{field}")
    async def meta(session_id: str, field: str, user: User) -> Any:
        value = await runtime.kv.get(f"session:{session_id}:meta:{field}")
        if value is None:
            raise HTTPException(404, "not found")
        return json.loads(value)

    @app.put("/sessions/{session_id}/files/{path:path}")
    async def upload(session_id: str, path: str, request: Request, user: User) -> dict[str, Any]:
        body = await request.body()
        info = await runtime.storage.put(f"anchor/{session_id}/{path}", body,
                                         content_type=request.headers.get("content-type"))
        return {"path": path, "size": info.size}

    return app


def token_for(user_id: str) -> str:
    import time

    return jwt.encode({"sub": user_id, "exp": int(time.time()) + 3600}, SECRET, algorithm="HS256")
