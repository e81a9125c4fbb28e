"""One PostgreSQL → PostgreSQL migration: the steps, their order, and what the journal remembers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from hashigo.ops.migrate.db import finish, loadprep, schema, units
from hashigo.ops.migrate.db import preflight as checks
from hashigo.ops.migrate.db.catalog import Catalog, excluded_schemas, read_catalog, user_relations
from hashigo.ops.migrate.db.copy import Copier, exported_snapshot
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
    chunk_mb: int = 256
    include_schemas: tuple[str, ...] = ()
    into_existing: bool = False
    journal: Path | None = None
    data_dir: Path = Path(".hashigo")
    maintenance_work_mem: str | None = "256MB"


class Migration:
    def __init__(self, source: Endpoint, target: Endpoint, options: Options, reporter: Reporter) -> None:
        if source.is_postgres and (source.url, source.dbname) == (target.url, target.dbname):
            raise BadInput("--from and --to are the same database")
        self.source, self.target = source, target
        self.options = options
        self.reporter = reporter
        path = options.journal or default_journal_path(source, target, options.data_dir / "migrate")
        self.journal = Journal.open(path, source, target)
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
                                            self._use_list())
            extensions = schema.create_extensions(dst, catalog)
        self.reporter.phase("schema (pre-data)", len(entries), in_bytes=False)
        result = schema.restore(tools, self.target, self.archive, self._use_list(), section="pre-data", jobs=1,
                                tolerate_existing=self.options.into_existing, reporter=self.reporter)
        self.reporter.end_phase()
        self.journal.mark_step("schema-pre")
        return {"step": "schema-pre", "extensions_created": extensions, "skipped": skipped,
                "already_existed": result.tolerated}

    def _use_list(self) -> Path:
        return self.archive.with_suffix(".list")

    def post_data(self) -> dict[str, Any]:
        if self.journal.step_done("post-data"):
            return {"step": "post-data", "skipped": "done in an earlier run"}
        if not self.archive.exists():
            raise BadInput(f"no schema archive at {self.archive}: run `schema` (pre-data) with this journal first")
        resumed = self.journal.step_done("post-data-started")
        self.journal.mark_step("post-data-started")
        with self.connections() as (src, _dst):
            tools = find_client_tools(self.catalog(src).server_version // 10000)
        entries = sum(1 for line in self._use_list().read_text().splitlines() if line and not line.startswith(";"))
        self.reporter.phase("indexes and constraints", entries, in_bytes=False)
        result = schema.restore(tools, self.target, self.archive, self._use_list(), section="post-data",
                                jobs=self.options.jobs, tolerate_existing=resumed or self.options.into_existing,
                                reporter=self.reporter, maintenance_work_mem=self.options.maintenance_work_mem)
        self.reporter.end_phase()
        with self.connections() as (src, dst):
            catalog = self.catalog(src)
            sequences = finish.copy_sequences(src, dst, catalog)
            views = finish.refresh_materialized_views(src, dst, catalog.schemas)
        self.journal.mark_step("post-data")
        return {"step": "post-data", "sequences_set": sequences, "materialized_views_refreshed": views,
                "already_existed": result.tolerated}

    # copy --------------------------------------------------------------------
    def copy(self, snapshot: str | None = None, binary: bool | None = None) -> dict[str, Any]:
        if not self.journal.step_done("schema-pre"):
            raise BadInput("the target has no schema from this migration yet: run `schema` first (or `run`)")
        with self.connections() as (src, dst):
            catalog = self.catalog(src)
            if binary is None:
                binary = catalog.server_version // 10000 == int(dst.info.server_version) // 10000
            planned = self.journal.units()
            if planned:
                todo_units = units.from_journal(planned, catalog)
            else:
                todo_units = units.plan(src, catalog, self.options.chunk_mb * 1024 * 1024)
                units.record(self.journal, todo_units)
            states = {r.id: r.state for r in self.journal.units()}
            todo = [u for u in todo_units if states.get(u.id) != "done"]
            self._refuse_rows_in_the_way(dst, todo, states)
            keys = sorted({u.table.key for u in todo})
            if self.options.into_existing:
                loadprep.prepare(dst, self.journal, keys)
        dirty = {u.id for u in todo if states.get(u.id) == "started"}
        self.reporter.phase("copy", sum(u.est_bytes for u in todo), in_bytes=True)
        # A shared snapshot only means something when every unit is copied under it.
        shared = snapshot if not dirty and len(todo) == len(todo_units) else None
        copier = Copier(self.source, self.target, jobs=self.options.jobs, binary=binary, journal=self.journal,
                        reporter=self.reporter, snapshot=shared)
        stats = copier.run(todo, dirty=dirty)
        self.reporter.end_phase()
        if self.options.into_existing:
            with connect(self.target) as dst:
                loadprep.restore(dst, self.journal)
        self.journal.mark_step("copy")
        return {"step": "copy", "units": len(todo_units), "copied_units": len(todo),
                "resumed_units_skipped": len(todo_units) - len(todo), "rows": stats.rows, "bytes": stats.bytes,
                "seconds": round(stats.seconds, 3), "format": "binary" if binary else "text",
                "consistent_snapshot": copier.snapshot is not None}

    def _refuse_rows_in_the_way(self, dst: psycopg.Connection, todo: list[units.Unit], states: dict[str, str]) -> None:
        """--into-existing never truncates a table that held rows before this migration touched it."""
        if not self.options.into_existing:
            return
        for unit in todo:
            if states.get(unit.id) == "pending" and not unit.chunked:
                row = dst.execute(f"SELECT EXISTS (SELECT 1 FROM ONLY {unit.table.qname})").fetchone()
                if row and row[0]:
                    raise BadInput(f"{unit.table.key} already has rows on the target; hashigo does not overwrite "
                                   f"them — empty it yourself or leave it out")

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
        hasher = Hasher(self.source, self.target, jobs=self.options.jobs, modern=modern, reporter=self.reporter)
        checks = hasher.check(check_units)
        self.reporter.end_phase()
        report = VerifyReport(checks, schema_diff)
        report.modern = modern
        return report

    def verify(self) -> VerifyReport:
        started = time.monotonic()
        report = self._hash_and_compare()
        modern = report.modern
        for check in report.differing[:SHOWN_DRILLS]:
            if check.target_rows >= 0:
                report.drills[check.unit.label] = drill(self.source, self.target, check.unit, modern)
        report.seconds = time.monotonic() - started
        self.journal.mark_step("verify", "ok" if report.ok else "differences")
        return report

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
        if fresh:
            with exported_snapshot(self.source) as snapshot:
                steps["schema_pre"] = self.schema_pre(snapshot)
                steps["copy"] = self.copy(snapshot)
        else:
            steps["schema_pre"] = self.schema_pre()
            steps["copy"] = self.copy()
        steps["post_data"] = self.post_data()
        report = self.verify()
        steps["verify"] = report.as_dict()
        return {"ok": report.ok, "seconds": round(time.monotonic() - started, 3), "steps": steps,
                "journal": str(self.journal.path), "verify_report": report}

