"""Compare the schema of both databases: tables, columns, types, indexes, constraints, sequences."""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg

from hashigo.ops.migrate.db.catalog import Sequence, sequence_values

# Each query returns (kind, name, definition) for objects in the compared schemas. Objects that
# point into excluded schemas (skipped on purpose by the schema step) are left out on both sides.
_QUERIES = {
    "table": """
        SELECT n.nspname || '.' || c.relname,
               CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table' WHEN 'v' THEN 'view'
                              WHEN 'm' THEN 'materialized view' WHEN 'f' THEN 'foreign table' END
               || CASE WHEN c.relispartition THEN ' partition ' || pg_get_expr(c.relpartbound, c.oid) ELSE '' END
               || CASE WHEN c.relrowsecurity THEN ', row security' ELSE '' END
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname = ANY(%(schemas)s)
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                          AND d.objid = c.oid AND d.deptype = 'e')""",
    "column": """
        SELECT n.nspname || '.' || c.relname || '.' || a.attname,
               format_type(a.atttypid, a.atttypmod)
               || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
               || CASE WHEN a.attidentity <> '' THEN ' identity ' || a.attidentity::text ELSE '' END
               || CASE WHEN a.attgenerated <> '' THEN ' generated ' ELSE ' default ' END
               || coalesce(pg_get_expr(ad.adbin, ad.adrelid), '')
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.attnum > 0 AND NOT a.attisdropped
          AND n.nspname = ANY(%(schemas)s)""",
    "index": """
        SELECT n.nspname || '.' || ic.relname, pg_get_indexdef(i.indexrelid)
        FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_namespace n ON n.oid = ic.relnamespace
        WHERE n.nspname = ANY(%(schemas)s)""",
    "constraint": """
        SELECT n.nspname || '.' || c.relname || '.' || k.conname, pg_get_constraintdef(k.oid)
        FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_class fc ON fc.oid = k.confrelid LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
        WHERE n.nspname = ANY(%(schemas)s) AND (fn.nspname IS NULL OR fn.nspname <> ALL(%(excluded)s))""",
    "type": """
        SELECT n.nspname || '.' || t.typname,
               CASE t.typtype WHEN 'e' THEN 'enum (' || (SELECT string_agg(e.enumlabel, ', ' ORDER BY e.enumsortorder)
                                                        FROM pg_enum e WHERE e.enumtypid = t.oid) || ')'
                              WHEN 'd' THEN 'domain over ' || format_type(t.typbasetype, t.typtypmod)
                              ELSE 'type ' || t.typtype::text END
        FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE t.typtype IN ('e', 'd') AND n.nspname = ANY(%(schemas)s)""",
    "sequence": """
        SELECT n.nspname || '.' || c.relname,
               format_type(s.seqtypid, NULL) || ' increment ' || s.seqincrement || ' min ' || s.seqmin
               || ' max ' || s.seqmax || ' start ' || s.seqstart || CASE WHEN s.seqcycle THEN ' cycle' ELSE '' END
        FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ANY(%(schemas)s)""",
    "trigger": """
        SELECT n.nspname || '.' || c.relname || '.' || t.tgname, pg_get_triggerdef(t.oid)
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_namespace pn ON pn.oid = p.pronamespace
        WHERE NOT t.tgisinternal AND n.nspname = ANY(%(schemas)s) AND pn.nspname <> ALL(%(excluded)s)""",
}


@dataclass
class SchemaDiff:
    missing: list[str] = field(default_factory=list)  # on the source, not on the target
    different: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)  # on the target only: reported, not a failure
    compared: int = 0

    @property
    def ok(self) -> bool:
        return not self.missing and not self.different


def schema_objects(conn: psycopg.Connection, schemas: list[str], excluded: list[str]) -> dict[str, str]:
    objects: dict[str, str] = {}
    for kind, query in _QUERIES.items():
        for name, definition in conn.execute(query, {"schemas": schemas, "excluded": excluded}):
            objects[f"{kind} {name}"] = str(definition)
    return objects


def compare_schemas(source: psycopg.Connection, target: psycopg.Connection, schemas: list[str],
                    excluded: list[str], sequences: list[Sequence]) -> SchemaDiff:
    src = schema_objects(source, schemas, excluded)
    dst = schema_objects(target, schemas, excluded)
    diff = SchemaDiff(compared=len(src))
    for name, definition in sorted(src.items()):
        if name not in dst:
            diff.missing.append(f"{name}: {definition}")
        elif dst[name] != definition:
            diff.different.append(f"{name}: source {definition!r}, target {dst[name]!r}")
    diff.extra = [f"{name}: {dst[name]}" for name in sorted(dst) if name not in src]
    src_values = sequence_values(source, sequences)
    dst_values = _target_sequence_values(target, sequences)
    for key, value in sorted(src_values.items()):
        if dst_values.get(key) is not None and dst_values[key] != value:
            diff.different.append(f"sequence value {key}: source {_seq(value)}, target {_seq(dst_values[key])}")
    return diff


def _target_sequence_values(conn: psycopg.Connection, sequences: list[Sequence]) -> dict[str, tuple[int, bool]]:
    present = {f"{s}.{n}" for s, n in conn.execute(
        "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind = 'S'")}
    return sequence_values(conn, [s for s in sequences if s.key in present])


def _seq(value: tuple[int, bool]) -> str:
    return f"{value[0]}{'' if value[1] else ' (not called)'}"
