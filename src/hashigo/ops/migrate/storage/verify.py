"""`verify SRC DST`: read both sides and list every difference (missing, extra, size, content).

Content is compared by SHA-256 of the bytes read from each side, so the check trusts no ETag,
no journal and no earlier run. Objects are hashed as they stream; memory stays bounded.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hashigo.errors import BackendUnavailable, HashigoError
from hashigo.ops.migrate.storage.checksums import RunningDigests
from hashigo.ops.migrate.storage.engine import NoProgress, Progress
from hashigo.ops.migrate.storage.filters import KeyFilter
from hashigo.ops.migrate.storage.report import MAX_LISTED, human_bytes
from hashigo.storage import ObjectInfo, ObjectNotFound, ObjectStore

DifferenceKind = Literal["missing", "extra", "size", "content", "unreadable"]
_READ_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class Difference:
    key: str
    kind: DifferenceKind
    detail: str


@dataclass
class VerifyReport:
    source: str
    destination: str
    source_objects: int = 0
    destination_objects: int = 0
    compared: int = 0
    compared_bytes: int = 0
    differences: list[Difference] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.differences

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["differences"] = [asdict(d) for d in sorted(self.differences, key=lambda d: d.key)[:MAX_LISTED]]
        data["differences_left_out"] = max(0, len(self.differences) - MAX_LISTED)
        data["difference_count"] = len(self.differences)
        data["ok"] = self.ok
        return data


async def _listing(store: ObjectStore, key_filter: KeyFilter) -> dict[str, ObjectInfo]:
    return {info.key: info async for info in store.list(key_filter.prefix) if key_filter.matches(info.key)}


async def _sha256(store: ObjectStore, key: str, progress: Progress) -> tuple[int, str]:
    for attempt in range(1, _READ_ATTEMPTS + 1):
        digests = RunningDigests(md5=False)
        try:
            async for chunk in await store.get(key):
                await digests.update(chunk)
                progress.advance(len(chunk))
            return digests.size, digests.sha256.hexdigest()
        except BackendUnavailable:
            progress.advance(-digests.size)
            if attempt == _READ_ATTEMPTS:
                raise
            await asyncio.sleep(0.5 * attempt)
    raise AssertionError("unreachable")


async def _compare(source: ObjectStore, destination: ObjectStore, key: str, progress: Progress) -> Difference | None:
    try:
        (src_size, src_sha), (dst_size, dst_sha) = await asyncio.gather(
            _sha256(source, key, progress), _sha256(destination, key, progress))
    except ObjectNotFound as exc:
        return Difference(key, "unreadable", f"vanished while being compared: {exc}")
    except HashigoError as exc:
        return Difference(key, "unreadable", str(exc))
    if src_size != dst_size:
        return Difference(key, "size", f"source sent {src_size} bytes, destination {dst_size}")
    if src_sha != dst_sha:
        return Difference(key, "content", f"SHA-256 source {src_sha[:16]}…, destination {dst_sha[:16]}…")
    return None


async def run_verify(source: ObjectStore, destination: ObjectStore, key_filter: KeyFilter, report: VerifyReport,
                     *, concurrency: int = 8, progress: Progress | None = None) -> VerifyReport:
    shown = progress or NoProgress()
    started = time.monotonic()
    src, dst = await asyncio.gather(_listing(source, key_filter), _listing(destination, key_filter))
    report.source_objects, report.destination_objects = len(src), len(dst)
    for key in sorted(src.keys() - dst.keys()):
        report.differences.append(Difference(key, "missing", f"{src[key].size} bytes at the source, none here"))
    for key in sorted(dst.keys() - src.keys()):
        report.differences.append(Difference(key, "extra", "at the destination only"))
    common = sorted(src.keys() & dst.keys())
    for key in common:
        shown.found(src[key].size + dst[key].size)
    shown.listing_done()
    queue: asyncio.Queue[str] = asyncio.Queue()
    for key in common:
        queue.put_nowait(key)

    async def worker() -> None:
        while not queue.empty():
            key = queue.get_nowait()
            if src[key].size != dst[key].size:
                report.differences.append(
                    Difference(key, "size", f"source lists {src[key].size} bytes, destination {dst[key].size}"))
                shown.advance(src[key].size + dst[key].size)
            else:
                difference = await _compare(source, destination, key, shown)
                if difference is not None:
                    report.differences.append(difference)
            report.compared += 1
            report.compared_bytes += src[key].size
            shown.finished()

    await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))
    report.seconds = time.monotonic() - started
    return report


def print_verify(console: Console, report: VerifyReport, *, shown: int = 50) -> None:
    verdict = "[green]no differences[/green]" if report.ok else f"[red]{len(report.differences)} differences[/red]"
    console.print(f"{escape(report.source)} → {escape(report.destination)}: {report.compared:,} objects compared "
                  f"({human_bytes(report.compared_bytes)}) by SHA-256 of both sides in {report.seconds:.1f}s; "
                  f"{verdict}", highlight=False)
    if report.differences:
        table = Table(title="differences", title_justify="left")
        for column in ("key", "kind", "detail"):
            table.add_column(column)
        for difference in sorted(report.differences, key=lambda d: d.key)[:shown]:
            table.add_row(escape(difference.key), difference.kind, escape(difference.detail))
        console.print(table)
        if len(report.differences) > shown:
            console.print(f"… and {len(report.differences) - shown} more (--json lists them all)")
