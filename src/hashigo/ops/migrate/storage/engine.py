"""A copy run: list the source, skip what the journal says is done, copy the rest with bounded
concurrency, retry what failed transiently, record everything, and report.

Never deletes from the source: the source store is only ever listed and read.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol

from hashigo.errors import BackendUnavailable, HashigoError
from hashigo.ops.migrate.storage.budget import MemoryBudget
from hashigo.ops.migrate.storage.errors import SourceVanished, TransientCopyError
from hashigo.ops.migrate.storage.filters import KeyFilter
from hashigo.ops.migrate.storage.journal import Journal, SourceIdentity
from hashigo.ops.migrate.storage.report import Failure, MigrationReport
from hashigo.ops.migrate.storage.transfer import CopySettings, ObjectCopier
from hashigo.storage import ObjectInfo, ObjectStore
from hashigo.storage.multipart import DamagedInTransit, resumable_uploads

_TRANSIENT = (BackendUnavailable, TransientCopyError, DamagedInTransit)


class Progress(Protocol):
    def found(self, size: int) -> None: ...

    def listing_done(self) -> None: ...

    def advance(self, size: int) -> None: ...

    def finished(self, *, skipped: bool = False) -> None: ...


class NoProgress:
    def found(self, size: int) -> None:
        return None

    def listing_done(self) -> None:
        return None

    def advance(self, size: int) -> None:
        return None

    def finished(self, *, skipped: bool = False) -> None:
        return None


@dataclass(frozen=True, slots=True)
class RunOptions:
    concurrency: int = 16
    retries: int = 4
    max_memory: int = 128 * 1024 * 1024
    copy: CopySettings = field(default_factory=CopySettings)
    delete_extraneous: bool = False
    backoff_seconds: float = 0.5
    backoff_max_seconds: float = 15.0


class _Run:
    def __init__(self, source: ObjectStore, destination: ObjectStore, journal: Journal, key_filter: KeyFilter,
                 options: RunOptions, progress: Progress, report: MigrationReport) -> None:
        self.source = source
        self.destination = destination
        self.journal = journal
        self.filter = key_filter
        self.options = options
        self.progress = progress
        self.report = report
        self.budget = MemoryBudget(options.max_memory)
        self.copier = ObjectCopier(source, destination, resumable_uploads(destination), journal, options.copy,
                                   self.budget)
        self.queue: asyncio.Queue[ObjectInfo | None] = asyncio.Queue(maxsize=options.concurrency * 4)
        self.source_keys: set[str] | None = set() if options.delete_extraneous else None

    async def list_source(self) -> None:
        try:
            async for info in self.source.list(self.filter.prefix):
                if not self.filter.matches(info.key):
                    continue
                self.report.listed += 1
                self.report.listed_bytes += info.size
                self.progress.found(info.size)
                if self.source_keys is not None:
                    self.source_keys.add(info.key)
                if self.journal.is_done(info.key, SourceIdentity.of(info)):
                    self.report.skipped += 1
                    self.report.skipped_bytes += info.size
                    self.progress.finished(skipped=True)
                    self.progress.advance(info.size)
                    continue
                await self.queue.put(info)
        finally:
            self.progress.listing_done()
            for _ in range(self.options.concurrency):
                await self.queue.put(None)

    async def worker(self) -> None:
        while (item := await self.queue.get()) is not None:
            await self.copy_one(item)

    async def copy_one(self, item: ObjectInfo) -> None:
        attempts = 0
        reasons: list[str] = []  # every distinct transient error, so a final failure tells the whole story
        while True:
            attempts += 1
            moved = 0

            def on_bytes(size: int) -> None:
                nonlocal moved
                moved += size
                self.progress.advance(size)

            try:
                copied = await self.copier.copy(item, on_bytes, fresh_upload=attempts > 2)
            except _TRANSIENT as exc:
                self.progress.advance(-moved)
                if str(exc) not in reasons:
                    reasons.append(str(exc))
                if attempts > self.options.retries:
                    self.fail(item, f"gave up after {attempts} attempts: " + "; then: ".join(reasons), attempts)
                    return
                self.report.retries += 1
                await asyncio.sleep(self.backoff(attempts))
                continue
            except (SourceVanished, HashigoError) as exc:
                earlier = f" (after: {'; '.join(reasons)})" if reasons else ""
                self.fail(item, f"{exc}{earlier}", attempts)
                return
            except Exception as exc:  # a bug must not hide the other objects' fate; it is reported per object
                self.fail(item, f"unexpected {type(exc).__name__}: {exc}", attempts)
                return
            self.journal.record_done(item.key, copied.identity, copied.sha256, copied.verified_by, copied.dst_etag,
                                     attempts)
            self.report.copied += 1
            self.report.copied_bytes += copied.size
            self.report.parts_uploaded += copied.parts_uploaded
            self.report.parts_reused += copied.parts_reused
            self.report.verified_by[copied.verified_by] += 1
            self.progress.finished()
            return

    def backoff(self, attempt: int) -> float:
        ceiling = min(self.options.backoff_max_seconds, self.options.backoff_seconds * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)

    def fail(self, item: ObjectInfo, reason: str, attempts: int) -> None:
        self.report.failures.append(Failure(item.key, reason, attempts))
        self.journal.record_failed(item.key, SourceIdentity.of(item), reason, attempts)
        self.progress.finished()

    async def commit_periodically(self) -> None:
        while True:
            await asyncio.sleep(0.25)
            self.journal.commit_if_due()

    async def delete_extraneous(self) -> None:
        if self.report.failures:
            self.report.not_deleted_reason = "some objects failed to copy; fix them and run again"
            return
        assert self.source_keys is not None
        async for info in self.destination.list(self.filter.prefix):
            if info.key not in self.source_keys and self.filter.matches(info.key):
                await self.destination.delete(info.key)
                self.report.deleted.append(info.key)


async def run_copy(source: ObjectStore, destination: ObjectStore, journal: Journal, key_filter: KeyFilter,
                   options: RunOptions, report: MigrationReport, progress: Progress | None = None) -> MigrationReport:
    """Copy every matching object; ``report`` is filled in (and returned) even when the run is cut short."""
    run = _Run(source, destination, journal, key_filter, options, progress or NoProgress(), report)
    started = time.monotonic()
    committer = asyncio.create_task(run.commit_periodically())
    try:
        await _gather_first_error(run.list_source(), *(run.worker() for _ in range(options.concurrency)))
        if options.delete_extraneous:
            await run.delete_extraneous()
    finally:
        committer.cancel()
        report.seconds = time.monotonic() - started
        report.peak_buffered_bytes = run.budget.peak
        if report.copied and report.seconds > 0:
            journal.set_meta("last_rate", json.dumps({"bytes_per_second": report.copied_bytes / report.seconds,
                                                      "objects_per_second": report.copied / report.seconds}))
        journal.commit()
    return report


async def _gather_first_error(*coroutines: Coroutine[Any, Any, None]) -> None:
    """Run together; the first error cancels the rest and is raised as itself (not as a group)."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            error = task.exception()
            if error is not None:
                raise error
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
