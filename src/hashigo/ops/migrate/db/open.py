"""Pick the migration for a source: PostgreSQL (pg_dump + COPY) or a SQLite file."""

from __future__ import annotations

from hashigo.ops.migrate.db.endpoints import parse_endpoint
from hashigo.ops.migrate.db.progress import Reporter
from hashigo.ops.migrate.db.runner import Migration, Options
from hashigo.ops.migrate.db.sqlite_migration import SqliteMigration


def open_migration(source_url: str, target_url: str, options: Options,
                   reporter: Reporter) -> Migration | SqliteMigration:
    source = parse_endpoint(source_url, "source")
    target = parse_endpoint(target_url, "target")
    if source.kind == "sqlite":
        return SqliteMigration(source, target, options, reporter)
    return Migration(source, target, options, reporter)
