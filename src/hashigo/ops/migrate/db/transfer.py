"""The data-moving steps of a PostgreSQL migration: copy, post-data, and both with verify in one schedule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psycopg

from hashigo.ops.migrate.db import finish, loadprep, units
from hashigo.ops.migrate.db.catalog import Catalog
from hashigo.ops.migrate.db.copy import Copier
from hashigo.ops.migrate.db.endpoints import connect
from hashigo.ops.migrate.db.errors import BadInput
from hashigo.ops.migrate.db.pgtools import find_client_tools
from hashigo.ops.migrate.db.pipeline import Pipeline, PipelineResult
from hashigo.ops.migrate.db.postdata import PostData, load_post_data
from hashigo.ops.migrate.db.verify import Hasher

if TYPE_CHECKING:
    from hashigo.ops.migrate.db.runner import Migration


@dataclass
class Plan:
    catalog: Catalog
    all_units: list[units.Unit]
    todo: list[units.Unit]
    dirty: set[str]
    binary: bool
    modern: bool
    slowest_index: dict[str, str]  # table → access method of its slowest index (btree, gin, …)

    def shared(self, snapshot: str | None) -> str | None:
        """A snapshot only means something when every unit is copied (and hashed) under it."""
        return snapshot if not self.dirty and len(self.todo) == len(self.all_units) else None


def plan(m: Migration, src: psycopg.Connection, dst: psycopg.Connection) -> Plan:
    if not m.journal.step_done("schema-pre"):
        raise BadInput("the target has no schema from this migration yet: run `schema` first (or `run`)")
    catalog = m.catalog(src)
    planned = m.journal.units()
    if planned:
        all_units = units.from_journal(planned, catalog)
    else:
        all_units = units.plan(src, catalog, m.options.chunk_mb * 1024 * 1024)
        units.record(m.journal, all_units)
    states = {r.id: r.state for r in m.journal.units()}
    todo = [u for u in all_units if states.get(u.id) != "done"]
    if m.options.into_existing:
        _refuse_rows_in_the_way(dst, todo, states)
        loadprep.prepare(dst, m.journal, sorted({u.table.key for u in todo}))
    src_major, dst_major = catalog.server_version // 10000, int(dst.info.server_version) // 10000
    return Plan(catalog, all_units, todo, {u.id for u in todo if states.get(u.id) == "started"},
                binary=src_major == dst_major, modern=min(src_major, dst_major) >= 14,
                slowest_index=_slowest_indexes(src))


def _slowest_indexes(src: psycopg.Connection) -> dict[str, str]:
    from hashigo.ops.migrate.db.pipeline import INDEX_COST

    slowest: dict[str, str] = {}
    for key, method in src.execute("""
            SELECT n.nspname || '.' || c.relname, am.amname FROM pg_index i
            JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam
            WHERE c.relkind = 'r'"""):
        if INDEX_COST.get(method, 1.0) > INDEX_COST.get(slowest.get(key, ""), 0.0):
            slowest[key] = method
    return slowest


def _refuse_rows_in_the_way(dst: psycopg.Connection, todo: list[units.Unit], states: dict[str, str]) -> None:
    """--into-existing never truncates a table that held rows before this migration touched it."""
    for unit in todo:
        if states.get(unit.id) == "pending" and not unit.chunked:
            row = dst.execute(f"SELECT EXISTS (SELECT 1 FROM ONLY {unit.table.qname})").fetchone()
            if row and row[0]:
                raise BadInput(f"{unit.table.key} already has rows on the target; hashigo does not overwrite "
                               f"them — empty it yourself or leave it out")


def _copier(m: Migration, p: Plan, snapshot: str | None) -> Copier:
    psql = find_client_tools(p.catalog.server_version // 10000).psql if m.source.is_postgres else None
    return Copier(m.source, m.target, jobs=m.options.jobs, binary=p.binary, journal=m.journal,
                  reporter=m.reporter, snapshot=p.shared(snapshot), psql=psql)


def _copy_summary(p: Plan, result: PipelineResult, copier: Copier) -> dict[str, Any]:
    stats = result.copy
    return {"step": "copy", "units": len(p.all_units), "copied_units": len(p.todo),
            "resumed_units_skipped": len(p.all_units) - len(p.todo), "rows": stats.rows, "bytes": stats.bytes,
            "seconds": round(result.seconds, 3), "format": "binary" if p.binary else "text",
            "consistent_snapshot": copier.snapshot is not None, "tables_analyzed": result.analyzed,
            "slowest_tasks": result.slowest()}


def _post_data(m: Migration, src: psycopg.Connection, catalog: Catalog) -> PostData | None:
    if m.journal.step_done("post-data"):
        return None
    if not m.archive.exists():
        raise BadInput(f"no schema archive at {m.archive}: run `schema` (pre-data) with this journal first")
    post = load_post_data(find_client_tools(catalog.server_version // 10000), m.archive, m.use_list, m.source, src)
    if m.options.maintenance_work_mem:
        post.preamble += f"\nSET maintenance_work_mem = '{m.options.maintenance_work_mem}';"
    return post


def _pipeline(m: Migration, copier: Copier, hasher: Hasher | None, post: PostData | None) -> Pipeline:
    resumed = m.journal.step_done("post-data-started")
    if post is not None:
        m.journal.mark_step("post-data-started")
    return Pipeline(target=m.target, journal=m.journal, reporter=m.reporter, jobs=m.options.jobs, copier=copier,
                    hasher=hasher, post=post, tolerate_existing=resumed or m.options.into_existing)


def _finish(m: Migration, post: PostData | None) -> dict[str, Any]:
    with m.connections() as (src, dst):
        if m.options.into_existing:
            loadprep.restore(dst, m.journal)
        catalog = m.catalog(src)
        sequences = finish.copy_sequences(src, dst, catalog)
        views = finish.refresh_materialized_views(src, dst, catalog.schemas) if post is not None else 0
    return {"sequences_set": sequences, "materialized_views_refreshed": views}


def copy_only(m: Migration, snapshot: str | None = None) -> dict[str, Any]:
    with m.connections() as (src, dst):
        p = plan(m, src, dst)
    copier = _copier(m, p, snapshot)
    m.reporter.phase("copy", sum(u.est_bytes for u in p.todo), in_bytes=True)
    result = _pipeline(m, copier, None, None).run(p.all_units, p.todo, p.dirty, p.slowest_index)
    m.reporter.end_phase()
    if m.options.into_existing:
        with connect(m.target) as dst:
            loadprep.restore(dst, m.journal)
    m.journal.mark_step("copy")
    return _copy_summary(p, result, copier)


def post_only(m: Migration) -> dict[str, Any]:
    with m.connections() as (src, _dst):
        post = _post_data(m, src, m.catalog(src))
    if post is None:
        return {"step": "post-data", "skipped": "done in an earlier run"}
    copier = Copier(m.source, m.target, jobs=1, binary=True, journal=None, reporter=m.reporter)
    m.reporter.phase("indexes and constraints", len(post.entries), in_bytes=False)
    m.reporter.item("indexes and constraints", len(post.entries), in_bytes=False)
    result = _pipeline(m, copier, None, post).run([], [], set())
    m.reporter.end_phase()
    done = _finish(m, post)
    m.journal.mark_step("post-data")
    return {"step": "post-data", "entries": result.post_entries, **done, "already_existed": result.post_tolerated}


def copy_post_verify(m: Migration, snapshot: str | None) -> tuple[dict[str, Any], dict[str, Any], PipelineResult]:
    """`run`'s middle: copy, build each table's indexes once it is loaded, hash both sides, then the rest."""
    with m.connections() as (src, dst):
        p = plan(m, src, dst)
        post = _post_data(m, src, p.catalog)
    copier = _copier(m, p, snapshot)
    hasher = Hasher(m.source, m.target, modern=p.modern, reporter=m.reporter, snapshot=copier.snapshot)
    total = sum(u.est_bytes for u in p.todo) + 2 * sum(u.est_bytes for u in p.all_units)
    m.reporter.phase("copy, index, verify", total, in_bytes=True)
    if post is not None:
        m.reporter.item("indexes and constraints", len(post.entries), in_bytes=False)
    result = _pipeline(m, copier, hasher, post).run(p.all_units, p.todo, p.dirty, p.slowest_index)
    hasher.close()
    m.reporter.end_phase()
    m.journal.mark_step("copy")
    done = _finish(m, post)
    m.journal.mark_step("post-data")
    post_summary = {"step": "post-data", "entries": result.post_entries, **done,
                    "already_existed": result.post_tolerated}
    return _copy_summary(p, result, copier), post_summary, result
