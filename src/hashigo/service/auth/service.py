"""Register, log in, refresh (rotating), log out, change password, end every session.

Refresh tokens belong to a family (one login) stored in the database. Each refresh replaces
the family's ``current_jti``; presenting any older refresh token of the family is reuse — a
stolen token raced its owner — and revokes the whole family. Access tokens carry the family
id, and every request checks the family, so revocation ends access tokens at once.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hashigo.pubsub.protocol import PubSub
from hashigo.runtime import Runtime
from hashigo.service.auth import repository as families
from hashigo.service.auth.codec import codec_for
from hashigo.service.auth.limits import LoginLimits
from hashigo.service.auth.models import TokenFamily
from hashigo.service.auth.passwords import hash_password, verify_against_dummy, verify_password
from hashigo.service.auth.schemas import PasswordChangeRequest, RegisterRequest, TokenPair
from hashigo.service.auth.tokens import InvalidToken, TokenCodec, new_id
from hashigo.service.kit.errors import ApiError
from hashigo.service.realtime.events import publish_user_event
from hashigo.service.users import repository as users
from hashigo.service.users.models import User

log = logging.getLogger("hashigo.service.auth")

BEARER = {"WWW-Authenticate": "Bearer"}


def unauthorized(code: str = "invalid_token",
                 detail: str = "the token is invalid, expired or revoked; log in again") -> ApiError:
    return ApiError(401, code, detail, BEARER)


def bad_credentials() -> ApiError:
    # One answer for unknown account, wrong password and disabled account: nothing to enumerate.
    return unauthorized("invalid_credentials", "email or password is incorrect")


async def register(db: AsyncSession, body: RegisterRequest) -> User:
    if await users.email_taken(db, body.email):
        raise email_in_use()
    now = datetime.now(UTC)
    user = User(id=new_id(), email=body.email, display_name=body.display_name,
                password_hash=await hash_password(body.password), avatar_key=None, is_active=True,
                created_at=now, updated_at=now)
    try:
        await users.add(db, user)
        await db.commit()
    except IntegrityError:  # registered concurrently
        await db.rollback()
        raise email_in_use() from None
    return user


def email_in_use() -> ApiError:
    return ApiError(409, "email_taken", "an account with this email already exists; log in or use another email")


async def login(db: AsyncSession, runtime: Runtime, email: str, password: str, address: str) -> TokenPair:
    limits = LoginLimits.from_runtime(runtime)
    await limits.refuse_if_locked(email, address)
    user = await users.by_email(db, email)
    if user is None:
        await verify_against_dummy(password)
        matches, new_hash = False, None
    else:
        matches, new_hash = await verify_password(password, user.password_hash)
    if user is None or not matches or not user.is_active:
        await limits.count_failure(email, address)
        raise bad_credentials()
    await limits.forget_account(email)
    now = datetime.now(UTC)
    if new_hash is not None:  # hashed with older parameters: upgrade while we know the password
        user.password_hash, user.updated_at = new_hash, now
    pair = await start_family(db, codec_for(runtime.settings), user, now)
    await db.commit()
    return pair


async def start_family(db: AsyncSession, codec: TokenCodec, user: User, now: datetime) -> TokenPair:
    family_id = new_id()
    refresh = codec.issue("refresh", user.id, family_id, expires_at=now + codec.refresh_ttl, now=now)
    await families.add_family(db, TokenFamily(id=family_id, user_id=user.id, current_jti=refresh.jti,
                                              created_at=now, expires_at=refresh.expires_at))
    return _pair(codec, user.id, family_id, refresh.token, refresh.expires_at, now)


def _pair(codec: TokenCodec, user_id: str, family_id: str, refresh_token: str, family_expires: datetime,
          now: datetime) -> TokenPair:
    access = codec.issue("access", user_id, family_id, expires_at=min(now + codec.access_ttl, family_expires),
                         now=now)
    return TokenPair(access_token=access.token, refresh_token=refresh_token,
                     expires_in=max(0, int((access.expires_at - now).total_seconds())))


async def refresh(db: AsyncSession, runtime: Runtime, token: str) -> TokenPair:
    codec = codec_for(runtime.settings)
    try:
        claims = codec.decode(token, "refresh")
    except InvalidToken as exc:
        log.info("refresh refused", extra={"reason": str(exc)})
        raise unauthorized() from None
    found = await families.user_with_family(db, claims.subject, claims.family_id)
    now = datetime.now(UTC)
    if found is None or not _usable(*found, now):
        raise unauthorized()
    user, family = found
    user_id, family_id, family_expires = user.id, family.id, family.expires_at
    new_refresh = codec.issue("refresh", user_id, family_id, expires_at=family_expires, now=now)
    rotated = claims.jti == family.current_jti and await families.rotate_jti(db, family_id, claims.jti,
                                                                              new_refresh.jti)
    if not rotated:  # an older token of the family, or a concurrent refresh won the race
        await db.rollback()
        await revoke_family(db, runtime.pubsub, user_id, family_id, "refresh_reused")
        raise unauthorized("refresh_token_reused", "this refresh token was already used; the whole login has "
                                                   "been revoked for safety, log in again")
    await db.commit()
    return _pair(codec, user_id, family_id, new_refresh.token, family_expires, now)


def _usable(user: User, family: TokenFamily, now: datetime) -> bool:
    return user.is_active and family.revoked_at is None and family.expires_at > now


async def revoke_family(db: AsyncSession, pubsub: PubSub, user_id: str, family_id: str, reason: str) -> None:
    await families.revoke_family(db, family_id, reason, datetime.now(UTC))
    await db.commit()
    await publish_user_event(pubsub, user_id, "auth.revoked", {"family_id": family_id})


async def revoke_all(db: AsyncSession, pubsub: PubSub, user_id: str, reason: str) -> None:
    """End every login of the user; the caller's other changes commit with it."""
    await families.revoke_user_families(db, user_id, reason, datetime.now(UTC))
    await db.commit()
    await publish_user_event(pubsub, user_id, "auth.revoked", {"family_id": None})


async def check_password(runtime: Runtime, user: User, password: str) -> None:
    """Re-authentication for sensitive changes; failures count like failed logins."""
    limits = LoginLimits.from_runtime(runtime)
    await limits.refuse_if_locked(user.email, None)
    matches, _ = await verify_password(password, user.password_hash)
    if not matches:
        await limits.count_failure(user.email, None)
        raise ApiError(403, "wrong_password", "current_password is not this account's password")


async def change_password(db: AsyncSession, runtime: Runtime, user: User, body: PasswordChangeRequest) -> TokenPair:
    await check_password(runtime, user, body.current_password)
    now = datetime.now(UTC)
    user.password_hash, user.updated_at = await hash_password(body.new_password), now
    await families.revoke_user_families(db, user.id, "password_changed", now)
    pair = await start_family(db, codec_for(runtime.settings), user, now)
    await db.commit()
    await publish_user_event(runtime.pubsub, user.id, "auth.revoked", {"family_id": None})
    return pair
