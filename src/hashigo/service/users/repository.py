"""Database access for users: one function per query, no business rules."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hashigo.service.auth.models import TokenFamily
from hashigo.service.users.models import User


async def by_email(db: AsyncSession, email: str) -> User | None:
    result: User | None = (await db.execute(select(User).where(User.email == email))).scalar_one_or_none()
    return result


async def email_taken(db: AsyncSession, email: str, *, except_user: str | None = None) -> bool:
    query = select(User.id).where(User.email == email)
    if except_user is not None:
        query = query.where(User.id != except_user)
    return (await db.execute(query.limit(1))).first() is not None


async def add(db: AsyncSession, user: User) -> None:
    db.add(user)
    await db.flush()


async def remove(db: AsyncSession, user_id: str) -> None:
    # Families first: SQLite enforces the cascade only with foreign keys on, so do not rely on it.
    await db.execute(delete(TokenFamily).where(TokenFamily.user_id == user_id))
    await db.execute(delete(User).where(User.id == user_id))
