"""SQLite file → PostgreSQL: schema from hashigo's Alembic migrations (its own database) or translated,
rows through COPY, verify by loading the SQLite rows into a temporary table and hashing both there."""

from __future__ import annotations

import os
import stat
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg

from hashigo.ops.migrate.db import loadprep
from hashigo.ops.migrate.db import preflight as checks
from hashigo.ops.migrate.db.catalog import Table, quote_ident, read_catalog, user_relations
from hashigo.ops.migrate.db.endpoints import Endpoint, connect
from hashigo.ops.migrate.db.errors import BadInput, MigrateDbError
from hashigo.ops.migrate.db.journal import Journal, default_journal_path
from hashigo.ops.migrate.db.progress import Reporter
from hashigo.ops.migrate.db.reports import VerifyReport
from hashigo.ops.migrate.db.runner import Options
from hashigo.ops.migrate.db.schema_compare import SchemaDiff
from hashigo.ops.migrate.db.sqlite_schema import (
    SqliteTable,
    create_table_sql,
    open_readonly,
    post_data_sql,
    read_tables,
)
from hashigo.ops.migrate.db.sqlite_values import row_converter
from hashigo.ops.migrate.db.units import Unit
from hashigo.ops.migrate.db.verify import RowDiff, UnitCheck, row_hash_expr

_TEMP = "hashigo_sqlite_rows"


@dataclass(frozen=True)
class Loaded:
    rows: int


class SqliteMigration:
    def __init__(self, source: Endpoint, target: Endpoint, options: Options, reporter: Reporter) -> None:
        assert source.sqlite_path is not None
        self.source, self.target, self.options, self.reporter = source, target, options, reporter
        path = options.journal or default_journal_path(source, target, options.data_dir / "migrate")
        self.journal = Journal.open(path, source, target)
        self.path = source.sqlite_path

    def close(self) -> None:
        self.journal.close()

    def _tables(self) -> list[SqliteTable]:
        conn = open_readonly(self.path)
        try:
            return read_tables(conn)
        finally:
            conn.close()

    def alembic_revision(self) -> str | None:
        """hashigo's own schema revision in the file, if it is a hashigo database."""
        from hashigo.db import migrate_schema

        conn = open_readonly(self.path)
        try:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        except Exception:  # no such table: not managed by Alembic
            return None
        finally:
            conn.close()
        revision = str(row[0]) if row else None
        return revision if revision in migrate_schema.known_revisions() else None

    # preflight ---------------------------------------------------------------
    def preflight(self) -> checks.PreflightReport:
        report = checks.PreflightReport()
        tables = self._tables()
        revision = self.alembic_revision()
        with connect(self.target) as dst:
            version = int(dst.info.server_version) // 10000
            report.add("versions", checks.OK, f"source SQLite file {self.path.name}, target PostgreSQL {version}")
            report.add("schema", checks.INFO, f"hashigo's Alembic migrations up to {revision}" if revision else
                       "translated from the SQLite declarations (VARCHAR(n)→varchar(n), DATETIME→timestamp, …)")
            no_pk = [t.name for t in tables if not t.pk]
            report.add("primary keys", checks.WARN if no_pk else checks.OK,
                       f"without one (verified as a whole): {', '.join(no_pk)}" if no_pk else "every table has one")
            report.add("size", checks.INFO, f"{self.path.stat().st_size / 1e6:.1f} MB, {len(tables)} tables")
            checks.check_target_privileges(report, ["public"], dst)
            checks.check_target_empty(report, dst, [], into_existing=self.options.into_existing,
                                      resuming=self.journal.step_done("schema-pre"))
        return report

    # schema ------------------------------------------------------------------
    def schema_pre(self) -> dict[str, Any]:
        if self.journal.step_done("schema-pre"):
            return {"step": "schema-pre", "skipped": "done in an earlier run"}
        with connect(self.target) as dst:
            found = user_relations(dst, [])
            if found and not self.options.into_existing:
                raise BadInput(f"the target is not empty ({', '.join(found[:5])}…); use an empty database or pass "
                               f"--into-existing")
        revision = self.alembic_revision()
        notes: list[str] = []
        if revision:
            self._alembic_upgrade(revision)
        else:
            tables = self._tables()
            with connect(self.target) as dst, dst.transaction():
                for table in tables:
                    dst.execute(create_table_sql(table))
                    notes += table.notes
        self.journal.mark_step("schema-pre", revision or "translated")
        return {"step": "schema-pre", "schema_from": f"alembic {revision}" if revision else "type translation",
                "notes": notes}

    def _alembic_upgrade(self, revision: str) -> None:
        from hashigo.db import migrate_schema
        from hashigo.settings import DatabaseSettings
        from hashigo.urls import normalise_database_url

        try:
            url = normalise_database_url(self.target.original, name="target")
            migrate_schema.upgrade(DatabaseSettings(url=url), revision)
        except Exception as exc:
            raise MigrateDbError(f"running hashigo's migrations (to {revision}) on the target: "
                                 f"{str(exc).splitlines()[0]}") from None

    def post_data(self) -> dict[str, Any]:
        if self.journal.step_done("post-data"):
            return {"step": "post-data", "skipped": "done in an earlier run"}
        statements: list[str] = []
        if not self.alembic_revision():  # Alembic's migrations made the indexes and keys already
            tables = self._tables()
            pk_of = {t.name: t.pk for t in tables}
            for table in tables:
                statements += post_data_sql(table, pk_of)
        notes = []
        with connect(self.target) as dst:
            for statement in statements:
                try:
                    with dst.transaction():
                        dst.execute(statement)
                except psycopg.errors.ForeignKeyViolation as exc:
                    # SQLite does not enforce foreign keys unless asked: keep the rule for new rows.
                    with dst.transaction():
                        dst.execute(statement + " NOT VALID")
                    notes.append(f"added NOT VALID, existing rows break it: {str(exc).splitlines()[0]}")
                except psycopg.errors.DuplicateObject:
                    pass  # a resumed run created it already
                except psycopg.errors.DuplicateTable:
                    pass
            sequences = _reset_owned_sequences(dst)
        self.journal.mark_step("post-data")
        return {"step": "post-data", "statements": len(statements), "sequences_set": sequences, "notes": notes}

    # copy --------------------------------------------------------------------
    def _target_tables(self, dst: psycopg.Connection) -> dict[str, Table]:
        return {t.name: t for t in read_catalog(dst, []).data_tables if t.schema == "public"}

    def copy(self) -> dict[str, Any]:
        if not self.journal.step_done("schema-pre"):
            raise BadInput("the target has no schema from this migration yet: run `schema` first (or `run`)")
        tables = self._tables()
        with connect(self.target) as dst:
            targets = self._target_tables(dst)
            missing = [t.name for t in tables if t.name not in targets]
            if missing:
                raise MigrateDbError(f"tables of the SQLite file missing on the target: {', '.join(missing)}")
            self.journal.plan_units([(t.name, f"public.{t.name}", None, None) for t in tables])
            done = {r.id for r in self.journal.units() if r.state == "done"}
            todo = [t for t in tables if t.name not in done]
            loadprep.prepare(dst, self.journal, [f"public.{t.name}" for t in todo])
        started = time.monotonic()
        self.reporter.phase("copy", len(todo), in_bytes=False)
        with ThreadPoolExecutor(max_workers=self.options.jobs) as pool:
            loaded = list(pool.map(lambda t: self._copy_table(t, targets[t.name]), todo))
        self.reporter.end_phase()
        with connect(self.target) as dst:
            loadprep.restore(dst, self.journal)
        self.journal.mark_step("copy")
        return {"step": "copy", "tables": len(tables), "copied_tables": len(todo), "rows": sum(x.rows for x in loaded),
                "seconds": round(time.monotonic() - started, 3)}

    def _copy_table(self, table: SqliteTable, target: Table) -> Loaded:
        try:
            with connect(self.target) as dst, dst.transaction(), dst.cursor() as cur:
                self.journal.set_unit(table.name, "started")
                cur.execute(f"TRUNCATE ONLY {target.qname}")
                rows = self._write_rows(cur, target.qname, table, target)
        except (psycopg.Error, UnicodeDecodeError, ValueError) as exc:
            raise MigrateDbError(f"copy of {table.name}: {str(exc).splitlines()[0]}") from None
        self.journal.set_unit(table.name, "done", rows)
        self.reporter.advance("copy", 1)
        return Loaded(rows)

    def _write_rows(self, cur: psycopg.Cursor[Any], relation: str, table: SqliteTable, target: Table) -> int:
        """COPY the SQLite table's rows, converted for the target's column types, into ``relation``."""
        names = [c.name for c in table.columns]
        by_name = {c.name: c for c in target.columns}
        absent = [n for n in names if n not in by_name]
        if absent:
            raise MigrateDbError(f"columns of {table.name} missing on the target: {', '.join(absent)}")
        convert = row_converter([by_name[n].type_sql for n in names])
        columns = ", ".join(quote_ident(n) for n in names)
        source = open_readonly(self.path)
        rows = 0
        try:
            with cur.copy(f"COPY {relation} ({columns}) FROM STDIN") as sink:
                for row in source.execute(f"SELECT {columns} FROM {quote_ident(table.name)}"):
                    sink.write_row(convert(row))
                    rows += 1
        finally:
            source.close()
        return rows

    # verify ------------------------------------------------------------------
    def verify(self) -> VerifyReport:
        started = time.monotonic()
        tables = self._tables()
        with connect(self.target) as dst:
            targets = self._target_tables(dst)
        schema = SchemaDiff(compared=len(tables))
        schema.missing = [f"table {t.name}" for t in tables if t.name not in targets]
        present = [t for t in tables if t.name in targets]
        self.reporter.phase("verify", len(present), in_bytes=False)
        with ThreadPoolExecutor(max_workers=self.options.jobs) as pool:
            results = list(pool.map(lambda t: self._verify_table(t, targets[t.name]), present))
        self.reporter.end_phase()
        report = VerifyReport([check for check, _ in results], schema)
        report.drills = {check.unit.label: diff for check, diff in results if diff is not None}
        report.seconds = time.monotonic() - started
        self.journal.mark_step("verify", "ok" if report.ok else "differences")
        return report

    def _verify_table(self, table: SqliteTable, target: Table) -> tuple[UnitCheck, RowDiff | None]:
        """Load the SQLite rows into a temporary copy of the target table; hash both on the server."""
        expr = row_hash_expr(target, modern=True)
        unit = Unit(f"public.{table.name}", target)
        try:
            with connect(self.target) as dst, dst.transaction(), dst.cursor() as cur:
                cur.execute(f"CREATE TEMP TABLE {_TEMP} (LIKE {target.qname}) ON COMMIT DROP")
                self._write_rows(cur, _TEMP, table, target)
                sums = {}
                for name, relation in (("source", _TEMP), ("target", f"ONLY {target.qname}")):
                    row = cur.execute(f"SELECT count(*), coalesce(sum({expr}), 0)::text FROM {relation}").fetchone()
                    assert row is not None
                    sums[name] = (int(row[0]), str(row[1]))
                check = UnitCheck(unit, *sums["source"], *sums["target"])
                diff = None if check.ok else _drill(cur, target, expr)
        except (psycopg.Error, UnicodeDecodeError, ValueError) as exc:
            raise MigrateDbError(f"verify of {table.name}: {str(exc).splitlines()[0]}") from None
        self.reporter.advance("verify", 1)
        return check, diff

    # all of it ---------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        started = time.monotonic()
        report = self.preflight()
        if report.blockers:
            raise checks_blocked(report)
        steps: dict[str, Any] = {"preflight": report.as_dict(), "schema_pre": self.schema_pre(),
                                 "copy": self.copy(), "post_data": self.post_data()}
        verified = self.verify()
        steps["verify"] = verified.as_dict()
        return {"ok": verified.ok, "seconds": round(time.monotonic() - started, 3), "steps": steps,
                "journal": str(self.journal.path), "verify_report": verified}

    # cutover: the file loses its write permission (new openers cannot write) --------
    def cutover(self, *, sessions: str, wait_seconds: float, show_password: bool) -> dict[str, Any]:
        for step in ("copy", "post-data"):
            if not self.journal.step_done(step):
                raise BadInput(f"no completed `{step}` in journal {self.journal.path}: run `hashigo migrate db run`")
        mode = stat.S_IMODE(self.path.stat().st_mode)
        if self.journal.load("cutover") is None:
            self.journal.save("cutover", {"mode": mode, "at": datetime.now(UTC).isoformat(timespec="seconds")})
        os.chmod(self.path, mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        first = self.verify()
        recopied = [c.unit.table.name for c in first.checks if not c.ok]
        if recopied:
            self.journal.reset_units(recopied)
            self.journal.clear_step("copy")
            self.copy()
            with connect(self.target) as dst:
                _reset_owned_sequences(dst)
        final = self.verify() if recopied else first
        if final.ok:
            self.journal.mark_step("cutover")
        return {"ok": final.ok, "source_read_only": True, "sessions_ended": 0, "recopied_units": recopied,
                "verify": final.as_dict(), "seconds": 0.0, "verify_report": final,
                "note": "processes that opened the SQLite file before the cutover can still write to it: stop them",
                "env": {"set": f"DATABASE_URL={self.target.app_database_url(show_password=show_password)}",
                        "was": f"DATABASE_URL={self.source.app_database_url(show_password=False)}"}}

    def rollback(self, *, sessions: str, wait_seconds: float, show_password: bool) -> dict[str, Any]:
        saved = self.journal.load("cutover")
        if saved is None:
            raise BadInput(f"no cutover recorded in journal {self.journal.path}; the SQLite file was left as it is")
        os.chmod(self.path, int(saved["mode"]))
        self.journal.forget("cutover")
        self.journal.clear_step("cutover")
        back = self.source.app_database_url(show_password=False)
        was = self.target.app_database_url(show_password=show_password)
        return {"ok": True, "source_read_only": False, "restored_setting": f"file mode {int(saved['mode']):o}",
                "sessions_ended": 0, "env": {"set": f"DATABASE_URL={back}", "was": f"DATABASE_URL={was}"}}


def checks_blocked(report: checks.PreflightReport) -> MigrateDbError:
    from hashigo.ops.migrate.db.errors import PreflightBlocked

    return PreflightBlocked("preflight: " + "; ".join(f"{c.name}: {c.detail}" for c in report.blockers))


def _drill(cur: psycopg.Cursor[Any], target: Table, expr: str) -> RowDiff:
    if not target.pk:
        return RowDiff(note="no primary key: rows differ, but cannot be named one by one")
    key = " || ', ' || ".join(f"coalesce({quote_ident(c)}::text, 'NULL')" for c in target.pk)
    rows = cur.execute(f"""
        SELECT coalesce(s.k, t.k), s.h IS NULL, t.h IS NULL
        FROM (SELECT {key} AS k, {expr} AS h FROM {_TEMP}) s
        FULL JOIN (SELECT {key} AS k, {expr} AS h FROM ONLY {target.qname}) t ON s.k = t.k
        WHERE s.h IS DISTINCT FROM t.h ORDER BY 1 LIMIT 60""").fetchall()
    diff = RowDiff()
    for key_text, only_target, only_source in rows:
        (diff.only_target if only_target else diff.only_source if only_source else diff.changed).append(str(key_text))
    return diff


def _reset_owned_sequences(dst: psycopg.Connection) -> int:
    """Sequences behind serial/identity columns continue after the highest copied value."""
    owned = dst.execute("""
        SELECT format('%I.%I', sn.nspname, s.relname), format('%I.%I', tn.nspname, t.relname), quote_ident(a.attname)
        FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
        JOIN pg_namespace sn ON sn.oid = s.relnamespace
        JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = t.relnamespace
        JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
        WHERE d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') AND tn.nspname = 'public'""").fetchall()
    for sequence, table, column in owned:
        dst.execute(f"SELECT setval('{sequence}', coalesce((SELECT max({column}) FROM {table}), 1), "
                    f"(SELECT max({column}) FROM {table}) IS NOT NULL)")
    return len(owned)
