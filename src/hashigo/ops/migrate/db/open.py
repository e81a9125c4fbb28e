"""Pick the migration for a source: PostgreSQL (pg_dump + COPY) or a SQLite file."""

from __future__ import annotations

from hashigo.ops.migrate.db.endpoints import parse_endpoint
from hashigo.ops.migrate.db.progress import Reporter
from hashigo.ops.migrate.db.runner import Migration, Options


def open_migration(source_url: str, target_url: str, options: Options, reporter: Reporter) -> Migration:
    source = parse_endpoint(source_url, "source")
    target = parse_endpoint(target_url, "target")
    return Migration(source, target, options, reporter)
