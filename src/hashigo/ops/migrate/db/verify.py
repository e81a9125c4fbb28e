"""Verify data: per unit, row count and an order-independent content hash, computed by each server.

Row hash: hash_record_extended over the row, with every column whose hash is not a faithful,
server-independent identity (enums hash by OID; numeric, interval, jsonb, citext hash equal
values that are stored differently) cast to text first, then re-mixed by hashint8extended —
hash_record_extended combines columns linearly, so without the re-mix values swapped between
rows would cancel out in the sum. The table hash is the sum of row hashes (exact, in numeric):
independent of row order and physical layout, sensitive to duplicates.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import psycopg

from hashigo.ops.migrate.db.catalog import Table, quote_ident
from hashigo.ops.migrate.db.endpoints import Endpoint, connect
from hashigo.ops.migrate.db.errors import MigrateDbError
from hashigo.ops.migrate.db.progress import Reporter
from hashigo.ops.migrate.db.units import Unit

DRILL_MAX_ROWS = 500_000  # above this a differing unit is reported without the keys of its rows
SHOW_KEYS = 20


@dataclass(frozen=True)
class UnitCheck:
    unit: Unit
    source_rows: int
    source_hash: str
    target_rows: int
    target_hash: str

    @property
    def ok(self) -> bool:
        return self.source_rows == self.target_rows and self.source_hash == self.target_hash


@dataclass
class RowDiff:
    only_source: list[str] = field(default_factory=list)
    only_target: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    note: str = ""


def row_hash_expr(table: Table, modern: bool) -> str:
    columns = ", ".join(c.hash_expr for c in table.columns)
    if modern:
        return f"hashint8extended(hash_record_extended(ROW({columns}), 0), 0)"
    return f"hashtextextended(ROW({columns})::text, 0)"  # servers before 14


def unit_hash_sql(unit: Unit, modern: bool) -> str:
    return (f"SELECT count(*), coalesce(sum({row_hash_expr(unit.table, modern)}), 0)::text "
            f"FROM ONLY {unit.table.qname} WHERE {unit.predicate}")


class Hasher:
    """Hash units on both servers at once, ``jobs`` queries per server."""

    def __init__(self, source: Endpoint, target: Endpoint, *, jobs: int, modern: bool, reporter: Reporter) -> None:
        self.endpoints = {"source": source, "target": target}
        self.jobs = max(1, jobs)
        self.modern = modern
        self.reporter = reporter
        self._local = threading.local()
        self._opened: list[psycopg.Connection] = []
        self._lock = threading.Lock()

    def _conn(self, side: str) -> psycopg.Connection:
        conns: dict[str, psycopg.Connection] = getattr(self._local, "conns", None) or {}
        if side not in conns:
            conns[side] = connect(self.endpoints[side], read_only=True)
            with self._lock:
                self._opened.append(conns[side])
            self._local.conns = conns
        return conns[side]

    def _hash(self, side: str, unit: Unit) -> tuple[int, str]:
        try:
            row = self._conn(side).execute(unit_hash_sql(unit, self.modern)).fetchone()
        except psycopg.errors.UndefinedTable:
            return -1, "missing"
        except psycopg.Error as exc:
            raise MigrateDbError(f"verify of {unit.label} on the {side}: {str(exc).splitlines()[0]}") from None
        assert row is not None
        self.reporter.advance("verify", unit.est_bytes)
        return int(row[0]), str(row[1])

    def check(self, units: list[Unit]) -> list[UnitCheck]:
        try:
            with ThreadPoolExecutor(max_workers=2 * self.jobs, thread_name_prefix="verify") as pool:
                pending = [(u, pool.submit(self._hash, "source", u), pool.submit(self._hash, "target", u))
                           for u in units]
                results = []
                for unit, src, dst in pending:
                    (s_rows, s_hash), (t_rows, t_hash) = src.result(), dst.result()
                    results.append(UnitCheck(unit, s_rows, s_hash, t_rows, t_hash))
                return results
        finally:
            for conn in self._opened:
                conn.close()
            self._opened.clear()


def drill(source: Endpoint, target: Endpoint, unit: Unit, modern: bool) -> RowDiff:
    """Which rows of a differing unit differ: by primary key, or by row hash when there is none."""
    table = unit.table
    if max(table.est_rows, 0) > DRILL_MAX_ROWS and not unit.chunked:
        return RowDiff(note=f"{table.key} has about {table.est_rows} rows; rows are not listed one by one")
    sides = []
    for endpoint in (source, target):
        with connect(endpoint, read_only=True) as conn:
            sides.append(_row_hashes(conn, unit, modern))
    src, dst = sides
    diff = RowDiff()
    if table.pk:
        diff.only_source = sorted(k for k in src if k not in dst)[:SHOW_KEYS]
        diff.only_target = sorted(k for k in dst if k not in src)[:SHOW_KEYS]
        diff.changed = sorted(k for k in src if k in dst and src[k] != dst[k])[:SHOW_KEYS]
        return diff
    extra = sum(max(0, n - dst.get(h, 0)) for h, n in src.items())
    missing = sum(max(0, n - src.get(h, 0)) for h, n in dst.items())
    diff.note = (f"no primary key: {extra} row(s) of the source are not on the target, "
                 f"{missing} row(s) of the target are not on the source")
    return diff


def _row_hashes(conn: psycopg.Connection, unit: Unit, modern: bool) -> dict[str, int]:
    table = unit.table
    expr = row_hash_expr(table, modern)
    if table.pk:
        key = " || ', ' || ".join(f"coalesce({quote_ident(c)}::text, 'NULL')" for c in table.pk)
        sql = f"SELECT {key}, {expr} FROM ONLY {table.qname} WHERE {unit.predicate}"
        return {str(k): int(h) for k, h in conn.execute(sql)}
    sql = f"SELECT {expr}::text, count(*) FROM ONLY {table.qname} WHERE {unit.predicate} GROUP BY 1"
    return {str(h): int(n) for h, n in conn.execute(sql)}
