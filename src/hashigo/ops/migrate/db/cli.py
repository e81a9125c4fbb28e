"""`hashigo migrate db …`: PostgreSQL → PostgreSQL and SQLite → PostgreSQL, verified, with cutover.

Exit codes: 0 done / no differences, 1 a step failed or verify found differences,
2 bad input (URL, option, non-empty target), 3 preflight found a blocker.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import psycopg
import typer
from rich.console import Console

from hashigo.ops.migrate.db import render
from hashigo.ops.migrate.db.errors import EXIT_FAILED, EXIT_PREFLIGHT, MigrateDbError
from hashigo.ops.migrate.db.progress import Reporter, RichReporter, SilentReporter
from hashigo.ops.migrate.db.runner import Options
from hashigo.ops.migrate.db.units import DEFAULT_CHUNK_MB

T = TypeVar("T")

db_migrate_app = typer.Typer(
    no_args_is_help=True,
    help="Move a PostgreSQL (or SQLite) database to PostgreSQL: preflight, schema, parallel COPY, verify, "
         "cutover and rollback. `run` does preflight → schema → copy → indexes → verify. The source is only "
         "read, except cutover's reversible read-only switch.")

out = Console()
err = Console(stderr=True)


class Section(StrEnum):
    pre_data = "pre-data"
    post_data = "post-data"


class Sessions(StrEnum):
    terminate = "terminate"
    wait = "wait"


Source = Annotated[str, typer.Argument(help="Source URL: postgresql://user:pw@host:5432/db or sqlite:///path.db",
                                       show_default=False, metavar="SOURCE")]
Target = Annotated[str, typer.Argument(help="Target URL: postgresql://user:pw@host:5432/db (an empty database).",
                                       show_default=False, metavar="TARGET")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]
JobsOpt = Annotated[int, typer.Option("--jobs", "-j", min=1, max=64,
                                      help="Parallel COPY streams, hash queries and index builds.")]
ChunkOpt = Annotated[int, typer.Option("--chunk-mb", min=0,
                                       help="Split tables bigger than this (MB) into primary-key ranges; 0: never.")]
IncludeOpt = Annotated[list[str] | None, typer.Option(
    "--include-schema", help="Also move this Supabase-managed schema (auth, storage, …); repeatable.")]
ExistingOpt = Annotated[bool, typer.Option(
    "--into-existing", help="Allow a target that already holds objects; tables that receive rows must be empty.")]
JournalOpt = Annotated[Path | None, typer.Option(
    "--journal", help="Resume journal (SQLite) [default: .hashigo/migrate/db-<hash of SOURCE and TARGET>.sqlite3].")]
MemOpt = Annotated[str, typer.Option("--maintenance-work-mem",
                                     help="maintenance_work_mem for index builds on the target ('' = server default).")]


def _options(jobs: int, chunk_mb: int, include: list[str] | None, into_existing: bool, journal: Path | None,
             maintenance_work_mem: str = "") -> Options:
    return Options(jobs=jobs, chunk_mb=chunk_mb, include_schemas=tuple(include or ()), into_existing=into_existing,
                   journal=journal, maintenance_work_mem=maintenance_work_mem or None)


def fail(message: str, code: int) -> NoReturn:
    err.print(f"[red]hashigo migrate db:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def _guard() -> Iterator[None]:
    try:
        yield
    except MigrateDbError as exc:
        fail(str(exc), exc.exit_code)
    except psycopg.Error as exc:
        fail(f"database error: {str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}",
             EXIT_FAILED)


def _reporter(json_output: bool) -> Reporter:
    # Bars go to stderr, only when a person watches (or HASHIGO_PROGRESS=1 asks for them anyway).
    wanted = err.is_terminal or os.environ.get("HASHIGO_PROGRESS") == "1"
    return RichReporter(err) if wanted and not json_output else SilentReporter()


def _with_migration(source: str, target: str, options: Options, json_output: bool, action: Callable[[Any], T]) -> T:
    from hashigo.ops.migrate.db.open import open_migration

    with _guard():
        migration = open_migration(source, target, options, _reporter(json_output))
        try:
            return action(migration)
        finally:
            migration.close()


def _emit(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n")


@db_migrate_app.command("preflight")
def preflight_command(source: Source, target: Target, include_schema: IncludeOpt = None,
                      into_existing: ExistingOpt = False, journal: JournalOpt = None,
                      json_output: JsonOpt = False) -> None:
    """Check versions, extensions, privileges, sizes, keys and sequences; change nothing (exit 3 on a blocker)."""
    options = _options(4, DEFAULT_CHUNK_MB, include_schema, into_existing, journal)
    report = _with_migration(source, target, options, json_output, lambda m: m.preflight())
    if json_output:
        _emit(report.as_dict())
    else:
        render.print_preflight(out, report)
    if report.blockers:
        raise typer.Exit(EXIT_PREFLIGHT)


@db_migrate_app.command("schema")
def schema_command(source: Source, target: Target,
                   section: Annotated[Section, typer.Option(help="pre-data before the copy, post-data after it.")]
                   = Section.pre_data,
                   jobs: JobsOpt = 4, include_schema: IncludeOpt = None, into_existing: ExistingOpt = False,
                   journal: JournalOpt = None, maintenance_work_mem: MemOpt = "",
                   json_output: JsonOpt = False) -> None:
    """Create the schema on the target: tables and types (pre-data) or indexes, constraints, triggers (post-data)."""
    options = _options(jobs, DEFAULT_CHUNK_MB, include_schema, into_existing, journal, maintenance_work_mem)
    result = _with_migration(source, target, options, json_output,
                             lambda m: m.schema_pre() if section is Section.pre_data else m.post_data())
    _emit(result) if json_output else render.print_step(out, f"Schema ({section.value})", result)


@db_migrate_app.command("copy")
def copy_command(source: Source, target: Target, jobs: JobsOpt = 4, chunk_mb: ChunkOpt = DEFAULT_CHUNK_MB,
                 include_schema: IncludeOpt = None, into_existing: ExistingOpt = False,
                 journal: JournalOpt = None, json_output: JsonOpt = False) -> None:
    """Stream every table's rows with parallel COPY, big tables in key-range chunks; resumes after a kill."""
    options = _options(jobs, chunk_mb, include_schema, into_existing, journal)
    result = _with_migration(source, target, options, json_output, lambda m: m.copy())
    _emit(result) if json_output else render.print_step(out, "Copy", result)


@db_migrate_app.command("verify")
def verify_command(source: Source, target: Target, jobs: JobsOpt = 4, chunk_mb: ChunkOpt = DEFAULT_CHUNK_MB,
                   include_schema: IncludeOpt = None, journal: JournalOpt = None, json_output: JsonOpt = False) -> None:
    """Compare row counts, content hashes (per table/chunk) and the schema of both sides (exit 1 on a difference)."""
    options = _options(jobs, chunk_mb, include_schema, False, journal)
    report = _with_migration(source, target, options, json_output, lambda m: m.verify())
    _emit(report.as_dict()) if json_output else render.print_verify(out, report)
    if not report.ok:
        raise typer.Exit(EXIT_FAILED)


@db_migrate_app.command("run")
def run_command(source: Source, target: Target, jobs: JobsOpt = 4, chunk_mb: ChunkOpt = DEFAULT_CHUNK_MB,
                include_schema: IncludeOpt = None, into_existing: ExistingOpt = False, journal: JournalOpt = None,
                maintenance_work_mem: MemOpt = "", json_output: JsonOpt = False) -> None:
    """preflight → schema (pre-data) → copy → indexes and constraints → verify. Run it again to resume."""
    options = _options(jobs, chunk_mb, include_schema, into_existing, journal, maintenance_work_mem)
    result = _with_migration(source, target, options, json_output, lambda m: m.run())
    report = result.pop("verify_report")
    if json_output:
        _emit(result)
    else:
        steps = result["steps"]
        for key, title in (("schema_pre", "Schema (pre-data)"), ("copy", "Copy"), ("post_data", "Post-data")):
            render.print_step(out, title, steps[key])
        render.print_verify(out, report)
        out.print(f"total {result['seconds']:.1f}s; journal {result['journal']}", highlight=False)
    if not result["ok"]:
        raise typer.Exit(EXIT_FAILED)


SessionsOpt = Annotated[Sessions, typer.Option(
    "--sessions", help="terminate: end the source's other sessions so they reconnect read-only; "
                       "wait: wait --wait-seconds for them to leave.")]
WaitOpt = Annotated[float, typer.Option("--wait-seconds", min=0, help="How long to wait for sessions to leave.")]
ShowPasswordOpt = Annotated[bool, typer.Option("--show-password", help="Print the password in the DATABASE_URL line.")]


@db_migrate_app.command("cutover")
def cutover_command(source: Source, target: Target, sessions: SessionsOpt = Sessions.terminate,
                    wait_seconds: WaitOpt = 30.0, show_password: ShowPasswordOpt = False, jobs: JobsOpt = 4,
                    include_schema: IncludeOpt = None, journal: JournalOpt = None,
                    json_output: JsonOpt = False) -> None:
    """Source read-only → copy what changed → sequences → verify → print the new DATABASE_URL (exit 1 if not same)."""
    options = _options(jobs, DEFAULT_CHUNK_MB, include_schema, False, journal)
    result = _with_migration(source, target, options, json_output, lambda m: m.cutover(
        sessions=sessions.value, wait_seconds=wait_seconds, show_password=show_password))
    report = result.pop("verify_report")
    if json_output:
        _emit(result)
    else:
        render.print_verify(out, report)
        render.print_cutover(out, result)
    if not result["ok"]:
        raise typer.Exit(EXIT_FAILED)


@db_migrate_app.command("rollback")
def rollback_command(source: Source, target: Target, sessions: SessionsOpt = Sessions.terminate,
                     show_password: ShowPasswordOpt = False, journal: JournalOpt = None,
                     json_output: JsonOpt = False) -> None:
    """Make the source writable again (its setting as before cutover) and print the DATABASE_URL to go back to."""
    options = _options(1, DEFAULT_CHUNK_MB, None, False, journal)
    result = _with_migration(source, target, options, json_output, lambda m: m.rollback(
        sessions=sessions.value, wait_seconds=0, show_password=show_password))
    _emit(result) if json_output else render.print_rollback(out, result)
