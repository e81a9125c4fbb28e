"""Database access for token families: one function per query, no business rules."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hashigo.service.auth.models import TokenFamily
from hashigo.service.users.models import User


async def user_with_family(db: AsyncSession, user_id: str, family_id: str) -> tuple[User, TokenFamily] | None:
    """The user and one of their families in one round trip (the per-request auth check)."""
    query = (select(User, TokenFamily).join(TokenFamily, TokenFamily.user_id == User.id)
             .where(User.id == user_id, TokenFamily.id == family_id))
    row = (await db.execute(query)).first()
    return (row[0], row[1]) if row is not None else None


async def add_family(db: AsyncSession, family: TokenFamily) -> None:
    db.add(family)
    await db.flush()


async def rotate_jti(db: AsyncSession, family_id: str, old_jti: str, new_jti: str) -> bool:
    """Compare-and-set: False when another refresh rotated the family first."""
    result = await db.execute(
        update(TokenFamily)
        .where(TokenFamily.id == family_id, TokenFamily.current_jti == old_jti, TokenFamily.revoked_at.is_(None))
        .values(current_jti=new_jti)
        .execution_options(synchronize_session=False))
    return bool(getattr(result, "rowcount", 0) == 1)


async def revoke_family(db: AsyncSession, family_id: str, reason: str, now: datetime) -> None:
    await db.execute(
        update(TokenFamily)
        .where(TokenFamily.id == family_id, TokenFamily.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
        .execution_options(synchronize_session=False))


async def revoke_user_families(db: AsyncSession, user_id: str, reason: str, now: datetime) -> None:
    await db.execute(
        update(TokenFamily)
        .where(TokenFamily.user_id == user_id, TokenFamily.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
        .execution_options(synchronize_session=False))
