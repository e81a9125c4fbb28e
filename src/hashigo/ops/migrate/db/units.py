"""Copy units: a whole table, or a primary-key range of a big table with an integer key."""

from __future__ import annotations

import math
from dataclasses import dataclass

import psycopg

from hashigo.ops.migrate.db.catalog import Catalog, Table, quote_ident
from hashigo.ops.migrate.db.journal import Journal, UnitRecord

# Tables up to this size load as one stream with COPY FREEZE: on a 2-core machine that beat
# key-range chunks of 256 and 700 MB (bench/migrate_db.py: no hint-bit pass over the loaded rows,
# no per-chunk range scans). Bigger tables still split so that one table is not the long pole.
DEFAULT_CHUNK_MB = 2048


@dataclass(frozen=True)
class Unit:
    id: str
    table: Table
    lo: int | None = None  # inclusive; None = unbounded
    hi: int | None = None  # exclusive; None = unbounded
    chunked: bool = False

    @property
    def predicate(self) -> str:
        """SQL condition selecting this unit's rows ('true' for a whole table)."""
        if not self.chunked:
            return "true"
        key = quote_ident(self.table.pk[0])
        parts = []
        if self.lo is not None:
            parts.append(f"{key} >= {int(self.lo)}")
        if self.hi is not None:
            parts.append(f"{key} < {int(self.hi)}")
        return " AND ".join(parts) or "true"

    @property
    def label(self) -> str:
        if not self.chunked:
            return self.table.key
        lo = "" if self.lo is None else str(self.lo)
        hi = "" if self.hi is None else str(self.hi)
        return f"{self.table.key} [{lo}, {hi})"

    @property
    def est_bytes(self) -> int:
        return self.table.bytes if not self.chunked else max(1, self.table.bytes // max(1, self._share))

    @property
    def _share(self) -> int:
        return int(self.id.rsplit("#", 1)[1].split("/")[1]) if "#" in self.id else 1


def plan(conn: psycopg.Connection, catalog: Catalog, chunk_bytes: int) -> list[Unit]:
    """Split tables bigger than chunk_bytes into equal-width key ranges (largest work first)."""
    units: list[Unit] = []
    for table in catalog.data_tables:
        pieces = math.ceil(table.bytes / chunk_bytes) if chunk_bytes > 0 else 1
        if pieces < 2 or not table.integer_pk:
            units.append(Unit(table.key, table))
            continue
        key = quote_ident(table.pk[0])
        row = conn.execute(f"SELECT min({key}), max({key}) FROM ONLY {table.qname}").fetchone()
        low, high = (row or (None, None))
        if low is None or high is None or high - low < pieces:
            units.append(Unit(table.key, table))
            continue
        step = math.ceil((high - low + 1) / pieces)
        for index in range(pieces):
            lo = None if index == 0 else low + index * step
            hi = None if index == pieces - 1 else low + (index + 1) * step
            units.append(Unit(f"{table.key}#{index:05d}/{pieces}", table, lo, hi, chunked=True))
    return sorted(units, key=lambda u: -u.est_bytes)


def from_journal(records: list[UnitRecord], catalog: Catalog) -> list[Unit]:
    """The units a run planned before, bound to today's catalog (a resumed run keeps its bounds)."""
    tables = {t.key: t for t in catalog.data_tables}
    units = []
    for record in records:
        table = tables.get(record.table_key)
        if table is None:
            continue  # dropped on the source since: verify reports it
        units.append(Unit(record.id, table, record.lo, record.hi, chunked="#" in record.id))
    return sorted(units, key=lambda u: -u.est_bytes)


def record(journal: Journal, units: list[Unit]) -> None:
    journal.plan_units([(u.id, u.table.key, u.lo, u.hi) for u in units])
