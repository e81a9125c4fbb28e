"""A rich progress bar for copy and verify runs: objects, bytes, rate and time left, on stderr."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)


class RichProgress:
    def __init__(self, console: Console, verb: str) -> None:
        self._verb = verb
        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[objects]}"),
            DownloadColumn(binary_units=True),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
            refresh_per_second=4,
        )
        self._task: TaskID | None = None
        self._objects_total = 0
        self._objects_done = 0
        self._bytes_total = 0
        self._listing = True

    def __enter__(self) -> RichProgress:
        self._bar.start()
        self._task = self._bar.add_task(f"{self._verb} (listing…)", total=None, objects="0/0 objects")
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._bar.stop()

    def _objects(self) -> str:
        total = f"{self._objects_total:,}" + ("+" if self._listing else "")
        return f"{self._objects_done:,}/{total} objects"

    def found(self, size: int) -> None:
        assert self._task is not None
        self._objects_total += 1
        self._bytes_total += size
        self._bar.update(self._task, total=self._bytes_total, objects=self._objects())

    def listing_done(self) -> None:
        assert self._task is not None
        self._listing = False
        self._bar.update(self._task, description=self._verb, total=self._bytes_total, objects=self._objects())

    def advance(self, size: int) -> None:
        assert self._task is not None
        self._bar.advance(self._task, size)

    def finished(self, *, skipped: bool = False) -> None:
        assert self._task is not None
        self._objects_done += 1
        self._bar.update(self._task, objects=self._objects())
