"""Sessions in the key-value port, in the Hera layout (seed 003 §セッションデータとファイル管理).

    session:{id}:owner              → the owner's user id
    session:{id}:meta:{field}       → a JSON value
    session:{id}:meta:file:{path}   → a file record (JSON: path, key, size, content_type, etag, uploaded_at)
    user:{uid}:session:{id}         → {"created_at": ...}: the owner's index, listed by prefix scan

Every key carries the session TTL; activity on a session pushes all of them forward together.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from hashigo.kv import KeyValueStore

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")
"""``secrets.token_urlsafe(16)``: 128 bits from the CSPRNG, and never a ':' or '/' that could
reach into another key or object path."""
FIELD_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
RESERVED_FIELDS = frozenset({"file"})


def new_session_id() -> str:
    return secrets.token_urlsafe(16)


def is_session_id(value: str) -> bool:
    return bool(SESSION_ID.match(value))


def session_prefix(session_id: str) -> str:
    return f"session:{session_id}:"


def owner_key(session_id: str) -> str:
    return f"session:{session_id}:owner"


def meta_key(session_id: str, field: str) -> str:
    return f"session:{session_id}:meta:{field}"


def file_prefix(session_id: str) -> str:
    return f"session:{session_id}:meta:file:"


def file_key(session_id: str, path: str) -> str:
    return f"{file_prefix(session_id)}{path}"


def index_prefix(user_id: str) -> str:
    return f"user:{user_id}:session:"


def index_key(user_id: str, session_id: str) -> str:
    return f"{index_prefix(user_id)}{session_id}"


def object_prefix(session_id: str) -> str:
    return f"sessions/{session_id}/"


async def session_owner(kv: KeyValueStore, session_id: str) -> str | None:
    """The user id owning ``session_id``; None when there is no such (live) session or the id is malformed."""
    if not is_session_id(session_id):
        return None
    value = await kv.get(owner_key(session_id))
    return value.decode() if value is not None else None


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass(frozen=True, slots=True)
class FileRecord:
    path: str
    """The name the user gave; ``key`` is where the bytes are (they differ for unsafe names)."""
    key: str
    size: int
    content_type: str
    etag: str | None
    uploaded_at: datetime

    def to_json(self) -> str:
        body = asdict(self)
        body["uploaded_at"] = _iso(self.uploaded_at)
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: bytes) -> FileRecord:
        body = json.loads(raw)
        return cls(path=str(body["path"]), key=str(body["key"]), size=int(body["size"]),
                   content_type=str(body["content_type"]), etag=body.get("etag"),
                   uploaded_at=parse_time(str(body["uploaded_at"])))


@dataclass(frozen=True, slots=True)
class SessionEntry:
    id: str
    created_at: datetime


class SessionRepository:
    """All key-value reads and writes of the sessions domain; ``ttl`` is SESSION_TTL in seconds."""

    def __init__(self, kv: KeyValueStore, ttl: float) -> None:
        self.kv = kv
        self.ttl = ttl

    async def create(self, owner_id: str) -> SessionEntry:
        entry = SessionEntry(new_session_id(), _now())
        # The owner first: an index entry never names a session nobody owns.
        if not await self.kv.set(owner_key(entry.id), owner_id, ttl=self.ttl, if_absent=True):
            raise RuntimeError("a fresh 128-bit session id collided; this should not happen")
        await self.kv.set(index_key(owner_id, entry.id), json.dumps({"created_at": _iso(entry.created_at)}),
                          ttl=self.ttl)
        return entry

    async def owner(self, session_id: str) -> str | None:
        return await session_owner(self.kv, session_id)

    async def remaining_ttl(self, session_id: str) -> float | None:
        return await self.kv.ttl(owner_key(session_id))

    async def refresh(self, session_id: str, owner_id: str) -> int:
        """Give every key of the session the full TTL again; returns how many were live."""
        refreshed = 0
        keys = [key async for key in self.kv.scan(session_prefix(session_id))]
        for key in [*keys, index_key(owner_id, session_id)]:
            refreshed += await self.kv.expire(key, self.ttl)
        return refreshed

    async def entry(self, owner_id: str, session_id: str) -> SessionEntry | None:
        raw = await self.kv.get(index_key(owner_id, session_id))
        if raw is None:
            return None
        return SessionEntry(session_id, parse_time(json.loads(raw)["created_at"]))

    async def list_for(self, owner_id: str) -> list[SessionEntry]:
        prefix = index_prefix(owner_id)
        ids = [key[len(prefix):] async for key in self.kv.scan(prefix)]
        ids = [sid for sid in ids if is_session_id(sid)]
        if not ids:
            return []
        values = await self.kv.get_many([index_key(owner_id, sid) for sid in ids])
        owners = await self.kv.get_many([owner_key(sid) for sid in ids])
        entries = [SessionEntry(sid, parse_time(json.loads(raw)["created_at"]))
                   for sid, raw, owner in zip(ids, values, owners, strict=True)
                   if raw is not None and owner is not None and owner.decode() == owner_id]
        return sorted(entries, key=lambda e: e.created_at)

    # -- metadata ------------------------------------------------------------

    async def set_meta(self, session_id: str, field: str, value: Any) -> None:
        await self.kv.set(meta_key(session_id, field), json.dumps(value, ensure_ascii=False), ttl=self.ttl)

    async def get_meta(self, session_id: str, field: str) -> tuple[bool, Any]:
        raw = await self.kv.get(meta_key(session_id, field))
        return (False, None) if raw is None else (True, json.loads(raw))

    async def delete_meta(self, session_id: str, field: str) -> bool:
        return await self.kv.delete(meta_key(session_id, field)) > 0

    async def meta_fields(self, session_id: str) -> list[str]:
        prefix = meta_key(session_id, "")
        files = file_prefix(session_id)
        return sorted([key[len(prefix):] async for key in self.kv.scan(prefix) if not key.startswith(files)])

    # -- file records --------------------------------------------------------

    async def put_file(self, session_id: str, record: FileRecord) -> None:
        await self.kv.set(file_key(session_id, record.path), record.to_json(), ttl=self.ttl)

    async def get_file(self, session_id: str, path: str) -> FileRecord | None:
        raw = await self.kv.get(file_key(session_id, path))
        return FileRecord.from_json(raw) if raw is not None else None

    async def delete_file(self, session_id: str, path: str) -> bool:
        return await self.kv.delete(file_key(session_id, path)) > 0

    async def file_paths(self, session_id: str, under: str = "") -> list[str]:
        prefix = file_prefix(session_id)
        return sorted([key[len(prefix):] async for key in self.kv.scan(prefix + under)])

    async def files(self, session_id: str) -> list[FileRecord]:
        paths = await self.file_paths(session_id)
        if not paths:
            return []
        raws = await self.kv.get_many([file_key(session_id, path) for path in paths])
        return [FileRecord.from_json(raw) for raw in raws if raw is not None]

    async def any_file(self, session_id: str, paths: list[str]) -> bool:
        if not paths:
            return False
        found = await self.kv.get_many([file_key(session_id, path) for path in paths])
        return any(value is not None for value in found)

    # -- removal -------------------------------------------------------------

    async def delete_keys(self, session_id: str, owner_id: str | None) -> int:
        """Every key of the session, the owner key last, so a crash midway leaves it deletable again."""
        keys = [key async for key in self.kv.scan(session_prefix(session_id)) if key != owner_key(session_id)]
        removed = await self.kv.delete(*keys) if keys else 0
        if owner_id is not None:
            removed += await self.kv.delete(index_key(owner_id, session_id))
        return removed + await self.kv.delete(owner_key(session_id))
