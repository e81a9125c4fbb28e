"""Preflight: everything that can be known before a byte moves, as a list of checks."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import psycopg

from hashigo.ops.migrate.db.catalog import Catalog, user_relations
from hashigo.ops.migrate.db.errors import MigrateDbError
from hashigo.ops.migrate.db.pgtools import find_client_tools

OK, WARN, FAIL, INFO = "ok", "warn", "fail", "info"


@dataclass
class Check:
    name: str
    status: str
    detail: str


@dataclass
class PreflightReport:
    checks: list[Check] = field(default_factory=list)
    binary_copy: bool = True
    modern_hash: bool = True

    def add(self, name: str, status: str, detail: str) -> None:
        self.checks.append(Check(name, status, detail))

    @property
    def blockers(self) -> list[Check]:
        return [c for c in self.checks if c.status == FAIL]

    def as_dict(self) -> dict[str, object]:
        return {"ok": not self.blockers, "checks": [asdict(c) for c in self.checks]}


def _major(version_num: int) -> int:
    return version_num // 10000


def _names(items: list[str], limit: int = 8) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def check_versions(report: PreflightReport, catalog: Catalog, target: psycopg.Connection) -> None:
    src, dst = _major(catalog.server_version), _major(int(target.info.server_version))
    try:
        tools = find_client_tools(src)
        report.add("client tools", OK, f"pg_dump/pg_restore {tools.major} in {tools.folder} (source is {src})")
    except MigrateDbError as exc:
        report.add("client tools", FAIL, str(exc))
    if dst < src:
        report.add("versions", WARN, f"source PostgreSQL {src}, target {dst}: moving to an older major version; "
                                     f"the schema may use features the target lacks")
    else:
        report.add("versions", OK, f"source PostgreSQL {src}, target {dst}")
    if min(src, dst) < 11:
        report.add("verify", FAIL, f"verify hashes rows with functions PostgreSQL 11 added; PostgreSQL "
                                   f"{min(src, dst)} is too old (upgrade it in place first)")
    report.binary_copy = src == dst  # binary COPY is only promised to be portable within a major version
    report.modern_hash = min(src, dst) >= 14
    if not report.binary_copy:
        report.add("copy format", INFO, "different major versions: rows travel in COPY text format")


def check_extensions(report: PreflightReport, catalog: Catalog, target: psycopg.Connection) -> None:
    needed = {n: v for n, v in catalog.extensions.items() if n != "plpgsql"}
    if not needed:
        report.add("extensions", OK, "none needed besides plpgsql")
        return
    available = {name: (default, installed) for name, default, installed in target.execute(
        "SELECT name, default_version, installed_version FROM pg_available_extensions")}
    missing = sorted(n for n in needed if n not in available)
    if missing:
        have = _names(sorted(available), 30)
        report.add("extensions", FAIL,
                   f"missing on the target: {', '.join(missing)} (the target offers: {have})")
        return
    notes = []
    for name, (_schema, version) in sorted(needed.items()):
        default, installed = available[name]
        if (installed or default) != version:
            notes.append(f"{name} {version} on the source, {installed or default} on the target")
    detail = f"all available on the target: {', '.join(sorted(needed))}"
    if notes:
        detail += "; versions differ: " + "; ".join(notes)
    report.add("extensions", WARN if notes else OK, detail)


def check_source_privileges(report: PreflightReport, catalog: Catalog, source: psycopg.Connection) -> None:
    oids = [t.oid for t in catalog.tables if t.relkind in ("r", "p", "m")]
    denied = [r[0] for r in source.execute(
        "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.oid = ANY(%s) AND NOT has_table_privilege(c.oid, 'SELECT') ORDER BY 1", (oids,))]
    denied += [r[0] for r in source.execute(
        "SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s) AND NOT has_schema_privilege(oid, 'USAGE')",
        (catalog.schemas,))]
    bypass = source.execute("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user").fetchone()
    rls_blocked = [t.key for t in catalog.tables if t.rls and not (bypass and bypass[0]) and not _owns(source, t.oid)]
    if denied:
        report.add("source privileges", FAIL, f"the source user cannot read: {_names(denied)} "
                                              f"(GRANT SELECT/USAGE to it, or connect as the owner)")
    elif rls_blocked:
        report.add("source privileges", FAIL, f"row-level security would hide rows of {_names(rls_blocked)}: "
                                              f"connect as their owner or a role with BYPASSRLS")
    else:
        report.add("source privileges", OK, f"can read all {len(oids)} tables")
    row = source.execute("""
        SELECT pg_has_role(d.datdba, 'MEMBER') OR r.rolsuper,
               r.rolsuper OR pg_has_role('pg_signal_backend', 'MEMBER')
        FROM pg_database d, pg_roles r WHERE d.datname = current_database() AND r.rolname = current_user""").fetchone()
    owner, signal = row if row else (False, False)
    if not owner:
        report.add("cutover rights", WARN, "the source user does not own the database: cutover cannot switch it "
                                           "read-only (ALTER DATABASE needs the owner)")
    elif not signal:
        report.add("cutover rights", WARN, "the source user cannot end other sessions (pg_signal_backend): "
                                           "cutover will wait for them to disconnect instead")
    else:
        report.add("cutover rights", OK, "can switch the source read-only and end open sessions")


def _owns(conn: psycopg.Connection, oid: int) -> bool:
    row = conn.execute("SELECT pg_has_role(relowner, 'MEMBER') FROM pg_class WHERE oid = %s", (oid,)).fetchone()
    return bool(row and row[0])


def check_target_privileges(report: PreflightReport, schemas: list[str], target: psycopg.Connection) -> None:
    row = target.execute("SELECT has_database_privilege(current_database(), 'CREATE')").fetchone()
    problems = [] if row and row[0] else ["CREATE on the database (to create schemas)"]
    for name, can in target.execute(
            "SELECT nspname, has_schema_privilege(oid, 'CREATE') FROM pg_namespace WHERE nspname = ANY(%s)",
            (schemas,)):
        if not can:
            problems.append(f"CREATE on schema {name}")
    if problems:
        report.add("target privileges", FAIL, "the target user lacks " + "; ".join(problems)
                   + " (GRANT it, or connect as the database owner)")
    else:
        report.add("target privileges", OK, "can create schemas and tables")


def check_shape(report: PreflightReport, catalog: Catalog) -> None:
    data = catalog.data_tables
    total = sum(t.bytes for t in data)
    biggest = sorted(data, key=lambda t: -t.bytes)[:3]
    report.add("size", INFO, f"database {_size(catalog.database_bytes)}; {len(data)} tables with "
                             f"{_size(total)} of rows; largest: "
                             + (", ".join(f"{t.key} {_size(t.bytes)}" for t in biggest) or "none"))
    no_pk = [t.key for t in data if not t.pk]
    if no_pk:
        report.add("primary keys", WARN, f"tables without a primary key are copied whole and verified only as a "
                                         f"whole (no chunks, no per-row report): {_names(no_pk)}")
    else:
        report.add("primary keys", OK, "every table has one")
    report.add("sequences", INFO, f"{len(catalog.sequences)} sequences; values are set on the target after the copy")
    foreign = [t.key for t in catalog.tables if t.relkind == "f"]
    if foreign:
        report.add("foreign tables", WARN, f"definitions only, no rows copied: {_names(foreign)}")
    if catalog.excluded_present:
        report.add("excluded schemas", INFO, f"left out (managed by Supabase): {', '.join(catalog.excluded_present)}; "
                                             f"--include-schema NAME includes one")


def check_target_empty(report: PreflightReport, target: psycopg.Connection, excluded: list[str],
                       *, into_existing: bool, resuming: bool) -> None:
    found = user_relations(target, excluded)
    if not found or resuming:
        report.add("target", OK, "empty" if not found else "holds this migration's earlier work (resuming)")
    elif into_existing:
        report.add("target", WARN, f"not empty ({_names(found)}); --into-existing: tables that receive rows "
                                   f"must be empty")
    else:
        report.add("target", FAIL, f"not empty: {_names(found)}; hashigo does not overwrite a database: use an "
                                   f"empty one, or pass --into-existing to add to it")


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)
