"""The run's memory: which objects are copied and verified, and which parts of which uploads exist.

One SQLite file (WAL, so a ``kill -9`` leaves the last committed state intact). Invariants:
an object is recorded ``done`` only after its destination copy was verified, together with the
source identity (size, ETag, modification time as listed) it was copied from; a part is recorded
only after the store acknowledged it. Commits are batched: a crash forgets the last few records,
which only means copying those objects or parts again, never believing something false.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from hashigo.errors import ConfigError
from hashigo.storage import ObjectInfo

SCHEMA_VERSION = "1"
_COMMIT_EVERY = 0.25
_COMMIT_AFTER_CHANGES = 512

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS objects (
    key TEXT PRIMARY KEY, state TEXT NOT NULL, size INTEGER NOT NULL, etag TEXT, mtime TEXT NOT NULL,
    sha256 TEXT, verified_by TEXT, dst_etag TEXT, error TEXT, attempts INTEGER NOT NULL, updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS uploads (
    key TEXT PRIMARY KEY, upload_id TEXT NOT NULL, part_size INTEGER NOT NULL,
    size INTEGER NOT NULL, etag TEXT, mtime TEXT NOT NULL, started REAL NOT NULL);
CREATE TABLE IF NOT EXISTS parts (
    key TEXT NOT NULL, upload_id TEXT NOT NULL, number INTEGER NOT NULL, size INTEGER NOT NULL,
    md5 TEXT NOT NULL, etag TEXT, PRIMARY KEY (key, upload_id, number));
"""


def normalise_etag(etag: str | None) -> str | None:
    if not etag:
        return None
    value = etag.strip()
    if value.startswith("W/"):
        value = value[2:]
    return value.strip('"') or None


@dataclass(frozen=True, slots=True)
class SourceIdentity:
    """What says a source object is still the one we copied: any change means copying it again."""

    size: int
    etag: str | None
    mtime: str

    @classmethod
    def of(cls, info: ObjectInfo) -> SourceIdentity:
        return cls(info.size, normalise_etag(info.etag), info.last_modified.isoformat())


@dataclass(frozen=True, slots=True)
class PartRecord:
    number: int
    size: int
    md5: str
    etag: str | None


@dataclass(slots=True)
class UploadRecord:
    upload_id: str
    part_size: int
    identity: SourceIdentity
    parts: dict[int, PartRecord] = field(default_factory=dict)


class Journal:
    def __init__(self, path: Path, source: str, destination: str) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise ConfigError(f"journal {path}: cannot open it as SQLite ({exc}); pass another --journal") from None
        except OSError as exc:
            raise ConfigError(f"journal {path}: {exc.strerror}; pass a writable --journal path") from None
        self._claim(source, destination)
        self.done: dict[str, SourceIdentity] = {
            key: SourceIdentity(size, etag, mtime)
            for key, size, etag, mtime in self._db.execute(
                "SELECT key, size, etag, mtime FROM objects WHERE state = 'done'")
        }
        self._changes = 0
        self._last_commit = time.monotonic()
        self._objects: list[tuple[object, ...]] = []
        self._parts: list[tuple[object, ...]] = []
        self._db.execute("BEGIN")

    def _claim(self, source: str, destination: str) -> None:
        meta = dict(self._db.execute("SELECT name, value FROM meta").fetchall())
        if not meta:
            with self._db:
                self._db.executemany("INSERT INTO meta VALUES (?, ?)", [
                    ("schema", SCHEMA_VERSION), ("source", source), ("destination", destination),
                    ("created", str(time.time()))])
            return
        if meta.get("schema") != SCHEMA_VERSION:
            raise ConfigError(f"journal {self.path} has schema {meta.get('schema')!r}, this hashigo writes "
                              f"{SCHEMA_VERSION!r}; pass a new --journal path")
        if (meta.get("source"), meta.get("destination")) != (source, destination):
            raise ConfigError(f"journal {self.path} belongs to {meta.get('source')} → {meta.get('destination')}, "
                              f"not {source} → {destination}; pass another --journal (or omit it)")

    # -- objects ------------------------------------------------------------------

    def is_done(self, key: str, identity: SourceIdentity) -> bool:
        return self.done.get(key) == identity

    def record_done(self, key: str, identity: SourceIdentity, sha256: str, verified_by: str,
                    dst_etag: str | None, attempts: int) -> None:
        # Held back and written many at a time (executemany at the next commit): one statement per
        # object cost more CPU than the rest of a small object's bookkeeping.
        self._objects.append((key, "done", identity.size, identity.etag, identity.mtime, sha256, verified_by,
                              dst_etag, None, attempts, time.time()))
        self.done[key] = identity
        self._changed()

    def record_failed(self, key: str, identity: SourceIdentity, reason: str, attempts: int) -> None:
        self._objects.append((key, "failed", identity.size, identity.etag, identity.mtime, None, None, None, reason,
                              attempts, time.time()))
        self.done.pop(key, None)
        self._changed()

    def _write_held(self) -> None:
        """Everything held back goes to the database (still inside the open transaction), in order."""
        if self._objects:
            self._db.executemany("INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                 self._objects)
            self._objects.clear()
        if self._parts:
            self._db.executemany("INSERT OR REPLACE INTO parts VALUES (?, ?, ?, ?, ?, ?)", self._parts)
            self._parts.clear()

    def sha256_of(self, key: str, identity: SourceIdentity) -> str | None:
        """The recorded SHA-256 of the source object, if it is still the one that was copied."""
        self._write_held()
        row = self._db.execute("SELECT size, etag, mtime, sha256 FROM objects WHERE key = ? AND state = 'done'",
                               (key,)).fetchone()
        if row is None or SourceIdentity(row[0], row[1], row[2]) != identity:
            return None
        return str(row[3])

    # -- multipart uploads -----------------------------------------------------

    def upload(self, key: str) -> UploadRecord | None:
        self._write_held()
        row = self._db.execute("SELECT upload_id, part_size, size, etag, mtime FROM uploads WHERE key = ?",
                               (key,)).fetchone()
        if row is None:
            return None
        record = UploadRecord(row[0], row[1], SourceIdentity(row[2], row[3], row[4]))
        for number, size, md5, etag in self._db.execute(
                "SELECT number, size, md5, etag FROM parts WHERE key = ? AND upload_id = ?", (key, row[0])):
            record.parts[number] = PartRecord(number, size, md5, etag)
        return record

    def start_upload(self, key: str, upload_id: str, part_size: int, identity: SourceIdentity) -> None:
        self.drop_upload(key)
        self._db.execute("INSERT INTO uploads VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (key, upload_id, part_size, identity.size, identity.etag, identity.mtime, time.time()))
        self.commit()

    def record_part(self, key: str, upload_id: str, part: PartRecord) -> None:
        self._parts.append((key, upload_id, part.number, part.size, part.md5, part.etag))
        self._changed()

    def drop_upload(self, key: str) -> None:
        self._write_held()
        self._db.execute("DELETE FROM parts WHERE key = ?", (key,))
        self._db.execute("DELETE FROM uploads WHERE key = ?", (key,))
        self._changed()

    def open_uploads(self) -> list[tuple[str, str]]:
        self._write_held()
        return [(str(k), str(u)) for k, u in self._db.execute("SELECT key, upload_id FROM uploads")]

    # -- meta and commits ------------------------------------------------------------

    def get_meta(self, name: str) -> str | None:
        self._write_held()
        row = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, name: str, value: str) -> None:
        self._write_held()
        self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (name, value))
        self._changed()

    def counts(self) -> dict[str, int]:
        self._write_held()
        return {str(state): int(n) for state, n in
                self._db.execute("SELECT state, COUNT(*) FROM objects GROUP BY state")}

    def _changed(self) -> None:
        self._changes += 1
        if self._changes >= _COMMIT_AFTER_CHANGES or time.monotonic() - self._last_commit >= _COMMIT_EVERY:
            self.commit()

    def commit_if_due(self) -> None:
        """Called on a timer, so that records made just before a long quiet spell are not held back."""
        if self._changes and time.monotonic() - self._last_commit >= _COMMIT_EVERY:
            self.commit()

    def commit(self) -> None:
        self._write_held()
        self._db.execute("COMMIT")
        self._db.execute("BEGIN")
        self._changes = 0
        self._last_commit = time.monotonic()

    def close(self) -> None:
        try:
            self._write_held()
            self._db.execute("COMMIT")
        finally:
            self._db.close()
