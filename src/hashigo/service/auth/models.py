"""Refresh-token families, kept server-side so rotation, reuse detection and logout work."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from hashigo.db.models import Base, UtcDateTime


class TokenFamily(Base):
    """One login. Every refresh replaces ``current_jti``; presenting an older jti is reuse and
    revokes the family. Access tokens carry the family id, so revoking it ends them too."""

    __tablename__ = "auth_token_families"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id", ondelete="CASCADE"), index=True)
    current_jti: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    revoked_reason: Mapped[str | None] = mapped_column(String(64), default=None)
