"""Samples and last levels in an embedded SQLite file, so windows and trends survive restarts.

One row per metric reading: (time, metric, value, source). WAL mode and a busy timeout let a
`--watch` process and a one-off `hashigo check` share the file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

_SCHEMA = """
CREATE TABLE IF NOT EXISTS samples (at REAL NOT NULL, metric TEXT NOT NULL, value REAL NOT NULL, source TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS samples_metric_at ON samples (metric, at);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL, at REAL NOT NULL);
"""


class History:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, timeout=10, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def __enter__(self) -> History:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def record(self, at: float, readings: Iterable[tuple[str, float, str]]) -> int:
        """Store (metric, value, source) readings taken at `at` (seconds since the epoch)."""
        rows = [(at, metric, float(value), source) for metric, value, source in readings]
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT INTO samples (at, metric, value, source) VALUES (?, ?, ?, ?)", rows)
        return len(rows)

    def series(self, metric: str, since: float, until: float | None = None,
               source: str | None = None) -> list[tuple[float, float]]:
        """(time, value) of one metric, oldest first."""
        sql = "SELECT at, value FROM samples WHERE metric = ? AND at >= ?"
        args: list[object] = [metric, since]
        if until is not None:
            sql += " AND at <= ?"
            args.append(until)
        if source is not None:
            sql += " AND source = ?"
            args.append(source)
        return [(float(at), float(v)) for at, v in self._db.execute(sql + " ORDER BY at", args)]

    def recent(self, metric: str, count: int, until: float, source: str | None = None) -> list[tuple[float, float]]:
        """The last `count` samples of a metric up to `until`, oldest first."""
        sql = "SELECT at, value FROM samples WHERE metric = ? AND at <= ?"
        args: list[object] = [metric, until]
        if source is not None:
            sql += " AND source = ?"
            args.append(source)
        rows = self._db.execute(sql + " ORDER BY at DESC LIMIT ?", [*args, count]).fetchall()
        return [(float(at), float(v)) for at, v in reversed(rows)]

    def get_state(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_state(self, values: dict[str, str], at: float) -> None:
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT INTO state (key, value, at) VALUES (?, ?, ?) "
                                 "ON CONFLICT (key) DO UPDATE SET value = excluded.value, at = excluded.at",
                                 [(k, v, at) for k, v in values.items()])

    def prune(self, keep_days: float, now: float) -> int:
        with self._db:
            cursor = self._db.execute("DELETE FROM samples WHERE at < ?", (now - keep_days * 86400,))
        return cursor.rowcount

    def count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM samples").fetchone()[0])
