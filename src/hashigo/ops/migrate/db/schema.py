"""Schema: pg_dump's pre-data before the copy, post-data (indexes, constraints, triggers) after it.

One schema-only archive (custom format, a few kB to MB, no rows) is written next to the journal,
so a resumed run restores post-data from the same dump its copy started from. Entries that
cannot exist on the target are left out and listed: extensions (created here, by name, so a
missing one is reported clearly), event triggers, and foreign keys, policies and triggers that
point into excluded (Supabase-managed) schemas.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from hashigo.ops.migrate.db.catalog import Catalog, quote_ident
from hashigo.ops.migrate.db.endpoints import Endpoint
from hashigo.ops.migrate.db.errors import MigrateDbError
from hashigo.ops.migrate.db.pgtools import ClientTools, error_lines, run_tool
from hashigo.ops.migrate.db.progress import Reporter

_TOC_LINE = re.compile(r"^(\d+); (\d+) (\d+) (.*)$")
_ALWAYS_SKIPPED_TYPES = ("EXTENSION ", "EVENT TRIGGER ", "PUBLICATION", "SUBSCRIPTION")
_EXISTS = re.compile(r"already exists|multiple primary keys for table")

PG_CONSTRAINT, PG_POLICY, PG_TRIGGER = 2606, 3256, 2620


@dataclass(frozen=True)
class TocEntry:
    line: str
    dump_id: int
    class_oid: int
    object_oid: int
    description: str  # "TYPE schema name owner"

    @property
    def is_extension_comment(self) -> bool:
        return self.description.startswith("COMMENT - EXTENSION ")


@dataclass
class RestoreResult:
    entries: int = 0
    tolerated: list[str] = field(default_factory=list)  # "already exists" on a resumed/existing target
    skipped: list[str] = field(default_factory=list)


def dump_schema(tools: ClientTools, source: Endpoint, archive: Path, catalog: Catalog, snapshot: str | None) -> None:
    argv = [tools.pg_dump, "--schema-only", "--format=custom", "--no-publications", "--no-subscriptions",
            "--no-security-labels", "--no-tablespaces", f"--file={archive}", f"--dbname={source.url}"]
    argv += [f"--exclude-schema={name}" for name in catalog.excluded_present]
    if snapshot:
        argv.append(f"--snapshot={snapshot}")
    code, lines = run_tool(argv, source)
    if code != 0:
        shown = error_lines(lines) or lines[-3:]
        raise MigrateDbError("pg_dump --schema-only failed on the source: " + " | ".join(shown))


def toc(tools: ClientTools, archive: Path, source: Endpoint) -> list[TocEntry]:
    code, _ = run_tool([tools.pg_restore, "--list", f"--file={archive}.list", str(archive)], source)
    if code != 0:
        raise MigrateDbError(f"pg_restore --list could not read {archive}")
    entries = []
    for line in Path(f"{archive}.list").read_text().splitlines():
        match = _TOC_LINE.match(line)
        if match:
            entries.append(TocEntry(line, int(match[1]), int(match[2]), int(match[3]), match[4]))
    return entries


def unreachable_objects(conn: psycopg.Connection, excluded: list[str]) -> dict[tuple[int, int], str]:
    """(catalog oid, object oid) of objects that reference excluded schemas, with the reason."""
    found: dict[tuple[int, int], str] = {}
    pattern = r"(^|[^a-z0-9_])(" + "|".join(re.escape(s) for s in excluded) + r")\." if excluded else r"$^"
    for oid, text in conn.execute("""
        SELECT c.oid, c.conrelid::regclass::text || ' → ' || c.confrelid::regclass::text
        FROM pg_constraint c JOIN pg_class r ON r.oid = c.confrelid JOIN pg_namespace n ON n.oid = r.relnamespace
        WHERE c.contype = 'f' AND n.nspname = ANY(%s)""", (excluded,)):
        found[(PG_CONSTRAINT, oid)] = f"foreign key {text} (excluded schema)"
    for oid, text in conn.execute("""
        SELECT p.oid, p.polname || ' on ' || p.polrelid::regclass::text FROM pg_policy p
        WHERE coalesce(pg_get_expr(p.polqual, p.polrelid), '') || ' ' ||
              coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '') ~* %s""", (pattern,)):
        found[(PG_POLICY, oid)] = f"policy {text} (uses an excluded schema)"
    for oid, text in conn.execute("""
        SELECT t.oid, t.tgname || ' on ' || t.tgrelid::regclass::text FROM pg_trigger t
        JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE NOT t.tgisinternal AND n.nspname = ANY(%s)""", (excluded,)):
        found[(PG_TRIGGER, oid)] = f"trigger {text} (calls a function in an excluded schema)"
    return found


def write_use_list(entries: list[TocEntry], unreachable: dict[tuple[int, int], str], path: Path) -> list[str]:
    """Write pg_restore's --use-list without the entries that cannot be restored; return what was left out."""
    kept, skipped = [], []
    for entry in entries:
        reason = unreachable.get((entry.class_oid, entry.object_oid))
        if entry.description.startswith(_ALWAYS_SKIPPED_TYPES) or entry.is_extension_comment:
            if entry.description.startswith("EVENT TRIGGER "):
                skipped.append(f"{entry.description.rsplit(' ', 1)[0]} (event triggers need a superuser)")
            continue
        if reason:
            skipped.append(reason)
            continue
        kept.append(entry.line)
    path.write_text("\n".join(kept) + "\n")
    return skipped


def create_extensions(conn: psycopg.Connection, catalog: Catalog) -> list[str]:
    """Create the source's extensions on the target, in the same schemas; return the names created."""
    created = []
    present = {r[0] for r in conn.execute("SELECT extname FROM pg_extension")}
    available = {r[0] for r in conn.execute("SELECT name FROM pg_available_extensions")}
    missing = sorted(n for n in catalog.extensions if n not in present and n not in available)
    if missing:
        raise MigrateDbError(f"extension(s) {', '.join(missing)} used by the source are not available on the target; "
                             f"install them there (or ask the provider) and run again")
    for name, (schema, _version) in catalog.extensions.items():
        if name in present:
            continue
        try:
            with conn.transaction():
                conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}")
                conn.execute(f"CREATE EXTENSION IF NOT EXISTS {quote_ident(name)} WITH SCHEMA {quote_ident(schema)}")
        except psycopg.Error as exc:
            raise MigrateDbError(f"cannot create extension {name} on the target: {str(exc).splitlines()[0]} (managed "
                                 f"servers allow only their listed extensions; some need the admin role)") from None
        created.append(name)
    return created


def restore_pre_data(tools: ClientTools, target: Endpoint, archive: Path, use_list: Path, *,
                     tolerate_existing: bool, reporter: Reporter) -> RestoreResult:
    """pg_restore the pre-data section, as one transaction unless objects may exist already."""
    entries = sum(1 for line in use_list.read_text().splitlines() if line and not line.startswith(";"))
    result = RestoreResult(entries=entries)
    argv = [tools.pg_restore, "--section=pre-data", "--no-owner", "--no-privileges", "--no-publications",
            "--no-subscriptions", "--no-security-labels", "--no-tablespaces", "--verbose",
            f"--use-list={use_list}", f"--dbname={target.url}", str(archive)]
    if not tolerate_existing:
        argv[1:1] = ["--exit-on-error", "--single-transaction"]  # all or nothing: a kill leaves an empty target

    def on_line(line: str) -> None:
        if ": creating " in line:
            reporter.advance("schema", 1)

    code, lines = run_tool(argv, target, on_line=on_line)
    errors = _statement_errors(lines)
    fatal = [e for e in errors if not (tolerate_existing and _EXISTS.search(e))]
    result.tolerated = [e for e in errors if e not in fatal]
    if fatal or (code != 0 and not errors):
        shown = fatal or error_lines(lines) or lines[-3:]
        raise MigrateDbError("pg_restore --section=pre-data failed on the target: " + " | ".join(shown[:6]))
    return result


def _statement_errors(lines: list[str]) -> list[str]:
    return [line.split("ERROR:", 1)[1].strip() for line in lines if "ERROR:" in line]
