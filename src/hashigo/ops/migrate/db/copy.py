"""Parallel streaming COPY from server to server: no file on disk, one connection pair per worker.

Each unit is one target transaction: TRUNCATE (whole table) or DELETE of its key range (a chunk
that may have been loaded before a kill), then COPY. A unit is either entirely loaded or not at
all, and loading it twice gives the same result — which is what makes the journal safe.
"""

from __future__ import annotations

import select
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from io import FileIO
from typing import cast

import psycopg
from psycopg import pq

from hashigo.ops.migrate.db.catalog import quote_ident, sql_literal
from hashigo.ops.migrate.db.endpoints import Endpoint, connect, session_settings
from hashigo.ops.migrate.db.errors import MigrateDbError
from hashigo.ops.migrate.db.journal import Journal
from hashigo.ops.migrate.db.progress import Reporter
from hashigo.ops.migrate.db.units import Unit

BLOCK_BYTES = 256 * 1024  # what one put_copy_data sends: big enough that per-call cost vanishes


@dataclass
class CopyStats:
    units: int = 0
    rows: int = 0
    bytes: int = 0
    seconds: float = 0.0
    skipped: int = 0  # already done in an earlier (killed) run
    tables: dict[str, int] = field(default_factory=dict)  # rows per table copied now


@contextmanager
def exported_snapshot(source: Endpoint) -> Iterator[str]:
    """A snapshot every worker (and pg_dump) shares, so all tables are copied as of one instant."""
    conn = connect(source, read_only=True)
    try:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        row = conn.execute("SELECT pg_export_snapshot()").fetchone()
        assert row is not None
        yield str(row[0])
    finally:
        conn.close()


class Copier:
    def __init__(self, source: Endpoint, target: Endpoint, *, jobs: int, binary: bool,
                 journal: Journal | None, reporter: Reporter, snapshot: str | None = None,
                 psql: str | None = None) -> None:
        self.source = source
        self.psql = psql
        self.target = target
        self.jobs = max(1, jobs)
        self.binary = binary
        self.journal = journal
        self.reporter = reporter
        self.snapshot = snapshot
        self._stop = threading.Event()
        self._local = threading.local()
        self._opened: list[psycopg.Connection] = []
        self._lock = threading.Lock()
        self._remaining: dict[str, int] = {}

    def expect(self, units: list[Unit]) -> None:
        for unit in units:
            self._remaining[unit.table.key] = self._remaining.get(unit.table.key, 0) + 1

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            opened, self._opened = self._opened, []
        for conn in opened:
            conn.close()

    def run(self, units: list[Unit], *, dirty: set[str]) -> CopyStats:
        """Copy every unit; units in ``dirty`` may hold rows already and are cleared first."""
        stats = CopyStats(units=len(units))
        self.expect(units)
        started = time.monotonic()
        pool = ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="copy")
        try:
            futures = [pool.submit(self.copy_unit, u, u.id in dirty, stats) for u in units]
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            failed = [f for f in done if f.exception() is not None]
            if failed:
                error = failed[0].exception()
                assert error is not None
                raise error
        finally:
            # On an error or Ctrl-C the streams in flight stop at their next block; their target
            # transactions roll back, so those units are simply copied again next time.
            self._stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
            self.close()
        stats.seconds = time.monotonic() - started
        return stats

    # one unit --------------------------------------------------------------
    def _connections(self) -> tuple[psycopg.Connection | None, psycopg.Connection]:
        """This worker's connections; none to the source when psql reads it."""
        pair: tuple[psycopg.Connection | None, psycopg.Connection] | None = getattr(self._local, "pair", None)
        if pair is None:
            pair = (connect(self.source, read_only=True) if self.psql is None else None, connect(self.target))
            with self._lock:
                self._opened.extend(conn for conn in pair if conn is not None)
            self._local.pair = pair
        return pair

    def copy_unit(self, unit: Unit, dirty: bool, stats: CopyStats) -> None:
        if self._stop.is_set():
            return
        src, dst = self._connections()
        table = unit.table
        self.reporter.item(table.key, table.bytes)
        if self.journal is not None:
            self.journal.set_unit(unit.id, "started")
        fmt = "binary" if self.binary else "text"
        columns = ", ".join(quote_ident(c.name) for c in table.copy_columns)
        if unit.chunked:
            out_sql = f"COPY (SELECT {columns} FROM ONLY {table.qname} WHERE {unit.predicate}) TO STDOUT (FORMAT {fmt})"
        else:
            out_sql = f"COPY {table.qname} ({columns}) TO STDOUT (FORMAT {fmt})"
        # FREEZE writes the rows already frozen: no second pass over the table by the first VACUUM.
        freeze = ", FREEZE" if not unit.chunked else ""
        in_sql = f"COPY {table.qname} ({columns}) FROM STDIN (FORMAT {fmt}{freeze})"
        try:
            if src is not None:
                src.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                if self.snapshot:
                    src.execute(f"SET TRANSACTION SNAPSHOT '{self.snapshot}'")
            with dst.transaction(), dst.cursor() as cur:
                if not unit.chunked:
                    cur.execute(f"TRUNCATE ONLY {table.qname}")
                elif dirty:
                    cur.execute(f"DELETE FROM ONLY {table.qname} WHERE {unit.predicate}")
                with cur.copy(in_sql) as sink:
                    def send(block: bytearray) -> None:
                        sink.write(block)
                        self.reporter.advance(table.key, len(block))
                        with self._lock:
                            stats.bytes += len(block)
                    if src is not None:
                        sent_rows: int | None = copy_out(src, out_sql, send, self._stop)
                    else:
                        assert self.psql is not None
                        copy_out_with_psql(self.psql, self.source, self.snapshot, out_sql, send, self._stop)
                        sent_rows = None
                loaded = cur.rowcount
            if src is not None:
                src.execute("COMMIT")
        except psycopg.Error as exc:
            raise MigrateDbError(f"copy of {unit.label} failed: {_first_line(exc)}") from None
        if sent_rows is not None and loaded != sent_rows:
            raise MigrateDbError(f"copy of {unit.label}: the source sent {sent_rows} rows, the target stored {loaded}")
        if self.journal is not None:
            self.journal.set_unit(unit.id, "done", loaded)
        with self._lock:
            stats.rows += loaded
            stats.tables[table.key] = stats.tables.get(table.key, 0) + loaded
            self._remaining[table.key] -= 1
            last = self._remaining[table.key] == 0
        if last:
            self.reporter.item_done(table.key)


def copy_out(conn: psycopg.Connection, statement: str, sink: Callable[[bytearray], None],
             stop: threading.Event) -> int:
    """Run a COPY … TO STDOUT and hand the data to ``sink`` in large blocks; return the row count.

    psycopg's Copy iterator yields one row per call through a generator; this loop talks to
    libpq directly and batches rows, which costs a third of the CPU per row.
    """
    pg = conn.pgconn
    pg.send_query(statement.encode())
    first = _next_result(pg)
    if first is None or first.status != pq.ExecStatus.COPY_OUT:
        _raise_result(pg, first)
    block = bytearray()
    extend = block.extend
    while True:
        size, data = pg.get_copy_data(1)
        if size > 0:
            extend(data)
            if len(block) >= BLOCK_BYTES:
                if stop.is_set():
                    raise MigrateDbError("stopped")
                sink(block)
                block = bytearray()
                extend = block.extend
        elif size == 0:
            if stop.is_set():
                raise MigrateDbError("stopped")
            select.select([pg.socket], [], [], 1.0)
            pg.consume_input()
        elif size == -1:
            break
        else:
            raise psycopg.OperationalError(pg.get_error_message())
    if block:
        sink(block)
    final = _next_result(pg)
    if final is None or final.status != pq.ExecStatus.COMMAND_OK:
        _raise_result(pg, final)
    rows = final.command_tuples if final is not None else None
    while _next_result(pg) is not None:
        pass
    return int(rows or 0)


def copy_out_with_psql(psql: str, source: Endpoint, snapshot: str | None, statement: str,
                       sink: Callable[[bytearray], None], stop: threading.Event) -> None:
    """The same COPY … TO STDOUT, read by psql and handed to ``sink`` in large blocks.

    libpq returns COPY data one row per call; in Python that loop cost about 0.4 µs of CPU per row,
    a tenth of a 10-million-row table's whole copy. psql runs the same loop in C and we read its
    output in blocks. psql does not report the row count of a COPY TO STDOUT, so the caller
    relies on verification (and on the binary format's trailer, which COPY FROM requires) instead.
    """
    settings = session_settings(source, read_only=True)
    commands = ["; ".join(f"SET {name} = {sql_literal(value)}" for name, value in settings.items()),
                "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"]
    if snapshot:
        commands.append(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
    argv = [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", f"--dbname={source.url}"]
    for command in [*commands, statement]:
        argv += ["-c", command]
    with tempfile.TemporaryFile() as errors, subprocess.Popen(
            argv, env=source.child_env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors,
            bufsize=0) as proc:
        out = cast(FileIO, proc.stdout)  # bufsize=0: the raw pipe, so readinto fills our block directly
        try:
            while True:
                block = bytearray(BLOCK_BYTES)
                filled = 0
                while filled < BLOCK_BYTES and (got := out.readinto(memoryview(block)[filled:])):
                    filled += got
                if stop.is_set():
                    raise MigrateDbError("stopped")
                if filled:
                    del block[filled:]
                    sink(block)
                if filled < BLOCK_BYTES:
                    break
        except BaseException:
            proc.kill()
            raise
        code = proc.wait()
        if code != 0:
            errors.seek(0)
            lines = [line.strip() for line in errors.read().decode("utf-8", "replace").splitlines() if line.strip()]
            detail = next((line for line in lines if "ERROR" in line or "error" in line), lines[0] if lines else "")
            raise MigrateDbError(f"psql reading the source ended with exit code {code}: {detail}")


def _next_result(pg: pq.abc.PGconn) -> pq.abc.PGresult | None:
    while True:
        pg.consume_input()
        if not pg.is_busy():
            return pg.get_result()
        select.select([pg.socket], [], [], 1.0)


def _raise_result(pg: pq.abc.PGconn, result: pq.abc.PGresult | None) -> None:
    if result is not None and result.status == pq.ExecStatus.FATAL_ERROR:
        error = psycopg.errors.error_from_result(result, encoding="utf-8")
        while _next_result(pg) is not None:
            pass
        raise error
    raise psycopg.OperationalError(pg.get_error_message() or "unexpected result from COPY")


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
