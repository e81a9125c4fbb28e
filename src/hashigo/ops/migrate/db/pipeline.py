"""Copy, post-data and verify as one schedule: each task starts as soon as what it needs is there.

A table's indexes and constraints are built as soon as its last chunk is loaded, and its
rows are hashed then, while other tables are still being copied — so the long single-threaded
tasks (a GIN index, a big primary key) overlap the copy instead of following it. Foreign keys,
triggers and everything not tied to one table wait until every table is loaded. One pool of
``jobs`` workers; ready tasks are taken in the order post-data, copy, hash (hashes fill gaps).
"""

from __future__ import annotations

import heapq
import itertools
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import psycopg

from hashigo.ops.migrate.db.copy import Copier, CopyStats
from hashigo.ops.migrate.db.endpoints import Endpoint, connect
from hashigo.ops.migrate.db.errors import MigrateDbError
from hashigo.ops.migrate.db.journal import Journal
from hashigo.ops.migrate.db.postdata import PostData, PostEntry
from hashigo.ops.migrate.db.progress import Reporter
from hashigo.ops.migrate.db.units import Unit
from hashigo.ops.migrate.db.verify import Hasher, UnitCheck

_EXISTS = re.compile(r"already exists|multiple primary keys")
POST, COPY, HASH, ANALYZE = 0, 1, 2, 3


@dataclass
class PipelineResult:
    copy: CopyStats
    checks: list[UnitCheck] = field(default_factory=list)
    post_entries: int = 0
    post_tolerated: list[str] = field(default_factory=list)
    analyzed: int = 0  # tables given planner statistics, as pg_restore and pg_dump | psql leave none
    seconds: float = 0.0
    timeline: list[tuple[str, float, float]] = field(default_factory=list)  # task, started at, seconds

    def slowest(self, count: int = 5) -> list[str]:
        ranked = sorted(self.timeline, key=lambda t: -t[2])[:count]
        return [f"{name}: {seconds:.1f}s (from {start:.1f}s)" for name, start, seconds in ranked]


# How long an index build takes per byte of table, relative to a b-tree (GIN and GiST are slow
# and single-threaded): the table whose slowest index takes longest is copied first.
INDEX_COST = {"btree": 1.0, "hash": 1.0, "gin": 4.0, "gist": 4.0, "spgist": 3.0, "brin": 0.1}


def copy_order(units: list[Unit], slowest_index: dict[str, str] | None = None) -> list[Unit]:
    """Units in the order that ends the whole schedule soonest: a table's copy, then its slowest index
    build, is one chain; the longest chains start first (largest copy + index cost first)."""
    methods = slowest_index or {}

    def chain(unit: Unit) -> float:
        table = unit.table
        return table.bytes * (1 + INDEX_COST.get(methods.get(table.key, ""), 0.0))

    return sorted(units, key=lambda u: (-chain(u), u.table.key, u.lo is not None, u.lo or 0))


class Pipeline:
    def __init__(self, *, target: Endpoint, journal: Journal, reporter: Reporter, jobs: int, copier: Copier,
                 hasher: Hasher | None, post: PostData | None, tolerate_existing: bool) -> None:
        self.target = target
        self.journal = journal
        self.reporter = reporter
        self.jobs = max(1, jobs)
        self.copier = copier
        self.hasher = hasher
        self.post = post
        self.tolerate_existing = tolerate_existing
        self._cv = threading.Condition()
        self._ready: list[tuple[int, int, int, Any]] = []
        self._seq = itertools.count()
        self._running = 0
        self._error: BaseException | None = None
        self._local = threading.local()
        self._opened: list[psycopg.Connection] = []
        self._timeline: list[tuple[str, float, float]] = []
        self._started = time.monotonic()

    def run(self, all_units: list[Unit], todo: list[Unit], dirty: set[str],
            slowest_index: dict[str, str] | None = None) -> PipelineResult:
        started = self._started = time.monotonic()
        self.result = PipelineResult(CopyStats(units=len(todo)), timeline=self._timeline)
        self._dirty = dirty
        self._units_of: dict[str, list[Unit]] = {}
        for unit in all_units:
            self._units_of.setdefault(unit.table.key, []).append(unit)
        self._left = {key: 0 for key in self._units_of}
        for unit in todo:
            self._left[unit.table.key] += 1
        self.copier.expect(todo)
        done = {int(name.split(":", 1)[1]) for name in self.journal.steps_named("post:")}
        self._waiting = [e for e in (self.post.entries if self.post else []) if e.dump_id not in done]
        self._present = {e.dump_id for e in self._waiting}
        # An ALTER TABLE waits for the table's index builds and its hash: it would block them all.
        self._shared_left: dict[str, int] = {}
        self._post_left: dict[str, int] = {}  # every post-data entry of the table, until ANALYZE may run
        for entry in self._waiting:
            if entry.table_key and not entry.exclusive:
                self._shared_left[entry.table_key] = self._shared_left.get(entry.table_key, 0) + 1
            if entry.table_key:
                self._post_left[entry.table_key] = self._post_left.get(entry.table_key, 0) + 1
        self._analyze_pending = {key for key in self._units_of if self._left[key] > 0}
        self._hash_pending = set(self._units_of) if self.hasher is not None else set()
        self._hashes: dict[str, dict[str, tuple[int, str]]] = {"source": {}, "target": {}}
        with self._cv:
            for order, unit in enumerate(copy_order(todo, slowest_index)):
                self._push(COPY, order, ("copy", unit))
            for key, left in self._left.items():
                if left == 0:
                    self._table_loaded(key)
            if self.hasher is not None and self.hasher.snapshot:
                for key in self._units_of:
                    self._push(HASH, -self._size(key), ("hash", "source", key))
            self._release_post()
        workers = [threading.Thread(target=self._work, name=f"pipeline-{i}", daemon=True) for i in range(self.jobs)]
        for worker in workers:
            worker.start()
        try:
            for worker in workers:
                while worker.is_alive():
                    worker.join(0.5)
        except KeyboardInterrupt:
            # Copies stop at their next block; an index build in flight ends with the process.
            with self._cv:
                self._error = self._error or KeyboardInterrupt()
                self.copier.stop()
                self._cv.notify_all()
            raise
        self.copier.close()
        for conn in self._opened:
            conn.close()
        if self._error is not None:
            raise self._error
        if self._waiting:
            raise MigrateDbError("post-data entries could not run (dependencies never met): "
                                 + ", ".join(e.label for e in self._waiting[:5]))
        if self.hasher is not None:
            self.result.checks = [UnitCheck(u, *self._hashes["source"][u.id], *self._hashes["target"][u.id])
                                  for u in all_units]
        self.result.seconds = time.monotonic() - started
        return self.result

    def _size(self, key: str) -> int:
        return sum(u.est_bytes for u in self._units_of[key])

    # scheduling (callers hold self._cv) ------------------------------------------
    def _push(self, kind: int, order: int, task: Any) -> None:
        heapq.heappush(self._ready, (kind, order, next(self._seq), task))
        self._cv.notify()

    def _table_loaded(self, key: str) -> None:
        if self.hasher is not None:
            self._push(HASH, -self._size(key), ("hash", "target", key))
            if not self.hasher.snapshot:
                self._push(HASH, -self._size(key), ("hash", "source", key))

    def _release_analyze(self) -> None:
        """ANALYZE a table loaded now once its indexes, constraints and hash are done: then it
        competes with nothing of its own, and the app's first queries get real plans."""
        for key in [k for k in self._analyze_pending if self._left[k] == 0 and not self._post_left.get(k)
                    and k not in self._hash_pending]:
            self._analyze_pending.discard(key)
            self._push(ANALYZE, -self._size(key), ("analyze", key))

    def _release_post(self) -> None:
        self._release_analyze()
        everything_loaded = all(left == 0 for left in self._left.values())
        still = []
        for entry in self._waiting:
            key = entry.table_key
            table_ready = self._left.get(key, 0) == 0 if key else everything_loaded
            if key and entry.exclusive:
                table_ready = table_ready and not self._shared_left.get(key) and key not in self._hash_pending
            if table_ready and not (entry.depends & self._present):
                self._push(POST, entry.dump_id, ("post", entry))
            else:
                still.append(entry)
        self._waiting = still

    def _work(self) -> None:
        while True:
            with self._cv:
                while not self._ready and self._running and self._error is None:
                    self._cv.wait()
                if self._error is not None or not self._ready:
                    self._cv.notify_all()
                    return
                task = heapq.heappop(self._ready)[3]
                self._running += 1
            try:
                began = time.monotonic()
                self._run_task(task)
                self._timeline.append((_describe(task), began - self._started, time.monotonic() - began))
            except BaseException as exc:  # any failure stops the whole schedule
                with self._cv:
                    self._error = self._error or exc
                    self.copier.stop()
            finally:
                with self._cv:
                    self._running -= 1
                    self._cv.notify_all()

    def _run_task(self, task: Any) -> None:
        if task[0] == "copy":
            unit: Unit = task[1]
            self.copier.copy_unit(unit, unit.id in self._dirty, self.result.copy)
            with self._cv:
                self._left[unit.table.key] -= 1
                if self._left[unit.table.key] == 0:
                    self._table_loaded(unit.table.key)
                    self._release_post()
        elif task[0] == "analyze":
            table = self._units_of[task[1]][0].table
            try:
                self._post_connection().execute(f"ANALYZE {table.qname}".encode())
            except psycopg.Error as exc:  # statistics are a convenience; autovacuum gathers them later
                with self._cv:
                    self.result.post_tolerated.append(f"ANALYZE {table.key}: {str(exc).strip().splitlines()[0]}")
                return
            with self._cv:
                self.result.analyzed += 1
        elif task[0] == "hash":
            assert self.hasher is not None
            _, side, key = task
            found = self.hasher.hash_table(side, self._units_of[key])
            with self._cv:
                self._hashes[side].update(found)
                if side == "target":
                    self._hash_pending.discard(key)
                    self._release_post()
        else:
            self._run_post(task[1])

    def _run_post(self, entry: PostEntry) -> None:
        conn = self._post_connection()
        try:
            conn.execute(entry.sql.encode())
        except psycopg.Error as exc:
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if not (self.tolerate_existing and _EXISTS.search(message)):
                raise MigrateDbError(f"post-data {entry.label} failed on the target: {message}") from None
            self.result.post_tolerated.append(f"{entry.label}: {message}")
        self.journal.mark_step(f"post:{entry.dump_id}")
        self.reporter.advance("indexes and constraints", 1, overall=False)
        with self._cv:
            self.result.post_entries += 1
            self._present.discard(entry.dump_id)
            if entry.table_key and not entry.exclusive:
                self._shared_left[entry.table_key] -= 1
            if entry.table_key:
                self._post_left[entry.table_key] -= 1
            self._release_post()

    def _post_connection(self) -> psycopg.Connection:
        conn: psycopg.Connection | None = getattr(self._local, "post", None)
        if conn is None:
            conn = connect(self.target)
            if self.post is not None and self.post.preamble:
                conn.execute(self.post.preamble.encode())
            with self._cv:
                self._opened.append(conn)
            self._local.post = conn
        return conn


def _describe(task: Any) -> str:
    if task[0] == "copy":
        return f"copy {task[1].label}"
    if task[0] == "post":
        return str(task[1].label)
    if task[0] == "analyze":
        return f"ANALYZE {task[1]}"
    return f"hash {task[2]} ({task[1]})"
