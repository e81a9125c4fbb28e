"""What the sessions routes answer."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, JsonValue


class SessionOut(BaseModel):
    id: str = Field(description="128 random bits, URL-safe base64")
    created_at: datetime
    expires_in: int = Field(description="Seconds until the session's data expires unless it is used again")


class SessionDetail(SessionOut):
    fields: list[str] = Field(description="Names of the metadata fields")
    files: int = Field(description="How many files the session holds")


class SessionList(BaseModel):
    items: list[SessionOut]


class MetaOut(BaseModel):
    field: str
    value: JsonValue


class FileOut(BaseModel):
    path: str = Field(description="The name the file was uploaded under")
    size: int
    content_type: str
    etag: str | None
    uploaded_at: datetime
    url: str | None = Field(description="A signed download URL, valid until url_expires_at")
    url_expires_at: datetime | None


class FileList(BaseModel):
    items: list[FileOut]
