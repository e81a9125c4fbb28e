"""`plan SRC DST` (also `--dry-run`): what a run would copy, skip, resume and delete, and how long it may take.

Reads listings and the journal only: nothing is written anywhere, not even the journal.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hashigo.ops.migrate.storage.filters import KeyFilter
from hashigo.ops.migrate.storage.journal import Journal, SourceIdentity
from hashigo.ops.migrate.storage.report import MAX_LISTED, human_bytes
from hashigo.storage import ObjectInfo, ObjectStore

ASSUMED_BYTES_PER_SECOND = 50 * 1024 * 1024
ASSUMED_OBJECTS_PER_SECOND = 200.0


@dataclass
class Bucket:
    """A group of objects in the plan."""

    objects: int = 0
    bytes: int = 0
    keys: list[str] = field(default_factory=list)

    def add(self, key: str, size: int) -> None:
        self.objects += 1
        self.bytes += size
        if len(self.keys) < MAX_LISTED:
            self.keys.append(key)


@dataclass
class PlanReport:
    source: str
    destination: str
    journal: str
    new: Bucket = field(default_factory=Bucket)
    """Not copied yet (or failed before); the destination has no object under that key."""
    overwrite: Bucket = field(default_factory=Bucket)
    """Not recorded as copied, but the destination has an object there: it will be replaced."""
    changed: Bucket = field(default_factory=Bucket)
    """Copied by an earlier run, changed at the source since: copied again."""
    up_to_date: Bucket = field(default_factory=Bucket)
    extraneous: Bucket = field(default_factory=Bucket)
    """At the destination only; deleted only with --delete-extraneous --yes-delete-extraneous."""
    resumable_uploads: int = 0
    estimated_seconds: float = 0.0
    estimate_basis: str = ""

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("new", "overwrite", "changed", "up_to_date", "extraneous"):
            bucket: Bucket = getattr(self, name)
            data[name]["keys_left_out"] = bucket.objects - len(bucket.keys)
        data["to_copy_objects"] = self.new.objects + self.overwrite.objects + self.changed.objects
        data["to_copy_bytes"] = self.new.bytes + self.overwrite.bytes + self.changed.bytes
        return data


async def _listing(store: ObjectStore, key_filter: KeyFilter) -> dict[str, ObjectInfo]:
    return {info.key: info async for info in store.list(key_filter.prefix) if key_filter.matches(info.key)}


def _estimate(report: PlanReport, journal: Journal | None) -> None:
    objects = report.new.objects + report.overwrite.objects + report.changed.objects
    size = report.new.bytes + report.overwrite.bytes + report.changed.bytes
    rate = json.loads(journal.get_meta("last_rate") or "null") if journal is not None else None
    if rate:
        bytes_rate, objects_rate = float(rate["bytes_per_second"]), float(rate["objects_per_second"])
        report.estimate_basis = "the previous run's rate on this journal"
    else:
        bytes_rate, objects_rate = ASSUMED_BYTES_PER_SECOND, ASSUMED_OBJECTS_PER_SECOND
        report.estimate_basis = (f"assumed {human_bytes(bytes_rate)}/s and {objects_rate:.0f} objects/s "
                                 f"(no earlier run on this journal)")
    report.estimated_seconds = max(size / bytes_rate, objects / objects_rate) if objects else 0.0


async def make_plan(source: ObjectStore, destination: ObjectStore, journal: Journal | None, key_filter: KeyFilter,
                    report: PlanReport) -> PlanReport:
    src, dst = await asyncio.gather(_listing(source, key_filter), _listing(destination, key_filter))
    done = journal.done if journal is not None else {}
    for key in sorted(src):
        info = src[key]
        recorded = done.get(key)
        if recorded == SourceIdentity.of(info):
            report.up_to_date.add(key, info.size)
        elif recorded is not None:
            report.changed.add(key, info.size)
        elif key in dst:
            report.overwrite.add(key, info.size)
        else:
            report.new.add(key, info.size)
    for key in sorted(dst.keys() - src.keys()):
        report.extraneous.add(key, dst[key].size)
    report.resumable_uploads = len(journal.open_uploads()) if journal is not None else 0
    _estimate(report, journal)
    return report


def print_plan(console: Console, report: PlanReport, *, sample: int = 5) -> None:
    table = Table(title=escape(f"plan: {report.source} → {report.destination}"), title_justify="left")
    for column, justify in (("", "left"), ("objects", "right"), ("bytes", "right"), ("e.g.", "left")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    rows = (("copy (new)", report.new), ("copy (replaces a destination object)", report.overwrite),
            ("copy again (changed at source)", report.changed), ("skip (done, unchanged)", report.up_to_date),
            ("extraneous at destination", report.extraneous))
    for label, bucket in rows:
        table.add_row(label, f"{bucket.objects:,}", human_bytes(bucket.bytes), escape(", ".join(bucket.keys[:sample])))
    console.print(table)
    minutes, seconds = divmod(int(report.estimated_seconds + 0.5), 60)
    console.print(f"estimated time: {minutes}m{seconds:02d}s ({report.estimate_basis}); "
                  f"uploads to resume: {report.resumable_uploads}; journal: {escape(report.journal)}", highlight=False)
