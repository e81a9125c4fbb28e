"""Make target tables loadable again once the schema is complete (cutover re-copy, --into-existing).

Foreign keys are dropped and re-added (re-adding validates every row, so nothing inconsistent
slips in), and enabled user triggers are disabled by name and re-enabled by name afterwards,
so a trigger that stamps `updated_at` does not rewrite copied rows. Everything dropped is
written to the journal first: a run killed in between puts it back on the next run.
"""

from __future__ import annotations

import psycopg

from hashigo.ops.migrate.db.catalog import qualified, quote_ident
from hashigo.ops.migrate.db.errors import MigrateDbError
from hashigo.ops.migrate.db.journal import Journal

_SAVED = "load_preparation"


def prepare(target: psycopg.Connection, journal: Journal, table_keys: list[str]) -> None:
    """Drop foreign keys touching these tables and disable their enabled user triggers."""
    restore(target, journal)  # a previous run may have stopped half-way
    if not table_keys:
        return
    fks = target.execute("""
        SELECT n.nspname, c.relname, k.conname, pg_get_constraintdef(k.oid)
        FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_class fc ON fc.oid = k.confrelid JOIN pg_namespace fn ON fn.oid = fc.relnamespace
        WHERE k.contype = 'f' AND (n.nspname || '.' || c.relname = ANY(%(t)s)
                                   OR fn.nspname || '.' || fc.relname = ANY(%(t)s))
        ORDER BY 1, 2, 3""", {"t": table_keys}).fetchall()
    triggers = target.execute("""
        SELECT n.nspname, c.relname, t.tgname, t.tgenabled::text FROM pg_trigger t
        JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE NOT t.tgisinternal AND t.tgenabled <> 'D' AND n.nspname || '.' || c.relname = ANY(%s)
        ORDER BY 1, 2, 3""", (table_keys,)).fetchall()
    saved = {"foreign_keys": [list(r) for r in fks], "triggers": [list(r) for r in triggers]}
    journal.save(_SAVED, saved)
    try:
        with target.transaction():
            for schema, table, name, _definition in fks:
                target.execute(f"ALTER TABLE {qualified(schema, table)} DROP CONSTRAINT {quote_ident(name)}")
            for schema, table, name, _mode in triggers:
                target.execute(f"ALTER TABLE {qualified(schema, table)} DISABLE TRIGGER {quote_ident(name)}")
    except psycopg.Error as exc:
        journal.forget(_SAVED)
        raise MigrateDbError(f"preparing target tables for loading: {str(exc).splitlines()[0]} "
                             f"(the target user must own the tables)") from None


def restore(target: psycopg.Connection, journal: Journal) -> None:
    """Re-add the dropped foreign keys (validated) and re-enable the disabled triggers."""
    saved = journal.load(_SAVED)
    if not saved:
        return
    try:
        with target.transaction():
            for schema, table, name, definition in saved["foreign_keys"]:
                exists = target.execute(
                    "SELECT 1 FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s "
                    "AND k.conname = %s", (schema, table, name)).fetchone()
                if not exists:
                    target.execute(f"ALTER TABLE {qualified(schema, table)} ADD CONSTRAINT {quote_ident(name)} "
                                   f"{definition}")
            for schema, table, name, mode in saved["triggers"]:
                how = {"A": "ENABLE ALWAYS", "R": "ENABLE REPLICA"}.get(mode, "ENABLE")
                target.execute(f"ALTER TABLE {qualified(schema, table)} {how} TRIGGER {quote_ident(name)}")
    except psycopg.Error as exc:
        raise MigrateDbError(f"restoring foreign keys/triggers on the target: {str(exc).splitlines()[0]}; "
                             f"the definitions are kept in the journal and are put back on the next run") from None
    journal.forget(_SAVED)
