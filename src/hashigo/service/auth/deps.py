"""Who is calling: ``CurrentUser`` for routes, ``authenticate_access_token`` for the WebSocket handshake.

Contract (other domains rely on it):
- ``Principal`` has ``user`` (the ``User`` row), ``family_id`` (the login's token family) and
  ``expires_at`` (the access token's expiry, aware UTC datetime).
- ``CurrentUser`` refuses with 401 (``WWW-Authenticate: Bearer``) for any token problem and with
  503 + ``Retry-After`` when the database cannot be asked; it never lets a request through unchecked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from hashigo.runtime import Runtime
from hashigo.service.auth import repository as families
from hashigo.service.auth.codec import codec_for
from hashigo.service.auth.tokens import InvalidToken, TokenCodec
from hashigo.service.deps import DbSession, RuntimeDep
from hashigo.service.kit.errors import ApiError
from hashigo.service.users.models import User

log = logging.getLogger("hashigo.service.auth")

# tokenUrl makes Swagger UI's "Authorize" button log in with the password form.
bearer_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/login", auto_error=False)


@dataclass(frozen=True, slots=True)
class Principal:
    user: User
    family_id: str
    expires_at: datetime


def _refused(detail: str = "the access token is invalid, expired or revoked; log in again") -> ApiError:
    return ApiError(401, "invalid_token", detail, {"WWW-Authenticate": "Bearer"})


async def principal_for(db: AsyncSession, codec: TokenCodec, token: str) -> Principal:
    """Check the token, then the user and the token family in one query."""
    try:
        claims = codec.decode(token, "access")
    except InvalidToken as exc:
        log.info("access token refused", extra={"reason": str(exc)})
        raise _refused() from None
    found = await families.user_with_family(db, claims.subject, claims.family_id)
    if found is None:
        raise _refused()
    user, family = found
    if not user.is_active or family.revoked_at is not None or family.expires_at <= datetime.now(UTC):
        raise _refused()
    return Principal(user, family.id, claims.expires_at)


async def current_principal(db: DbSession, runtime: RuntimeDep,
                            token: Annotated[str | None, Depends(bearer_scheme)]) -> Principal:
    if not token:
        raise _refused("this route needs `Authorization: Bearer <access token>`; get one from "
                       "POST /api/v1/auth/login")
    return await principal_for(db, codec_for(runtime.settings), token)


async def authenticate_access_token(runtime: Runtime, token: str) -> Principal:
    """For the WebSocket handshake: ``ApiError`` 401 on any token problem; backend errors propagate."""
    async with runtime.sessions() as db:
        return await principal_for(db, codec_for(runtime.settings), token)


CurrentUser = Annotated[Principal, Depends(current_principal)]


authenticate = authenticate_access_token  # the name the first version of this contract used
