"""After the rows: sequence values and materialized views, which pg_dump's schema does not carry."""

from __future__ import annotations

import psycopg

from hashigo.ops.migrate.db.catalog import Catalog, sequence_values, sql_literal
from hashigo.ops.migrate.db.errors import MigrateDbError


def copy_sequences(source: psycopg.Connection, target: psycopg.Connection, catalog: Catalog) -> int:
    """Give each target sequence the source's last_value and is_called; return how many were set."""
    values = sequence_values(source, catalog.sequences)
    if not values:
        return 0
    statements = [f"SELECT setval({sql_literal(seq.qname)}, {values[seq.key][0]}, {values[seq.key][1]})"
                  for seq in catalog.sequences if seq.key in values]
    try:
        with target.transaction():
            for statement in statements:
                target.execute(statement)
    except psycopg.Error as exc:
        raise MigrateDbError(f"setting sequences on the target: {str(exc).splitlines()[0]}") from None
    return len(statements)


def refresh_materialized_views(source: psycopg.Connection, target: psycopg.Connection, schemas: list[str]) -> int:
    """Fill the materialized views the source has filled, dependencies first (retry until stable)."""
    names = [r[0] for r in source.execute(
        "SELECT format('%%I.%%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind = 'm' AND c.relispopulated AND n.nspname = ANY(%s) ORDER BY c.oid", (schemas,))]
    pending, refreshed = list(names), 0
    while pending:
        failed: list[tuple[str, str]] = []
        for name in pending:
            try:
                with target.transaction():
                    target.execute(f"REFRESH MATERIALIZED VIEW {name}")
                refreshed += 1
            except psycopg.Error as exc:
                failed.append((name, str(exc).splitlines()[0]))
        if len(failed) == len(pending):
            raise MigrateDbError("refreshing materialized views on the target: "
                                 + "; ".join(f"{n}: {m}" for n, m in failed))
        pending = [n for n, _ in failed]
    return refreshed
