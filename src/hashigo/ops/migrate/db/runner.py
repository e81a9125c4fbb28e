"""One PostgreSQL → PostgreSQL migration: the steps, their order, and what the journal remembers."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from hashigo.ops.migrate.db import preflight as checks
from hashigo.ops.migrate.db import schema, transfer, units
from hashigo.ops.migrate.db.catalog import (
    SUPABASE_SCHEMAS,
    Catalog,
    excluded_schemas,
    read_catalog,
    user_relations,
)
from hashigo.ops.migrate.db.copy import exported_snapshot
from hashigo.ops.migrate.db.endpoints import Endpoint, connect, parse_endpoint
from hashigo.ops.migrate.db.errors import BadInput, PreflightBlocked
from hashigo.ops.migrate.db.journal import Journal, default_journal_path
from hashigo.ops.migrate.db.pgtools import find_client_tools
from hashigo.ops.migrate.db.progress import Reporter
from hashigo.ops.migrate.db.reports import VerifyReport
from hashigo.ops.migrate.db.schema_compare import compare_schemas
from hashigo.ops.migrate.db.verify import Hasher, UnitCheck, drill

SHOWN_DRILLS = 5


@dataclass
class UnitHashes:
    units: list[UnitCheck]
    schema_changed: list[str]


@dataclass(frozen=True)
class Options:
    jobs: int = 4
    chunk_mb: int = units.DEFAULT_CHUNK_MB
    include_schemas: tuple[str, ...] = ()
    into_existing: bool = False
    journal: Path | None = None
    data_dir: Path = Path(".hashigo")
    maintenance_work_mem: str | None = None


class Migration:
    def __init__(self, source: Endpoint, target: Endpoint, options: Options, reporter: Reporter) -> None:
        if source.is_postgres and (source.url, source.dbname) == (target.url, target.dbname):
            raise BadInput("--from and --to are the same database")
        self.source, self.target = source, target
        self.options = options
        self.reporter = reporter
        path = options.journal or default_journal_path(source, target, options.data_dir / "migrate")
        self.journal = Journal.open(path, source, target)
        unknown = sorted(set(options.include_schemas) - set(SUPABASE_SCHEMAS))
        if unknown:
            raise BadInput(f"--include-schema {', '.join(unknown)}: not a schema left out by default; accepted: "
                           f"{', '.join(SUPABASE_SCHEMAS)} (every other schema is moved anyway)")
        self.excluded = excluded_schemas(options.include_schemas)
        self.archive = path.with_suffix(".schema.dump")

    @classmethod
    def from_urls(cls, source_url: str, target_url: str, options: Options, reporter: Reporter) -> Migration:
        return cls(parse_endpoint(source_url, "source"), parse_endpoint(target_url, "target"), options, reporter)

    def close(self) -> None:
        self.journal.close()

    @contextmanager
    def connections(self) -> Iterator[tuple[psycopg.Connection, psycopg.Connection]]:
        with ExitStack() as stack:
            src = stack.enter_context(connect(self.source, read_only=True))
            dst = stack.enter_context(connect(self.target))
            yield src, dst

    def catalog(self, src: psycopg.Connection) -> Catalog:
        return read_catalog(src, self.excluded)

    # preflight ---------------------------------------------------------------
    def preflight(self) -> checks.PreflightReport:
        report = checks.PreflightReport()
        with self.connections() as (src, dst):
            catalog = self.catalog(src)
            checks.check_versions(report, catalog, dst)
            checks.check_extensions(report, catalog, dst)
            checks.check_source_privileges(report, catalog, src)
            checks.check_target_privileges(report, catalog.schemas, dst)
            checks.check_shape(report, catalog)
            checks.check_target_empty(report, dst, self.excluded, into_existing=self.options.into_existing,
                                         resuming=self.journal.step_done("schema-pre"))
        return report

    def _require_preflight(self) -> checks.PreflightReport:
        report = self.preflight()
        if report.blockers:
            raise PreflightBlocked("preflight: " + "; ".join(f"{c.name}: {c.detail}" for c in report.blockers))
        return report

    # schema ------------------------------------------------------------------
    def schema_pre(self, snapshot: str | None = None) -> dict[str, Any]:
        if self.journal.step_done("schema-pre"):
            return {"step": "schema-pre", "skipped": "done in an earlier run"}
        with self.connections() as (src, dst):
            catalog = self.catalog(src)
            found = user_relations(dst, self.excluded)
            if found and not self.options.into_existing:
                raise BadInput(f"the target is not empty ({', '.join(found[:5])}…); use an empty database or pass "
                               f"--into-existing")
            tools = find_client_tools(catalog.server_version // 10000)
            schema.dump_schema(tools, self.source, self.archive, catalog, snapshot)
            entries = schema.toc(tools, self.archive, self.source)
            skipped = schema.write_use_list(entries, schema.unreachable_objects(src, catalog.excluded_present),
                                            self.use_list)
            extensions = schema.create_extensions(dst, catalog)
        self.reporter.phase("schema (pre-data)", len(entries), in_bytes=False)
        result = schema.restore_pre_data(tools, self.target, self.archive, self.use_list,
                                         tolerate_existing=self.options.into_existing, reporter=self.reporter)
        self.reporter.end_phase()
        self.journal.mark_step("schema-pre")
        return {"step": "schema-pre", "extensions_created": extensions, "skipped": skipped,
                "already_existed": result.tolerated}

    @property
    def use_list(self) -> Path:
        return self.archive.with_suffix(".list")

    def post_data(self) -> dict[str, Any]:
        return transfer.post_only(self)

    def copy(self, snapshot: str | None = None) -> dict[str, Any]:
        return transfer.copy_only(self, snapshot)

    # verify ------------------------------------------------------------------
    def _verify_units(self, src: psycopg.Connection, catalog: Catalog) -> list[units.Unit]:
        """The copy's units (same chunk bounds), plus any table the source has gained since."""
        planned = self.journal.units()
        check_units = (units.from_journal(planned, catalog) if planned
                       else units.plan(src, catalog, self.options.chunk_mb * 1024 * 1024))
        missing = {t.key for t in catalog.data_tables} - {u.table.key for u in check_units}
        return check_units + [units.Unit(key, catalog.table(key)) for key in sorted(missing)]

    def hash_units(self) -> UnitHashes:
        report = self._hash_and_compare()
        changed = report.schema.missing + [d for d in report.schema.different if not d.startswith("sequence value")]
        return UnitHashes(report.checks, changed)

    def _hash_and_compare(self) -> VerifyReport:
        with self.connections() as (src, dst):
            catalog = self.catalog(src)
            modern = min(catalog.server_version, int(dst.info.server_version)) >= 140000
            check_units = self._verify_units(src, catalog)
            schema_diff = compare_schemas(src, dst, catalog.schemas, self.excluded, catalog.sequences)
        self.reporter.phase("verify", 2 * sum(u.est_bytes for u in check_units), in_bytes=True)
        hasher = Hasher(self.source, self.target, modern=modern, reporter=self.reporter)
        checks = hasher.check(check_units, self.options.jobs)
        self.reporter.end_phase()
        return VerifyReport(checks, schema_diff, modern=modern)

    def verify(self) -> VerifyReport:
        started = time.monotonic()
        report = self._hash_and_compare()
        self._drill(report)
        report.seconds = time.monotonic() - started
        self.journal.mark_step("verify", "ok" if report.ok else "differences")
        return report

    def _drill(self, report: VerifyReport) -> None:
        for check in report.differing[:SHOWN_DRILLS]:
            if check.target_rows >= 0:
                report.drills[check.unit.label] = drill(self.source, self.target, check.unit, report.modern)

    # cutover and rollback (cutover.py) ---------------------------------------
    def cutover(self, *, sessions: str, wait_seconds: float, show_password: bool) -> dict[str, Any]:
        from hashigo.ops.migrate.db import cutover

        return cutover.cutover(self, sessions=sessions, wait_seconds=wait_seconds, show_password=show_password)

    def rollback(self, *, sessions: str, wait_seconds: float, show_password: bool) -> dict[str, Any]:
        from hashigo.ops.migrate.db import cutover

        return cutover.rollback(self, sessions=sessions, wait_seconds=wait_seconds, show_password=show_password)

    # all of it ---------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        started = time.monotonic()
        steps: dict[str, Any] = {"preflight": self._require_preflight().as_dict()}
        fresh = not self.journal.step_done("schema-pre")
        with exported_snapshot(self.source) if fresh else nullcontext(None) as snapshot:
            steps["schema_pre"] = _timed(lambda: self.schema_pre(snapshot))
            steps["copy"], steps["post_data"], moved = transfer.copy_post_verify(self, snapshot)
        report = self._report(moved.checks, started=time.monotonic())
        steps["verify"] = report.as_dict()
        return {"ok": report.ok, "seconds": round(time.monotonic() - started, 3), "steps": steps,
                "journal": str(self.journal.path), "verify_report": report}

    def _report(self, checks: list[UnitCheck], started: float) -> VerifyReport:
        """Rows were hashed during the copy; add the schema comparison and name the rows that differ."""
        with self.connections() as (src, dst):
            catalog = self.catalog(src)
            modern = min(catalog.server_version, int(dst.info.server_version)) >= 140000
            schema_diff = compare_schemas(src, dst, catalog.schemas, self.excluded, catalog.sequences)
        report = VerifyReport(checks, schema_diff, modern=modern)
        self._drill(report)
        report.seconds = time.monotonic() - started
        return report


def _timed(step: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    started = time.monotonic()
    result = step()
    return {**result, "seconds": round(time.monotonic() - started, 3)}
