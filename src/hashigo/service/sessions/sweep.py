"""`hashigo sessions sweep`: lifecycle and clean-up for stores without native lifecycle rules.

Removes, under ``sessions/`` in the object store:

1. files older than the lifecycle (``SESSION_FILES_LIFECYCLE_DAYS``, default 7): record first,
   then object, the same order as a delete through the API;
2. orphaned objects — no record points at them (a crash between the upload and the record,
   or an overwrite that died before removing the old object);
3. the objects and leftover keys of sessions whose owner key has expired (SESSION_TTL);
4. where the store has them, the partial files of uploads a killed process never finished
   (the local store's staging files; S3 needs an AbortIncompleteMultipartUpload lifecycle rule).

Orphans and expired sessions' objects are removed only when older than ``grace`` (default one
hour): an upload in flight has its object written before its record, and must not lose it. The
records of a session are read *after* its objects are listed, so an object whose record exists
is never taken for an orphan.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from rich.console import Console
from rich.table import Table

from hashigo.kv import KeyValueStore, open_kv
from hashigo.service.sessions.repository import (
    FileRecord,
    file_key,
    file_prefix,
    is_session_id,
    owner_key,
    session_prefix,
)
from hashigo.settings import Settings
from hashigo.storage import ObjectInfo, ObjectStore, StorageError, open_object_store

DEFAULT_GRACE = timedelta(hours=1)
ROOT = "sessions/"


@runtime_checkable
class PartialUploadCleaner(Protocol):
    """A store that keeps unfinished uploads where ``list`` cannot see them (the local folder)."""

    async def remove_partial_uploads(self, prefix: str, older_than: datetime, *,
                                     dry_run: bool = False) -> list[str]: ...


@dataclass
class SweepReport:
    dry_run: bool
    lifecycle_days: float
    grace_seconds: float
    sessions_seen: int = 0
    expired_files: int = 0
    orphaned_objects: int = 0
    expired_sessions: int = 0
    expired_session_objects: int = 0
    expired_session_keys: int = 0
    partial_uploads: int = 0
    bytes_freed: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


class Sweeper:
    def __init__(self, kv: KeyValueStore, storage: ObjectStore, *, lifecycle: timedelta,
                 grace: timedelta = DEFAULT_GRACE, dry_run: bool = False, now: datetime | None = None) -> None:
        self.kv = kv
        self.storage = storage
        self.now = now or datetime.now(UTC)
        self.file_cutoff = self.now - lifecycle
        self.grace_cutoff = self.now - grace
        self.dry_run = dry_run
        self.report = SweepReport(dry_run, lifecycle.total_seconds() / 86_400, grace.total_seconds())

    async def run(self) -> SweepReport:
        in_kv = await self._sessions_in_kv()
        objects = await self._objects_by_session()
        for session_id in sorted(in_kv | set(objects)):
            self.report.sessions_seen += 1
            if await self.kv.get(owner_key(session_id)) is None:
                await self._expired_session(session_id, objects.get(session_id, []))
            else:
                await self._live_session(session_id, objects.get(session_id, []))
        if isinstance(self.storage, PartialUploadCleaner):
            partial = await self.storage.remove_partial_uploads(ROOT, self.grace_cutoff, dry_run=self.dry_run)
            self.report.partial_uploads = len(partial)
        return self.report

    async def _sessions_in_kv(self) -> set[str]:
        found: set[str] = set()
        async for key in self.kv.scan("session:"):
            session_id = key.split(":", 2)[1] if key.count(":") >= 2 else ""
            if is_session_id(session_id):
                found.add(session_id)
        return found

    async def _objects_by_session(self) -> dict[str, list[ObjectInfo]]:
        grouped: dict[str, list[ObjectInfo]] = defaultdict(list)
        async for info in self.storage.list(ROOT):
            parts = info.key.split("/", 2)
            if len(parts) == 3 and is_session_id(parts[1]):
                grouped[parts[1]].append(info)
        return grouped

    async def _records(self, session_id: str) -> list[FileRecord]:
        prefix = file_prefix(session_id)
        paths = [key[len(prefix):] async for key in self.kv.scan(prefix)]
        if not paths:
            return []
        raws = await self.kv.get_many([file_key(session_id, path) for path in paths])
        records = []
        for path, raw in zip(paths, raws, strict=True):
            if raw is None:
                continue
            try:
                records.append(FileRecord.from_json(raw))
            except (ValueError, KeyError, TypeError):
                self.report.errors.append(f"unreadable file record {file_key(session_id, path)!r}; left as is")
        return records

    async def _remove_record_then_object(self, session_id: str, record: FileRecord) -> bool:
        if self.dry_run:
            return True
        await self.kv.delete(file_key(session_id, record.path))
        return await self._delete_object(record.key)

    async def _delete_object(self, key: str) -> bool:
        if self.dry_run:
            return True
        try:
            await self.storage.delete(key)
        except StorageError as exc:
            self.report.errors.append(f"could not delete {key!r}: {exc}")
            return False
        return True

    async def _live_session(self, session_id: str, objects: list[ObjectInfo]) -> None:
        kept: set[str] = set()
        removed: set[str] = set()
        for record in await self._records(session_id):
            if record.uploaded_at < self.file_cutoff:
                if await self._remove_record_then_object(session_id, record):
                    self.report.expired_files += 1
                    self.report.bytes_freed += record.size
                    removed.add(record.key)
            else:
                kept.add(record.key)
        for info in self._settled(objects, skip=kept | removed):
            if await self._delete_object(info.key):
                self.report.orphaned_objects += 1
                self.report.bytes_freed += info.size

    async def _expired_session(self, session_id: str, objects: list[ObjectInfo]) -> None:
        records = await self._records(session_id)
        for record in records:  # records first: none may outlive its object
            if not self.dry_run:
                await self.kv.delete(file_key(session_id, record.path))
        removed_objects = 0
        for info in self._settled(objects, skip=set()):
            if await self._delete_object(info.key):
                removed_objects += 1
                self.report.bytes_freed += info.size
        keys = [key async for key in self.kv.scan(session_prefix(session_id))]
        if not self.dry_run and keys:
            await self.kv.delete(*keys)
        if removed_objects or records or keys:
            self.report.expired_sessions += 1
            self.report.expired_session_objects += removed_objects
            self.report.expired_session_keys += len(keys) + (0 if self.dry_run else len(records))

    def _settled(self, objects: Iterable[ObjectInfo], *, skip: set[str]) -> list[ObjectInfo]:
        """Objects not in ``skip`` and older than the grace period (not an upload in flight)."""
        return [info for info in objects if info.key not in skip and _aware(info.last_modified) < self.grace_cutoff]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def sweep(settings: Settings, *, lifecycle_days: float | None = None, grace: timedelta = DEFAULT_GRACE,
                dry_run: bool = False) -> SweepReport:
    """Open the stores ``settings`` name, sweep ``sessions/``, close them."""
    days = settings.sessions.files_lifecycle_days if lifecycle_days is None else lifecycle_days
    kv, storage = open_kv(settings.kv), open_object_store(settings.storage)
    try:
        return await Sweeper(kv, storage, lifecycle=timedelta(days=days), grace=grace, dry_run=dry_run).run()
    finally:
        await kv.close()
        await storage.close()


def print_report(console: Console, report: SweepReport) -> None:
    verb = "would remove" if report.dry_run else "removed"
    table = Table(title=f"sessions sweep ({'dry run' if report.dry_run else 'done'}): files older than "
                        f"{report.lifecycle_days:g} days, grace {report.grace_seconds:g}s")
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("sessions seen", str(report.sessions_seen))
    table.add_row(f"files past the lifecycle, {verb}", str(report.expired_files))
    table.add_row(f"orphaned objects, {verb}", str(report.orphaned_objects))
    table.add_row(f"expired sessions cleaned ({verb} objects / keys)",
                  f"{report.expired_sessions} ({report.expired_session_objects} / {report.expired_session_keys})")
    table.add_row(f"partial uploads of killed processes, {verb}", str(report.partial_uploads))
    table.add_row(f"bytes {verb.split()[-1]}", str(report.bytes_freed))
    table.add_row("errors", str(len(report.errors)))
    console.print(table)
    for error in report.errors:
        console.print(f"[red]error:[/red] {error}", highlight=False, soft_wrap=True)

