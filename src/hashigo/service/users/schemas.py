"""Request and response bodies of the users domain."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from hashigo.service.auth.schemas import DisplayName, Email, GivenPassword


class UserOut(BaseModel):
    id: str = Field(description="128-bit random id, hex")
    email: str
    display_name: str
    avatar_url: str | None = Field(None, description="signed or public URL of the avatar; null when none")
    is_active: bool
    created_at: datetime
    updated_at: datetime


class UserUpdate(BaseModel):
    """Only the fields given change. Changing ``email`` needs ``current_password``."""

    model_config = ConfigDict(extra="forbid")

    display_name: DisplayName | None = None
    email: Email | None = None
    current_password: GivenPassword | None = None


class AvatarOut(BaseModel):
    avatar_url: str
