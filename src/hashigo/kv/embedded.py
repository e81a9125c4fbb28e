"""The embedded key-value store: one SQLite file, shared safely by several worker processes.

Every SQLite call runs on one dedicated thread per store, so the event loop never blocks and
the connection is never used from two threads. Writes that read before they write (``incr``)
hold ``BEGIN IMMEDIATE``, which is what makes them atomic across processes. Expiry uses the
wall clock, because the file outlives the process and is shared between processes.
"""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar
from urllib.parse import unquote, urlsplit

from hashigo.errors import BackendUnavailable, ConfigError
from hashigo.kv.namespaced import (
    INT64_MAX,
    INT64_MIN,
    KeySpace,
    check_amount,
    check_key,
    check_ttl,
    encode_value,
)
from hashigo.kv.protocol import KeyValueError, KeyValueStore

T = TypeVar("T")

BACKEND = "kv-sqlite"
SCHEMA_VERSION = 1
# SQLite limits bound parameters per statement; stay well below the smallest default (999).
_CHUNK = 500
_SCAN_BATCH = 256
_PURGE_BATCH = 1000
_INTEGER = re.compile(rb"-?(?:0|[1-9][0-9]{0,18})")
_LIVE = "(expires_at IS NULL OR expires_at > ?)"


def path_from_url(url: str) -> Path:
    """``sqlite:///abs/path/kv.sqlite3`` (or ``sqlite:////abs/…``) → ``/abs/path/kv.sqlite3``."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "sqlite":
        raise ConfigError(f"embedded key-value URL must start with sqlite:///, got {parts.scheme!r}")
    if parts.netloc or not parts.path.startswith("/") or parts.path.endswith("/"):
        raise ConfigError(
            f"embedded key-value URL {url!r} must name an absolute file: sqlite:///abs/path/kv.sqlite3"
        )
    # SQLAlchemy spells an absolute path with four slashes; accept that spelling too.
    return Path("/" + unquote(parts.path).lstrip("/"))


class _SqliteFile:
    """One connection and the one thread allowed to use it; shared by every namespace view."""

    def __init__(self, path: Path, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        # Our own guard sits just past SQLite's busy timeout, so SQLite normally gives up
        # first and nothing keeps running after the caller has been told "unavailable".
        self.deadline = timeout + min(0.5, timeout * 0.25)
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None
        self._next_purge = 0.0
        self._lock = threading.Lock()
        self._pid = os.getpid()

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock:
            if self._pid != os.getpid():
                # Forked (a pre-loading server): the thread did not come along and the parent's
                # connection must not be touched here, so start afresh without closing it.
                self._executor, self._conn, self._pid = None, None, os.getpid()
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hashigo-kv-sqlite")
            executor = self._executor
        future = asyncio.get_running_loop().run_in_executor(executor, self._call, work)
        try:
            return await asyncio.wait_for(future, self.deadline)
        except TimeoutError:
            raise BackendUnavailable(
                BACKEND, f"{self.path}: no answer within {self.timeout:g}s (database locked or disk stalled)"
            ) from None

    def _call(self, work: Callable[[sqlite3.Connection], T]) -> T:
        try:
            conn = self._conn if self._conn is not None else self._connect()
            try:
                return work(conn)
            finally:
                if conn.in_transaction:
                    conn.rollback()
        except sqlite3.Error as exc:
            detail = str(exc)
            if "locked" in detail or "busy" in detail:
                detail = f"database locked for more than {self.timeout:g}s ({exc})"
            raise BackendUnavailable(BACKEND, f"{self.path}: {detail}") from None
        except OSError as exc:
            raise BackendUnavailable(BACKEND, f"{self.path}: {exc}") from None

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise sqlite3.OperationalError(f"could not switch to WAL journal (got {mode})")
            # WAL + NORMAL survives a process crash; only an OS crash can lose the last commits.
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS hashigo_kv ("
                " key TEXT PRIMARY KEY NOT NULL,"
                " value BLOB NOT NULL,"
                " expires_at REAL)"
            )
            conn.execute(
                "CREATE INDEX IF NOT EXISTS hashigo_kv_expires ON hashigo_kv (expires_at)"
                " WHERE expires_at IS NOT NULL"
            )
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            elif version > SCHEMA_VERSION:
                raise sqlite3.DatabaseError(
                    f"schema version {version} is newer than this hashigo understands ({SCHEMA_VERSION})"
                )
            conn.execute("COMMIT")
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return conn

    def purge_due(self) -> bool:
        """Expired rows are invisible already; deleting them now and then keeps the file small."""
        now = time.monotonic()
        if now < self._next_purge:
            return False
        self._next_purge = now + 10.0
        return True

    async def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is None:
            return

        def shut(_: sqlite3.Connection | None = None) -> None:
            conn, self._conn = self._conn, None
            if conn is not None:
                conn.close()

        try:
            await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(executor, shut), self.deadline)
        except TimeoutError:
            pass  # the thread is stuck in a busy wait; it exits once SQLite gives up
        finally:
            executor.shutdown(wait=False)


def _purge(conn: sqlite3.Connection, now: float) -> None:
    conn.execute(
        "DELETE FROM hashigo_kv WHERE rowid IN (SELECT rowid FROM hashigo_kv"
        " WHERE expires_at IS NOT NULL AND expires_at <= ? LIMIT ?)",
        (now, _PURGE_BATCH),
    )


def _parse_counter(value: bytes) -> int:
    if not _INTEGER.fullmatch(value):
        raise KeyValueError("value is not an integer; incr works only on integer values")
    number = int(value)
    if not INT64_MIN <= number <= INT64_MAX:
        raise KeyValueError("value is not an integer in the signed 64-bit range")
    return number


class EmbeddedKeyValueStore(KeyValueStore):
    """``sqlite:///abs/path/kv.sqlite3``. Views from :meth:`namespace` share the file and thread;
    only the store returned by ``open_kv`` closes them (closing a view does nothing)."""

    def __init__(self, path: Path, *, timeout: float, _file: _SqliteFile | None = None,
                 _space: KeySpace | None = None) -> None:
        self._file = _file if _file is not None else _SqliteFile(path, timeout)
        self._space = _space if _space is not None else KeySpace()
        self._owner = _file is None

    @classmethod
    def from_url(cls, url: str, *, timeout: float) -> EmbeddedKeyValueStore:
        return cls(path_from_url(url), timeout=timeout)

    @property
    def url(self) -> str:
        return f"sqlite://{self._file.path}"

    def namespace(self, name: str) -> KeyValueStore:
        return EmbeddedKeyValueStore(self._file.path, timeout=self._file.timeout, _file=self._file,
                                     _space=self._space.child(name))

    async def get(self, key: str) -> bytes | None:
        stored = self._space.qualify(key)

        def work(conn: sqlite3.Connection) -> bytes | None:
            row = conn.execute(f"SELECT value FROM hashigo_kv WHERE key = ? AND {_LIVE}",
                               (stored, time.time())).fetchone()
            return None if row is None else bytes(row[0])

        return await self._file.run(work)

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        if isinstance(keys, str):
            raise KeyValueError("get_many takes a sequence of keys, not one str")
        stored = [self._space.qualify(key) for key in keys]
        if not stored:
            return []

        def work(conn: sqlite3.Connection) -> list[bytes | None]:
            now = time.time()
            found: dict[str, bytes] = {}
            # One read transaction, so the answer is a single snapshot even across chunks.
            conn.execute("BEGIN")
            unique = list(dict.fromkeys(stored))
            for start in range(0, len(unique), _CHUNK):
                chunk = unique[start:start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                for key, value in conn.execute(
                    f"SELECT key, value FROM hashigo_kv WHERE key IN ({marks}) AND {_LIVE}", (*chunk, now)
                ):
                    found[key] = bytes(value)
            conn.execute("COMMIT")
            return [found.get(key) for key in stored]

        return await self._file.run(work)

    async def set(self, key: str, value: bytes | str, *, ttl: float | None = None,
                  if_absent: bool = False) -> bool:
        stored = self._space.qualify(key)
        data = encode_value(value)
        seconds = None if ttl is None else check_ttl(ttl)
        purge = self._file.purge_due()

        def work(conn: sqlite3.Connection) -> bool:
            now = time.time()
            expires_at = None if seconds is None else now + seconds
            conn.execute("BEGIN IMMEDIATE")
            if purge:
                _purge(conn, now)
            sql = ("INSERT INTO hashigo_kv (key, value, expires_at) VALUES (?, ?, ?) ON CONFLICT (key)"
                   " DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at")
            params: tuple[object, ...] = (stored, data, expires_at)
            if if_absent:
                # Overwrite only a row that has already expired; a live one makes this a no-op.
                sql += " WHERE hashigo_kv.expires_at IS NOT NULL AND hashigo_kv.expires_at <= ?"
                params = (*params, now)
            written = conn.execute(sql, params).rowcount == 1
            conn.execute("COMMIT")
            return written

        return await self._file.run(work)

    async def delete(self, *keys: str) -> int:
        stored = list(dict.fromkeys(self._space.qualify(key) for key in keys))
        if not stored:
            return 0

        def work(conn: sqlite3.Connection) -> int:
            now = time.time()
            existed = 0
            conn.execute("BEGIN IMMEDIATE")
            for start in range(0, len(stored), _CHUNK):
                chunk = stored[start:start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = conn.execute(f"DELETE FROM hashigo_kv WHERE key IN ({marks}) RETURNING expires_at",
                                    chunk).fetchall()
                existed += sum(1 for (expires_at,) in rows if expires_at is None or expires_at > now)
            conn.execute("COMMIT")
            return existed

        return await self._file.run(work)

    async def expire(self, key: str, ttl: float) -> bool:
        stored = self._space.qualify(key)
        seconds = check_ttl(ttl)

        def work(conn: sqlite3.Connection) -> bool:
            now = time.time()
            cursor = conn.execute(f"UPDATE hashigo_kv SET expires_at = ? WHERE key = ? AND {_LIVE}",
                                  (now + seconds, stored, now))
            return cursor.rowcount == 1

        return await self._file.run(work)

    async def ttl(self, key: str) -> float | None:
        stored = self._space.qualify(key)

        def work(conn: sqlite3.Connection) -> float | None:
            now = time.time()
            row = conn.execute(f"SELECT expires_at FROM hashigo_kv WHERE key = ? AND {_LIVE}",
                               (stored, now)).fetchone()
            if row is None:
                return None
            if row[0] is None:
                return float("inf")
            return max(0.0, float(row[0]) - now)

        return await self._file.run(work)

    async def incr(self, key: str, amount: int = 1, *, ttl: float | None = None) -> int:
        stored = self._space.qualify(key)
        step = check_amount(amount)
        seconds = None if ttl is None else check_ttl(ttl)
        purge = self._file.purge_due()

        def work(conn: sqlite3.Connection) -> int:
            # IMMEDIATE takes the write lock before the read, so no other process can
            # slip an increment between our SELECT and our write.
            conn.execute("BEGIN IMMEDIATE")
            now = time.time()
            if purge:
                _purge(conn, now)
            row = conn.execute(f"SELECT value, expires_at FROM hashigo_kv WHERE key = ? AND {_LIVE}",
                               (stored, now)).fetchone()
            if row is None:
                total = step
                expires_at = None if seconds is None else now + seconds
            else:
                total = _parse_counter(bytes(row[0])) + step
                expires_at = row[1]
                if not INT64_MIN <= total <= INT64_MAX:
                    raise KeyValueError("increment would overflow the signed 64-bit range")
            conn.execute(
                "INSERT INTO hashigo_kv (key, value, expires_at) VALUES (?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
                (stored, str(total).encode("ascii"), expires_at),
            )
            conn.execute("COMMIT")
            return total

        return await self._file.run(work)

    async def scan(self, prefix: str = "") -> AsyncIterator[str]:
        check_key(prefix)
        start = self._space.qualify(prefix)
        after: str | None = None
        while True:
            def work(conn: sqlite3.Connection, after: str | None = after) -> list[str]:
                if after is None:
                    sql = f"SELECT key FROM hashigo_kv WHERE key >= ? AND {_LIVE} ORDER BY key LIMIT ?"
                    params: tuple[object, ...] = (start, time.time(), _SCAN_BATCH)
                else:
                    sql = f"SELECT key FROM hashigo_kv WHERE key > ? AND {_LIVE} ORDER BY key LIMIT ?"
                    params = (after, time.time(), _SCAN_BATCH)
                return [str(row[0]) for row in conn.execute(sql, params)]

            batch = await self._file.run(work)
            for stored in batch:
                # Keys sort by code point, so every key with the prefix sits in one run.
                if not stored.startswith(start):
                    return
                yield self._space.strip(stored)
            if len(batch) < _SCAN_BATCH:
                return
            after = batch[-1]

    async def ping(self) -> str:
        def work(conn: sqlite3.Connection) -> str:
            version = conn.execute("SELECT sqlite_version()").fetchone()[0]
            return f"sqlite {version}"

        return await self._file.run(work)

    async def close(self) -> None:
        if self._owner:
            await self._file.close()
