"""Sessions owned by a user: metadata in the key-value port, files in the object store.

Write order (DESIGN "Nothing is lost"): an upload writes the object first and the record
second; a delete removes the record first and the object second. A crash at any point leaves
at worst an object without a record, which ``hashigo sessions sweep`` removes — never a
record pointing at a missing object.

Someone else's session answers exactly like a missing one (404), so ids cannot be probed.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from hashigo.kv import KeyValueStore
from hashigo.pubsub.protocol import PubSub
from hashigo.service.kit.errors import ApiError
from hashigo.service.kit.uploads import SniffedBody, store_upload
from hashigo.service.realtime.events import publish_session_event
from hashigo.service.sessions import paths
from hashigo.service.sessions.repository import (
    FIELD_NAME,
    RESERVED_FIELDS,
    FileRecord,
    SessionEntry,
    SessionRepository,
    object_prefix,
)
from hashigo.service.sessions.schemas import FileList, FileOut, MetaOut, SessionDetail, SessionList, SessionOut
from hashigo.settings import Settings
from hashigo.storage import ObjectStore, ObjectStream
from hashigo.storage.protocol import ObjectNotFound, SigningUnsupported, StorageError

log = logging.getLogger("hashigo.service.sessions")

MAX_META_BYTES = 64 * 1024


def _not_found(session_id: str) -> ApiError:
    return ApiError(404, "session_not_found",
                    f"no session {session_id!r} of yours exists; it may have expired or been deleted")


def check_field(field: str) -> str:
    if not FIELD_NAME.match(field):
        raise ApiError(400, "invalid_field",
                       f"metadata field {field!r} is not accepted; accepted: 1 to 64 of A-Z a-z 0-9 _ . -")
    if field in RESERVED_FIELDS:
        raise ApiError(400, "reserved_field",
                       f"metadata field {field!r} is reserved for file records; use the /files routes")
    return field


class SessionService:
    def __init__(self, kv: KeyValueStore, storage: ObjectStore, pubsub: PubSub, settings: Settings) -> None:
        self.ttl = settings.sessions.ttl_seconds
        self.repo = SessionRepository(kv, self.ttl)
        self.storage = storage
        self.pubsub = pubsub
        self.url_lifetime = timedelta(seconds=settings.service.signed_url_seconds)
        self.max_upload_bytes = settings.service.max_upload_bytes
        # Refreshing rewrites every key; doing it at most this often keeps reads to two calls.
        self.refresh_interval = min(60.0, self.ttl / 10)

    # -- sessions --------------------------------------------------------------

    async def create(self, user_id: str) -> SessionOut:
        entry = await self.repo.create(user_id)
        return SessionOut(id=entry.id, created_at=entry.created_at, expires_in=self.ttl)

    async def list(self, user_id: str) -> SessionList:
        entries = await self.repo.list_for(user_id)
        return SessionList(items=[await self._out(entry) for entry in entries])

    async def require(self, user_id: str, session_id: str, *, field: str | None = None) -> None:
        """404 unless ``user_id`` owns the session; any use of it pushes its expiry forward.

        ``field``, when given, is checked first: a bad name is 400 whoever asks.
        """
        if field is not None:
            check_field(field)
        if await self.repo.owner(session_id) != user_id:
            raise _not_found(session_id)
        remaining = await self.repo.remaining_ttl(session_id)
        if remaining is not None and remaining < self.ttl - self.refresh_interval:
            await self.repo.refresh(session_id, user_id)

    async def detail(self, user_id: str, session_id: str) -> SessionDetail:
        await self.require(user_id, session_id)
        entry = await self.repo.entry(user_id, session_id) or SessionEntry(session_id, datetime.now(UTC))
        out = await self._out(entry)
        return SessionDetail(**out.model_dump(), fields=await self.repo.meta_fields(session_id),
                             files=len(await self.repo.file_paths(session_id)))

    async def _out(self, entry: SessionEntry) -> SessionOut:
        remaining = await self.repo.remaining_ttl(entry.id)
        expires_in = self.ttl if remaining is None or remaining == float("inf") else int(remaining)
        return SessionOut(id=entry.id, created_at=entry.created_at, expires_in=expires_in)

    async def delete(self, user_id: str, session_id: str) -> None:
        await self.require(user_id, session_id)
        paths_ = await self.repo.file_paths(session_id)
        for path in paths_:
            await self.repo.delete_file(session_id, path)
        async for info in self.storage.list(object_prefix(session_id)):
            await self.storage.delete(info.key)
        await self.repo.delete_keys(session_id, user_id)
        await publish_session_event(self.pubsub, session_id, "session.deleted", {"files": len(paths_)})

    # -- metadata --------------------------------------------------------------

    async def put_meta(self, session_id: str, field: str, value: Any) -> MetaOut:
        """The caller has checked ownership (``require``) before reading the body."""
        await self.repo.set_meta(session_id, field, value)
        await publish_session_event(self.pubsub, session_id, "meta.changed", {"field": field, "deleted": False})
        return MetaOut(field=field, value=value)

    async def get_meta(self, user_id: str, session_id: str, field: str) -> MetaOut:
        await self.require(user_id, session_id, field=field)
        found, value = await self.repo.get_meta(session_id, field)
        if not found:
            raise ApiError(404, "field_not_found", f"session {session_id!r} has no metadata field {field!r}")
        return MetaOut(field=field, value=value)

    async def delete_meta(self, user_id: str, session_id: str, field: str) -> None:
        await self.require(user_id, session_id, field=field)
        if not await self.repo.delete_meta(session_id, field):
            raise ApiError(404, "field_not_found", f"session {session_id!r} has no metadata field {field!r}")
        await publish_session_event(self.pubsub, session_id, "meta.changed", {"field": field, "deleted": True})

    # -- files -----------------------------------------------------------------

    async def _key_for(self, session_id: str, path: str) -> str:
        """The path's own key, unless unsafe or clashing with another file's folders (then a generated one)."""
        if not paths.is_safe_path(path):
            return paths.generated_key(session_id, path)
        clashes = await self.repo.any_file(session_id, paths.ancestors(path))
        clashes = clashes or bool(await self.repo.file_paths(session_id, path + "/"))
        return paths.generated_key(session_id, path) if clashes else paths.object_key(session_id, path)

    async def upload(self, session_id: str, path: str, body: SniffedBody) -> FileOut:
        """Object first, record second; the caller has checked ownership before reading the body."""
        previous = await self.repo.get_file(session_id, path)
        key = await self._key_for(session_id, path)
        try:
            info = await store_upload(self.storage, key, body, content_type=body.content_type,
                                      content_disposition=paths.attachment_disposition(path))
        except StorageError as exc:
            log.warning("upload refused by the store", extra={"key": key, "error": str(exc)})
            raise ApiError(409, "file_not_stored",
                           f"the store could not keep {path!r} (a file and a folder cannot share a name on "
                           "every store); choose another path") from None
        record = FileRecord(path=path, key=key, size=info.size, content_type=body.content_type,
                            etag=info.etag, uploaded_at=datetime.now(UTC))
        await self.repo.put_file(session_id, record)
        if previous is not None and previous.key != key:
            await self.storage.delete(previous.key)
        await publish_session_event(self.pubsub, session_id, "file.added",
                                    {"path": path, "size": record.size, "content_type": record.content_type})
        return await self._file_out(record)

    async def _file_out(self, record: FileRecord) -> FileOut:
        try:
            url: str | None = await self.storage.signed_url(record.key, "GET", self.url_lifetime)
            expires_at: datetime | None = datetime.now(UTC) + self.url_lifetime
        except SigningUnsupported as exc:
            log.warning("cannot sign a download URL", extra={"key": record.key, "error": str(exc)})
            url, expires_at = None, None
        return FileOut(path=record.path, size=record.size, content_type=record.content_type, etag=record.etag,
                       uploaded_at=record.uploaded_at, url=url, url_expires_at=expires_at)

    async def files(self, user_id: str, session_id: str) -> FileList:
        await self.require(user_id, session_id)
        records = await self.repo.files(session_id)
        return FileList(items=[await self._file_out(record) for record in records])

    async def _record(self, session_id: str, path: str) -> FileRecord:
        record = await self.repo.get_file(session_id, path)
        if record is None:
            raise ApiError(404, "file_not_found", f"session {session_id!r} has no file {path!r}")
        return record

    async def open_file(self, user_id: str, session_id: str, path: str) -> tuple[FileRecord, ObjectStream]:
        await self.require(user_id, session_id)
        record = await self._record(session_id, path)
        try:
            return record, await self.storage.get(record.key)
        except ObjectNotFound:
            log.error("file record without its object", extra={"key": record.key})
            raise ApiError(404, "file_not_found", f"session {session_id!r} has no file {path!r}") from None

    async def delete_file(self, user_id: str, session_id: str, path: str) -> None:
        await self.require(user_id, session_id)
        record = await self._record(session_id, path)
        await self.repo.delete_file(session_id, path)  # the record first: it never outlives its object
        await self.storage.delete(record.key)
        await publish_session_event(self.pubsub, session_id, "file.removed", {"path": path})
