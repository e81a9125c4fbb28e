"""The signed-in user's own account: read, update, disable, delete."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hashigo.errors import BackendUnavailable
from hashigo.runtime import Runtime
from hashigo.service.auth import service as auth
from hashigo.service.kit.errors import ApiError
from hashigo.service.users import repository as users
from hashigo.service.users.models import User
from hashigo.service.users.schemas import UserOut, UserUpdate

log = logging.getLogger("hashigo.service.users")


async def user_out(runtime: Runtime, user: User) -> UserOut:
    url = await avatar_url(runtime, user.avatar_key) if user.avatar_key else None
    return UserOut(id=user.id, email=user.email, display_name=user.display_name, avatar_url=url,
                   is_active=user.is_active, created_at=user.created_at, updated_at=user.updated_at)


async def avatar_url(runtime: Runtime, key: str) -> str:
    """Public URL when ``PUBLIC_FILES_BASE_URL`` is set (a CDN or public bucket), else a signed one."""
    service = runtime.settings.service
    if service.public_files_base_url:
        return f"{service.public_files_base_url.rstrip('/')}/{key}"
    return await runtime.storage.signed_url(key, "GET", timedelta(seconds=service.signed_url_seconds))


async def update(db: AsyncSession, runtime: Runtime, user: User, body: UserUpdate) -> User:
    if body.email is not None and body.email != user.email:
        if body.current_password is None:
            raise ApiError(403, "current_password_required",
                           "changing email needs current_password (this account's password)")
        await auth.check_password(runtime, user, body.current_password)
        if await users.email_taken(db, body.email, except_user=user.id):
            raise auth.email_in_use()
        user.email = body.email
    if body.display_name is not None:
        user.display_name = body.display_name
    user.updated_at = datetime.now(UTC)
    try:
        await db.commit()
    except IntegrityError:
        await db.rollback()
        raise auth.email_in_use() from None
    return user


async def disable(db: AsyncSession, runtime: Runtime, user: User) -> None:
    """The account can no longer log in; every login it had ends now."""
    user.is_active, user.updated_at = False, datetime.now(UTC)
    await auth.revoke_all(db, runtime.pubsub, user.id, "account_disabled")


async def delete(db: AsyncSession, runtime: Runtime, user: User) -> None:
    """Remove the account, its logins and its avatar."""
    avatar_key, user_id = user.avatar_key, user.id
    await users.remove(db, user_id)
    await auth.revoke_all(db, runtime.pubsub, user_id, "account_deleted")
    if avatar_key:
        await remove_object(runtime, avatar_key)


async def remove_object(runtime: Runtime, key: str) -> None:
    try:
        await runtime.storage.delete(key)
    except BackendUnavailable as exc:  # the row is gone already; the sweeper-free leftover is logged
        log.warning("avatar not deleted", extra={"key": key, "error": exc.detail})
