"""Cutover and rollback: the only time the source is touched, and always reversibly.

Read-only switch: `ALTER DATABASE … SET default_transaction_read_only = on` (what the
database had before is saved in the journal first, so rollback restores exactly that). The
setting only reaches new sessions, and an app's pool keeps its sessions for up to
pool_recycle — so by default the other sessions on the source are ended (they roll back
what was in flight, reconnect, and come back read-only); writes then fail loudly instead of
landing on a database that is being left. `--sessions wait` waits for them to leave instead.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import psycopg

from hashigo.ops.migrate.db import finish, loadprep
from hashigo.ops.migrate.db.catalog import quote_ident, sql_literal
from hashigo.ops.migrate.db.copy import Copier
from hashigo.ops.migrate.db.endpoints import APPLICATION_NAME, Endpoint, connect
from hashigo.ops.migrate.db.errors import BadInput, MigrateDbError
from hashigo.ops.migrate.db.runner import Migration

READ_ONLY = "default_transaction_read_only"
SAVED = "cutover"


def database_setting(conn: psycopg.Connection) -> str | None:
    """The database-level default_transaction_read_only, or None when the database sets none."""
    row = conn.execute("""
        SELECT s.setconfig FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase
        WHERE d.datname = current_database() AND s.setrole = 0""").fetchone()
    for item in (row[0] if row else None) or []:
        name, _, value = str(item).partition("=")
        if name == READ_ONLY:
            return value
    return None


def other_sessions(conn: psycopg.Connection) -> list[dict[str, Any]]:
    rows = conn.execute("""
        SELECT pid, usename, application_name, coalesce(client_addr::text, 'local'), state
        FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
          AND application_name <> %s ORDER BY pid""", (APPLICATION_NAME,)).fetchall()
    return [{"pid": r[0], "user": r[1], "application": r[2], "client": r[3], "state": r[4]} for r in rows]


def end_sessions(conn: psycopg.Connection, mode: str, wait_seconds: float) -> tuple[int, list[dict[str, Any]]]:
    """End (or wait out) the other sessions; return how many were ended and who is still there."""
    ended = 0
    if mode == "terminate":
        for session in other_sessions(conn):
            try:
                row = conn.execute("SELECT pg_terminate_backend(%s)", (session["pid"],)).fetchone()
                ended += bool(row and row[0])
            except psycopg.errors.InsufficientPrivilege:
                pass  # listed below if it does not leave by itself
    deadline = time.monotonic() + wait_seconds
    remaining = other_sessions(conn)
    while remaining and time.monotonic() < deadline:
        time.sleep(0.5)
        remaining = other_sessions(conn)
    return ended, remaining


def _admin(source: Endpoint) -> psycopg.Connection:
    conn = connect(source)
    conn.execute("SET default_transaction_read_only = off")  # our own session must be able to ALTER
    return conn


def _env_lines(migration: Migration, to: Endpoint, came_from: Endpoint, show_password: bool) -> dict[str, str]:
    scheme = migration.source.original.split("://", 1)[0] if migration.source.is_postgres else "postgresql"
    return {"set": f"DATABASE_URL={to.app_database_url(show_password=show_password, scheme=scheme)}",
            "was": f"DATABASE_URL={came_from.app_database_url(show_password=show_password, scheme=scheme)}"}


def cutover(migration: Migration, *, sessions: str, wait_seconds: float, show_password: bool) -> dict[str, Any]:
    journal = migration.journal
    for step in ("copy", "post-data"):
        if not journal.step_done(step):
            raise BadInput(f"no completed `{step}` in journal {journal.path}: run `hashigo migrate db run` first")
    started = time.monotonic()
    with _admin(migration.source) as admin:
        if journal.load(SAVED) is None:
            journal.save(SAVED, {"previous": database_setting(admin), "database": migration.source.dbname,
                                 "at": datetime.now(UTC).isoformat(timespec="seconds")})
        try:
            admin.execute(f"ALTER DATABASE {quote_ident(migration.source.dbname)} SET {READ_ONLY} = on")
        except psycopg.errors.InsufficientPrivilege as exc:
            journal.forget(SAVED)
            raise MigrateDbError(f"cannot switch the source read-only: {str(exc).splitlines()[0]} (ALTER DATABASE "
                                 f"needs the database owner)") from None
        ended, remaining = end_sessions(admin, sessions, wait_seconds)
    if remaining:
        who = ", ".join(f"pid {s['pid']} ({s['user']}, {s['application'] or 'no name'})" for s in remaining[:5])
        raise MigrateDbError(f"the source is read-only for new sessions, but {len(remaining)} session(s) opened before "
                             f"are still connected and could write: {who}; end them, or run `rollback`")
    recopied = _copy_changes(migration)
    final = migration.verify()
    result: dict[str, Any] = {
        "ok": final.ok, "source_read_only": True, "sessions_ended": ended, "recopied_units": recopied,
        "verify": final.as_dict(), "seconds": round(time.monotonic() - started, 3),
        "env": _env_lines(migration, migration.target, migration.source, show_password),
        "verify_report": final,
    }
    if final.ok:
        journal.mark_step("cutover")
    return result


def _copy_changes(migration: Migration) -> list[str]:
    """Re-hash every unit on both sides; re-copy those that differ (the source no longer changes)."""
    checks = migration.hash_units()
    if checks.schema_changed:
        raise MigrateDbError("the source schema changed since the copy: " + "; ".join(checks.schema_changed[:5])
                             + " — apply the change to the target too, or run `rollback`")
    differing = [c.unit for c in checks.units if not c.ok]
    with connect(migration.target) as dst, connect(migration.source, read_only=True) as src:
        catalog = migration.catalog(src)
        if differing:
            loadprep.prepare(dst, migration.journal, sorted({u.table.key for u in differing}))
            migration.reporter.phase("re-copy changes", sum(u.est_bytes for u in differing), in_bytes=True)
            Copier(migration.source, migration.target, jobs=migration.options.jobs,
                   binary=catalog.server_version // 10000 == int(dst.info.server_version) // 10000,
                   journal=None, reporter=migration.reporter).run(differing, dirty={u.id for u in differing})
            migration.reporter.end_phase()
            loadprep.restore(dst, migration.journal)
            finish.refresh_materialized_views(src, dst, catalog.schemas)
        finish.copy_sequences(src, dst, catalog)
    return [u.label for u in differing]


def rollback(migration: Migration, *, sessions: str, wait_seconds: float, show_password: bool) -> dict[str, Any]:
    journal = migration.journal
    saved = journal.load(SAVED)
    with _admin(migration.source) as admin:
        current = database_setting(admin)
        if saved is None:
            state = "read-only (set by someone else?)" if current == "on" else "writable"
            raise BadInput(f"no cutover recorded in journal {journal.path}; the source is {state} and was left "
                           f"as it is")
        database = quote_ident(migration.source.dbname)
        previous = saved["previous"]
        if previous is None:
            admin.execute(f"ALTER DATABASE {database} RESET {READ_ONLY}")
        else:
            admin.execute(f"ALTER DATABASE {database} SET {READ_ONLY} = {sql_literal(previous)}")
        # Sessions opened during the cutover started read-only; ending them lets the app reconnect writable.
        ended, _ = end_sessions(admin, sessions, 0) if sessions == "terminate" else (0, [])
    journal.forget(SAVED)
    journal.clear_step("cutover")
    return {"ok": True, "source_read_only": previous == "on", "restored_setting": previous or "(none: RESET)",
            "sessions_ended": ended, "env": _env_lines(migration, migration.source, migration.target, show_password)}
