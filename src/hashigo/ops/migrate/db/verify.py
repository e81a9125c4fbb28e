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


# Scalar types hashed by their own extended hash function, with the column's position as seed (so
# values moved between columns change the hash); bool goes through int. Every other column is
# hashed together in one record (the text form where hash_record_extended is missing, before 14).
_SCALAR_HASH = {
    "int2": "hashint2extended({c}, {s})", "int4": "hashint4extended({c}, {s})",
    "int8": "hashint8extended({c}, {s})", "text": "hashtextextended({c}, {s})",
    "varchar": "hashtextextended({c}, {s})", "bpchar": "hashbpcharextended({c}, {s})",
    "uuid": "uuid_hash_extended({c}, {s})", "float4": "hashfloat4extended({c}, {s})",
    "float8": "hashfloat8extended({c}, {s})", "jsonb": "jsonb_hash_extended({c}, {s})",
    "bool": "hashint4extended({c}::int, {s})",
}


def row_hash_expr(table: Table, modern: bool) -> str:
    """One bigint per row: per-column hashes XORed, then re-mixed so that the per-row values
    can be summed (a plain sum of linear combinations would let values swapped between rows
    cancel out)."""
    parts, rest = [], []
    for position, column in enumerate(table.columns, start=1):
        template = _SCALAR_HASH.get(column.base_type)
        if template is None:
            rest.append(column.hash_expr)
            continue
        parts.append(f"coalesce({template.format(c=quote_ident(column.name), s=position)}, {-position})")
    if rest:
        seed = len(table.columns) + 1
        row = f"ROW({', '.join(rest)})"
        parts.append(f"hash_record_extended({row}, {seed})" if modern else f"hashtextextended({row}::text, {seed})")
    return f"hashint8extended({' # '.join(parts) or '0'}, 0)"


def table_hash_sql(table_units: list[Unit], modern: bool) -> tuple[str, list[Unit]]:
    """One scan of a table giving rows and hash of every unit (chunks as FILTERed aggregates: a
    GROUP BY over the chunks costs more than twice as much CPU)."""
    table = table_units[0].table
    expr = row_hash_expr(table, modern)
    ordered = sorted(table_units, key=lambda u: (u.lo is not None, u.lo or 0))
    if len(ordered) == 1:
        return (f"SELECT count(*), coalesce(sum({expr}), 0)::text FROM ONLY {table.qname} "
                f"WHERE {ordered[0].predicate}"), ordered
    columns = ", ".join(f"count(*) FILTER (WHERE {u.predicate}), "
                        f"coalesce(sum({expr}) FILTER (WHERE {u.predicate}), 0)::text" for u in ordered)
    return f"SELECT {columns} FROM ONLY {table.qname}", ordered


class Hasher:
    """Hash tables on either server; the source side may read in the copy's exported snapshot."""

    def __init__(self, source: Endpoint, target: Endpoint, *, modern: bool, reporter: Reporter,
                 snapshot: str | None = None) -> None:
        self.endpoints = {"source": source, "target": target}
        self.modern = modern
        self.reporter = reporter
        self.snapshot = snapshot
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

    def hash_table(self, side: str, table_units: list[Unit]) -> dict[str, tuple[int, str]]:
        """rows and hash of each unit of one table, from one scan; (-1, 'missing') if the table is not there."""
        sql, ordered = table_hash_sql(table_units, self.modern)
        conn = self._conn(side)
        try:
            if side == "source" and self.snapshot:
                conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                conn.execute(f"SET TRANSACTION SNAPSHOT '{self.snapshot}'")
            row = conn.execute(sql).fetchone()
            if side == "source" and self.snapshot:
                conn.execute("COMMIT")
        except psycopg.errors.UndefinedTable:
            _end_transaction(conn)
            return {u.id: (-1, "missing") for u in ordered}
        except psycopg.Error as exc:
            _end_transaction(conn)
            message = str(exc).splitlines()[0]
            raise MigrateDbError(f"verify of {ordered[0].table.key} on the {side}: {message}") from None
        assert row is not None
        self.reporter.advance("verify", sum(u.est_bytes for u in ordered))
        return {u.id: (int(row[2 * i]), str(row[2 * i + 1])) for i, u in enumerate(ordered)}

    def check(self, units: list[Unit], jobs: int) -> list[UnitCheck]:
        """Every unit, both sides at once, one scan per table and side."""
        by_table: dict[str, list[Unit]] = {}
        for unit in units:
            by_table.setdefault(unit.table.key, []).append(unit)
        groups = sorted(by_table.values(), key=lambda g: -sum(u.est_bytes for u in g))
        try:
            with ThreadPoolExecutor(max_workers=2 * max(1, jobs), thread_name_prefix="verify") as pool:
                futures = [(pool.submit(self.hash_table, "source", g), pool.submit(self.hash_table, "target", g))
                           for g in groups]
                source: dict[str, tuple[int, str]] = {}
                target: dict[str, tuple[int, str]] = {}
                for src, dst in futures:
                    source.update(src.result())
                    target.update(dst.result())
        finally:
            self.close()
        return [UnitCheck(u, *source[u.id], *target[u.id]) for u in units]

    def close(self) -> None:
        for conn in self._opened:
            conn.close()
        self._opened.clear()


def _end_transaction(conn: psycopg.Connection) -> None:
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        conn.execute("ROLLBACK")


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
