"""The resume journal: a small SQLite file next to the user, never a table in either database.

Why a local file: the source must not be modified, and a table on the target would show up in
the schema comparison and in the app's database. Units are idempotent (a unit truncates or
deletes its key range in the same transaction that loads it), so "loaded but not yet marked
done" after a kill -9 only means the unit is loaded again.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hashigo.ops.migrate.db.endpoints import Endpoint
from hashigo.ops.migrate.db.errors import BadInput

_SCHEMA = """
CREATE TABLE IF NOT EXISTS run (id INTEGER PRIMARY KEY CHECK (id = 1), source TEXT NOT NULL,
                                target TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS steps (name TEXT PRIMARY KEY, done_at TEXT NOT NULL, detail TEXT);
CREATE TABLE IF NOT EXISTS units (id TEXT PRIMARY KEY, table_key TEXT NOT NULL, lo TEXT, hi TEXT,
                                  state TEXT NOT NULL, rows INTEGER, bytes INTEGER, updated_at TEXT);
CREATE TABLE IF NOT EXISTS saved (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class UnitRecord:
    id: str
    table_key: str
    lo: int | None
    hi: int | None
    state: str  # pending, started, done
    rows: int
    bytes: int


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def default_journal_path(source: Endpoint, target: Endpoint, folder: Path) -> Path:
    digest = hashlib.sha256(f"{source.display}\n{target.display}".encode()).hexdigest()[:12]
    return folder / f"db-{digest}.sqlite3"


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    @classmethod
    def open(cls, path: Path, source: Endpoint, target: Endpoint) -> Journal:
        journal = cls(path)
        row = journal._db.execute("SELECT source, target FROM run").fetchone()
        if row is None:
            journal._db.execute("INSERT INTO run VALUES (1, ?, ?, ?)", (source.display, target.display, _now()))
        elif tuple(row) != (source.display, target.display):
            journal.close()
            raise BadInput(f"journal {path} belongs to a migration from {row[0]} to {row[1]}, not from "
                           f"{source.display} to {target.display}; pass another --journal or delete that file")
        return journal

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # steps ---------------------------------------------------------------
    def step_done(self, name: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM steps WHERE name = ?", (name,)).fetchone() is not None

    def mark_step(self, name: str, detail: str = "") -> None:
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO steps VALUES (?, ?, ?)", (name, _now(), detail))

    def steps_named(self, prefix: str) -> list[str]:
        with self._lock:
            rows = self._db.execute("SELECT name FROM steps WHERE substr(name, 1, ?) = ?", (len(prefix), prefix))
            return [r[0] for r in rows.fetchall()]

    def clear_step(self, name: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM steps WHERE name = ?", (name,))

    def is_fresh(self) -> bool:
        with self._lock:
            return bool(self._db.execute("SELECT count(*) FROM steps").fetchone()[0] == 0)

    # units ---------------------------------------------------------------
    def plan_units(self, units: list[tuple[str, str, int | None, int | None]]) -> None:
        """Record the copy plan once; a resumed run keeps the chunk bounds it started with."""
        with self._tx() as db:
            for unit_id, table_key, lo, hi in units:
                db.execute("INSERT OR IGNORE INTO units VALUES (?, ?, ?, ?, 'pending', 0, 0, ?)",
                           (unit_id, table_key, _opt(lo), _opt(hi), _now()))

    def units(self) -> list[UnitRecord]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, table_key, lo, hi, state, rows, bytes FROM units ORDER BY id").fetchall()
        return [UnitRecord(r[0], r[1], _int(r[2]), _int(r[3]), r[4], r[5] or 0, r[6] or 0) for r in rows]

    def set_unit(self, unit_id: str, state: str, rows: int = 0, size: int = 0) -> None:
        with self._tx() as db:
            db.execute("UPDATE units SET state = ?, rows = ?, bytes = ?, updated_at = ? WHERE id = ?",
                       (state, rows, size, _now(), unit_id))

    def reset_units(self, unit_ids: list[str]) -> None:
        with self._tx() as db:
            db.executemany("UPDATE units SET state = 'pending' WHERE id = ?", [(u,) for u in unit_ids])

    # saved state (cutover, dropped constraints) --------------------------
    def save(self, name: str, value: Any) -> None:
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO saved VALUES (?, ?)", (name, json.dumps(value)))

    def load(self, name: str) -> Any:
        with self._lock:
            row = self._db.execute("SELECT value FROM saved WHERE name = ?", (name,)).fetchone()
        return None if row is None else json.loads(row[0])

    def forget(self, name: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM saved WHERE name = ?", (name,))


def _opt(value: int | None) -> str | None:
    return None if value is None else str(value)


def _int(value: str | None) -> int | None:
    return None if value is None else int(value)
