"""`hashigo migrate storage [copy|plan|verify] SRC DST`: the commands; the work is in this package.

Exit codes: 0 done (or no differences), 1 some object failed (or differs), 2 bad input.
"""

from __future__ import annotations

import contextlib
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from hashigo.ops.migrate.storage.cli_support import (
    CopyByDefault,
    check_range,
    config_errors,
    emit_json,
    err,
    fail,
    out,
    parse_size,
    run_async,
    show_progress,
)
from hashigo.ops.migrate.storage.endpoints import Endpoint, check_not_nested, default_journal_path, endpoint_for
from hashigo.ops.migrate.storage.engine import RunOptions
from hashigo.ops.migrate.storage.filters import PATTERN_HELP, KeyFilter
from hashigo.ops.migrate.storage.report import MigrationReport
from hashigo.ops.migrate.storage.transfer import CopySettings

storage_app = typer.Typer(
    cls=CopyByDefault, no_args_is_help=True,
    help="Copy every object from SRC to DST (store URLs: file://, s3://, gs://, az://), verified and resumable. "
         "`hashigo migrate storage SRC DST` runs `copy`. The source is only ever read.")


class VerifyMode(StrEnum):
    auto = "auto"
    read_back = "read-back"


Src = Annotated[str, typer.Argument(help="Source store URL, e.g. file:///srv/uploads or "
                                         "s3://bucket/prefix?endpoint=https://host", show_default=False)]
Dst = Annotated[str, typer.Argument(help="Destination store URL.", show_default=False)]
PrefixOpt = Annotated[str | None, typer.Option("--prefix", help="Only keys under this folder, e.g. avatars/.")]
IncludeOpt = Annotated[list[str] | None, typer.Option(
    "--include", help=f"Only matching keys; repeatable; {PATTERN_HELP}.")]
ExcludeOpt = Annotated[list[str] | None, typer.Option("--exclude", help="Skip matching keys; repeatable.")]
JournalOpt = Annotated[Path | None, typer.Option(
    "--journal", help="SQLite journal (default: .hashigo/migrate/storage-<hash of SRC and DST>.sqlite).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]
ConcurrencyOpt = Annotated[int, typer.Option("--concurrency", "-j", help="Objects in flight at once (1-256).")]


def _sides(src: str, dst: str, journal: Path | None) -> tuple[Endpoint, Endpoint, Path]:
    with config_errors():
        source = endpoint_for(src, "SRC")
        destination = endpoint_for(dst, "DST")
        check_not_nested(source, destination)
    return source, destination, journal or default_journal_path(source, destination)


def _filter(prefix: str | None, include: list[str] | None, exclude: list[str] | None) -> KeyFilter:
    with config_errors():
        return KeyFilter.build(prefix, include, exclude)


@storage_app.command("copy")
def copy_command(
    src: Src,
    dst: Dst,
    prefix: PrefixOpt = None,
    include: IncludeOpt = None,
    exclude: ExcludeOpt = None,
    concurrency: ConcurrencyOpt = 16,
    part_size: Annotated[str, typer.Option(help="Multipart part size (S3 needs 5MiB or more).")] = "16MiB",
    multipart_threshold: Annotated[str, typer.Option(help="Objects above this go up in resumable parts.")] = "16MiB",
    part_concurrency: Annotated[int, typer.Option(help="Parts in flight per object (1-64).")] = 4,
    max_memory: Annotated[str, typer.Option(help="Object bytes buffered at once, all objects together.")] = "128MiB",
    retries: Annotated[int, typer.Option(help="Attempts after the first, per object, for transient errors.")] = 4,
    verify: Annotated[VerifyMode, typer.Option(
        help="auto: the destination's MD5 ETag where it matches, else read back; read-back: always read back "
             "and compare SHA-256.")] = VerifyMode.auto,
    journal: JournalOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan; copy nothing.")] = False,
    delete_extraneous: Annotated[bool, typer.Option(
        "--delete-extraneous",
        help="Delete destination objects (matching the filters) that the source does not have.")] = False,
    yes_delete_extraneous: Annotated[bool, typer.Option("--yes-delete-extraneous",
                                                        help="Confirm --delete-extraneous.")] = False,
    json_output: JsonOpt = False,
) -> None:
    """Copy every object from SRC to DST, verify each one, and record it in the journal (exit 1 if any failed)."""
    if delete_extraneous != yes_delete_extraneous:
        fail("--delete-extraneous deletes destination objects that the source does not have; it needs "
             "--yes-delete-extraneous as well (and that flag means nothing alone)", 2)
    check_range("--concurrency", concurrency, 1, 256)
    check_range("--part-concurrency", part_concurrency, 1, 64)
    check_range("--retries", retries, 0, 100)
    settings = CopySettings(verify=verify.value, part_size=parse_size("--part-size", part_size),
                            multipart_threshold=parse_size("--multipart-threshold", multipart_threshold),
                            part_concurrency=part_concurrency)
    options = RunOptions(concurrency=concurrency, retries=retries, copy=settings, delete_extraneous=delete_extraneous,
                         max_memory=parse_size("--max-memory", max_memory, minimum=1024 * 1024))
    key_filter = _filter(prefix, include, exclude)
    source, destination, journal_path = _sides(src, dst, journal)
    if dry_run:
        _plan(source, destination, journal_path, key_filter, json_output)
        return
    report = run_async(lambda: _copy(source, destination, journal_path, key_filter, options, json_output), "copy")
    if json_output:
        emit_json(report.as_dict())
    else:
        from hashigo.ops.migrate.storage.report import print_report

        print_report(out, report)
    if not report.ok:
        raise typer.Exit(1)


async def _copy(source: Endpoint, destination: Endpoint, journal_path: Path, key_filter: KeyFilter,
                options: RunOptions, json_output: bool) -> MigrationReport:
    from hashigo.ops.migrate.storage.engine import run_copy
    from hashigo.ops.migrate.storage.heap import keep_large_buffers_off_the_heap
    from hashigo.ops.migrate.storage.journal import Journal
    from hashigo.ops.migrate.storage.progress import RichProgress

    keep_large_buffers_off_the_heap()
    journal = Journal(journal_path, source.identity(), destination.identity())
    src_store, dst_store = source.open(), destination.open()
    report = MigrationReport(source.url, destination.url, str(journal_path), options.copy.verify)
    try:
        bar = RichProgress(err, "copying") if show_progress(json_output) else None
        with bar or contextlib.nullcontext():
            await run_copy(src_store, dst_store, journal, key_filter, options, report, bar)
    finally:
        journal.close()
        await src_store.close()
        await dst_store.close()
    return report


@storage_app.command("plan")
def plan_command(src: Src, dst: Dst, prefix: PrefixOpt = None, include: IncludeOpt = None,
                 exclude: ExcludeOpt = None, journal: JournalOpt = None, json_output: JsonOpt = False) -> None:
    """What `copy` would do: objects to copy, skip, replace and resume, extraneous ones, and an estimated time."""
    key_filter = _filter(prefix, include, exclude)
    source, destination, journal_path = _sides(src, dst, journal)
    _plan(source, destination, journal_path, key_filter, json_output)


def _plan(source: Endpoint, destination: Endpoint, journal_path: Path, key_filter: KeyFilter,
          json_output: bool) -> None:
    from hashigo.ops.migrate.storage.journal import Journal
    from hashigo.ops.migrate.storage.plan import PlanReport, make_plan, print_plan

    exists = journal_path.exists()

    async def work() -> PlanReport:
        # Planning writes nothing: without a journal yet, everything is simply "new".
        journal = Journal(journal_path, source.identity(), destination.identity()) if exists else None
        src_store, dst_store = source.open(), destination.open()
        try:
            report = PlanReport(source.url, destination.url, str(journal_path))
            return await make_plan(src_store, dst_store, journal, key_filter, report)
        finally:
            if journal is not None:
                journal.close()
            await src_store.close()
            await dst_store.close()

    with err.status("listing both sides…") if show_progress(json_output) else contextlib.nullcontext():
        report = run_async(work, "plan")
    if json_output:
        emit_json(report.as_dict())
    else:
        print_plan(out, report)


@storage_app.command("verify")
def verify_command(src: Src, dst: Dst, prefix: PrefixOpt = None, include: IncludeOpt = None,
                   exclude: ExcludeOpt = None, concurrency: ConcurrencyOpt = 8, json_output: JsonOpt = False) -> None:
    """Read both sides and list every difference: missing, extra, size, content (SHA-256). Exit 1 if any."""
    from hashigo.ops.migrate.storage.verify import VerifyReport, print_verify, run_verify

    check_range("--concurrency", concurrency, 1, 256)
    key_filter = _filter(prefix, include, exclude)
    source, destination, _ = _sides(src, dst, None)

    async def work() -> VerifyReport:
        from hashigo.ops.migrate.storage.progress import RichProgress

        src_store, dst_store = source.open(), destination.open()
        report = VerifyReport(source.url, destination.url)
        try:
            bar = RichProgress(err, "verifying") if show_progress(json_output) else None
            with bar or contextlib.nullcontext():
                return await run_verify(src_store, dst_store, key_filter, report, concurrency=concurrency,
                                        progress=bar)
        finally:
            await src_store.close()
            await dst_store.close()

    report = run_async(work, "verify")
    if json_output:
        emit_json(report.as_dict())
    else:
        print_verify(out, report)
    if not report.ok:
        raise typer.Exit(1)
