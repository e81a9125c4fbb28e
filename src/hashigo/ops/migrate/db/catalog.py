"""What a PostgreSQL database holds, read from its catalog: tables, columns, keys, sequences, extensions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import psycopg

# Schemas Supabase creates and manages itself; a move to Aurora/RDS/Cloud SQL leaves them behind.
SUPABASE_SCHEMAS = (
    "auth", "storage", "realtime", "_realtime", "vault", "graphql", "graphql_public", "supabase_functions",
    "supabase_migrations", "extensions", "pgsodium", "pgsodium_masks", "net", "cron", "pgbouncer",
    "_analytics", "pgtle", "_supavisor",
)
SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")

# Types whose hash function is stable across servers and tells stored values apart. jsonb is
# hashed as a value too (its text form costs twice as much): documents that are equal for
# PostgreSQL hash alike, which leaves only numbers written with other trailing zeros (1.0 and
# 1.00) indistinguishable inside jsonb. Everything else is hashed through its text form: enums
# hash by OID (different on each server), numeric, interval and citext hash equal values that
# are stored differently.
NATIVE_HASH_TYPES = frozenset({
    "int2", "int4", "int8", "bool", "text", "varchar", "bpchar", "bytea", "uuid", "date", "timestamp",
    "timestamptz", "time", "float4", "float8", "oid", "char", "name", "jsonb",
})


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def qualified(schema: str, name: str) -> str:
    return f"{quote_ident(schema)}.{quote_ident(name)}"


def sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class Column:
    name: str
    type_sql: str  # format_type(): what the schema comparison shows
    base_type: str  # typname of the (domain's base) type, arrays as "_elem"
    generated: bool  # GENERATED ALWAYS AS (…) STORED: computed by the target, never copied
    identity: str  # "", "a" (always) or "d" (by default)
    not_null: bool

    @property
    def hash_expr(self) -> str:
        ident = quote_ident(self.name)
        element = self.base_type[1:] if self.base_type.startswith("_") else self.base_type
        return ident if element in NATIVE_HASH_TYPES else f"{ident}::text"


@dataclass(frozen=True)
class Table:
    oid: int
    schema: str
    name: str
    relkind: str  # r ordinary, p partitioned, f foreign, m materialized view
    is_partition: bool
    bytes: int
    est_rows: int
    rls: bool
    columns: tuple[Column, ...] = ()
    pk: tuple[str, ...] = ()
    pk_types: tuple[str, ...] = ()

    @property
    def qname(self) -> str:
        return qualified(self.schema, self.name)

    @property
    def key(self) -> str:
        """How journals and reports name the table: schema.name, unquoted."""
        return f"{self.schema}.{self.name}"

    @property
    def holds_rows(self) -> bool:
        """Ordinary tables and leaf partitions; partitioned parents and views hold no rows of their own."""
        return self.relkind == "r"

    @property
    def copy_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if not c.generated)

    @property
    def integer_pk(self) -> bool:
        return len(self.pk) == 1 and self.pk_types[0] in {"int2", "int4", "int8"}


@dataclass(frozen=True)
class Sequence:
    schema: str
    name: str
    owned_by: str | None = None

    @property
    def qname(self) -> str:
        return qualified(self.schema, self.name)

    @property
    def key(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass
class Catalog:
    server_version: int
    database: str
    database_bytes: int
    schemas: list[str]
    excluded_present: list[str]
    tables: list[Table] = field(default_factory=list)
    sequences: list[Sequence] = field(default_factory=list)
    extensions: dict[str, tuple[str, str]] = field(default_factory=dict)  # name → (schema, version)

    def table(self, key: str) -> Table:
        for table in self.tables:
            if table.key == key:
                return table
        raise KeyError(key)

    @property
    def data_tables(self) -> list[Table]:
        return [t for t in self.tables if t.holds_rows]


def excluded_schemas(include: Iterable[str]) -> list[str]:
    wanted = set(include)
    return [s for s in SUPABASE_SCHEMAS if s not in wanted]


def read_catalog(conn: psycopg.Connection, excluded: list[str]) -> Catalog:
    skip = [*SYSTEM_SCHEMAS, *excluded]
    row = conn.execute("SELECT current_setting('server_version_num')::int, current_database(), "
                       "pg_database_size(current_database())").fetchone()
    assert row is not None
    version, database, size = row
    schemas = [r[0] for r in conn.execute(
        "SELECT nspname FROM pg_namespace WHERE nspname <> ALL(%s) AND nspname !~ '^pg_(temp|toast_temp)_' "
        "ORDER BY nspname", (skip,))]
    present = [r[0] for r in conn.execute(
        "SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s) ORDER BY nspname", (excluded,))]
    catalog = Catalog(version, database, size, schemas, present)
    catalog.tables = _tables(conn, schemas)
    catalog.sequences = [Sequence(s, n, o) for s, n, o in conn.execute(_SEQUENCES, (schemas,))]
    catalog.extensions = {name: (schema, ver) for name, schema, ver in conn.execute(
        "SELECT e.extname, n.nspname, e.extversion FROM pg_extension e "
        "JOIN pg_namespace n ON n.oid = e.extnamespace ORDER BY 1")}
    return catalog


_TABLES = """
SELECT c.oid, n.nspname, c.relname, c.relkind, c.relispartition,
       CASE WHEN c.relkind IN ('r', 'm') THEN pg_table_size(c.oid) ELSE 0 END,
       greatest(c.reltuples, 0)::bigint, c.relrowsecurity
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'f', 'm') AND n.nspname = ANY(%s)
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                  AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY n.nspname, c.relname
"""

_COLUMNS = """
SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod),
       bt.typname, a.attgenerated <> '', a.attidentity::text, a.attnotnull
FROM pg_attribute a
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
WHERE a.attrelid = ANY(%s) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
"""

_PRIMARY_KEYS = """
SELECT i.indrelid, array_agg(a.attname ORDER BY k.ord), array_agg(t.typname ORDER BY k.ord)
FROM pg_index i
CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
JOIN pg_type t ON t.oid = a.atttypid
WHERE i.indisprimary AND i.indrelid = ANY(%s)
GROUP BY i.indrelid
"""

_SEQUENCES = """
SELECT n.nspname, c.relname,
       (SELECT dn.nspname || '.' || dc.relname FROM pg_depend d
        JOIN pg_class dc ON dc.oid = d.refobjid JOIN pg_namespace dn ON dn.oid = dc.relnamespace
        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i') LIMIT 1)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'S' AND n.nspname = ANY(%s)
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                  AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1, 2
"""


def _tables(conn: psycopg.Connection, schemas: list[str]) -> list[Table]:
    rows = conn.execute(_TABLES, (schemas,)).fetchall()
    oids = [r[0] for r in rows]
    columns: dict[int, list[Column]] = {}
    for oid, name, type_sql, base, generated, identity, not_null in conn.execute(_COLUMNS, (oids,)):
        columns.setdefault(oid, []).append(Column(name, type_sql, base, generated, identity, not_null))
    keys = {oid: (tuple(names), tuple(types)) for oid, names, types in conn.execute(_PRIMARY_KEYS, (oids,))}
    tables = []
    for oid, schema, name, relkind, is_partition, size, est, rls in rows:
        pk, pk_types = keys.get(oid, ((), ()))
        tables.append(Table(oid, schema, name, relkind, is_partition, size, est, rls,
                            tuple(columns.get(oid, [])), pk, pk_types))
    return tables


def sequence_values(conn: psycopg.Connection, sequences: list[Sequence]) -> dict[str, tuple[int, bool]]:
    """last_value and is_called of each sequence, read in one statement."""
    if not sequences:
        return {}
    parts = [f"SELECT {sql_literal(s.key)}, last_value, is_called FROM {s.qname}" for s in sequences]
    return {key: (int(last), bool(called)) for key, last, called in conn.execute(" UNION ALL ".join(parts))}


def user_relations(conn: psycopg.Connection, excluded: list[str]) -> list[str]:
    """Tables, views and sequences outside system and excluded schemas (at most 20): is the target empty?"""
    rows = conn.execute("""
        SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND n.nspname !~ '^pg_'
          AND n.nspname <> 'information_schema' AND n.nspname <> ALL(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                          AND d.objid = c.oid AND d.deptype = 'e')
        ORDER BY 1 LIMIT 20""", (excluded,)).fetchall()
    return [r[0] for r in rows]
