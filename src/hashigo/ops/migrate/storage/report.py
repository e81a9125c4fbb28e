"""What a run did, as data (``--json``) and as a table."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

MAX_LISTED = 10_000
"""Longest list of keys printed in JSON; beyond it the report says how many were left out."""


@dataclass(frozen=True, slots=True)
class Failure:
    key: str
    reason: str
    attempts: int


@dataclass
class MigrationReport:
    source: str
    destination: str
    journal: str
    verify: str
    listed: int = 0
    listed_bytes: int = 0
    copied: int = 0
    copied_bytes: int = 0
    skipped: int = 0
    """Already copied and verified by an earlier run, and unchanged at the source since."""
    skipped_bytes: int = 0
    retries: int = 0
    parts_uploaded: int = 0
    parts_reused: int = 0
    verified_by: Counter[str] = field(default_factory=Counter)
    failures: list[Failure] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    not_deleted_reason: str | None = None
    seconds: float = 0.0
    peak_buffered_bytes: int = 0

    @property
    def ok(self) -> bool:
        return not self.failures

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["verified_by"] = dict(self.verified_by)
        data["failures"] = [asdict(f) for f in self.failures[:MAX_LISTED]]
        data["failures_left_out"] = max(0, len(self.failures) - MAX_LISTED)
        data["deleted"] = self.deleted[:MAX_LISTED]
        data["deleted_left_out"] = max(0, len(self.deleted) - MAX_LISTED)
        data["failed"] = len(self.failures)
        data["ok"] = self.ok
        data["bytes_per_second"] = self.copied_bytes / self.seconds if self.seconds > 0 else None
        return data


def human_bytes(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def print_report(console: Console, report: MigrationReport, *, failures_shown: int = 50) -> None:
    table = Table(title=escape(f"{report.source} → {report.destination}"), show_header=True, title_justify="left")
    table.add_column("")
    table.add_column("objects", justify="right")
    table.add_column("bytes", justify="right")
    table.add_row("listed", f"{report.listed:,}", human_bytes(report.listed_bytes))
    table.add_row("copied and verified", f"{report.copied:,}", human_bytes(report.copied_bytes))
    table.add_row("already done (journal)", f"{report.skipped:,}", human_bytes(report.skipped_bytes))
    table.add_row("[red]failed[/red]" if report.failures else "failed", f"{len(report.failures):,}", "")
    if report.deleted:
        table.add_row("deleted at destination", f"{len(report.deleted):,}", "")
    console.print(table)
    rate = human_bytes(report.copied_bytes / report.seconds) + "/s" if report.seconds > 0 else "-"
    verified = ", ".join(f"{n:,} by {how}" for how, n in sorted(report.verified_by.items())) or "nothing copied"
    console.print(f"{report.seconds:.1f}s, {rate}; verified: {verified}; retries: {report.retries}; "
                  f"parts uploaded {report.parts_uploaded}, reused {report.parts_reused}; "
                  f"journal {escape(report.journal)}",
                  highlight=False)
    if report.not_deleted_reason:
        console.print(f"[yellow]extraneous objects not deleted:[/yellow] {escape(report.not_deleted_reason)}")
    if report.failures:
        failed = Table(title="failed objects", title_justify="left")
        failed.add_column("key")
        failed.add_column("attempts", justify="right")
        failed.add_column("reason")
        for failure in report.failures[:failures_shown]:
            failed.add_row(escape(failure.key), str(failure.attempts), escape(failure.reason))
        console.print(failed)
        if len(report.failures) > failures_shown:
            console.print(f"… and {len(report.failures) - failures_shown} more (--json lists them all)")
