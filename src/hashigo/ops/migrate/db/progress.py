"""Progress for people (rich bars: one overall, one per table in flight) or nothing (--json)."""

from __future__ import annotations

import threading
from typing import Protocol

from rich import filesize
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class Reporter(Protocol):
    def phase(self, name: str, total: float, *, in_bytes: bool) -> None: ...
    def item(self, key: str, total: float, *, in_bytes: bool | None = None) -> None: ...
    def advance(self, key: str, amount: float, *, overall: bool = True) -> None: ...
    def item_done(self, key: str) -> None: ...
    def note(self, text: str) -> None: ...
    def end_phase(self) -> None: ...


class SilentReporter:
    """For --json and for library use: the report at the end says everything."""

    def phase(self, name: str, total: float, *, in_bytes: bool) -> None: ...
    def item(self, key: str, total: float, *, in_bytes: bool | None = None) -> None: ...
    def advance(self, key: str, amount: float, *, overall: bool = True) -> None: ...
    def item_done(self, key: str) -> None: ...
    def note(self, text: str) -> None: ...
    def end_phase(self) -> None: ...


class _Amount(ProgressColumn):
    """Bytes (with speed) for byte bars, n/m for counted ones, in the same column."""

    def render(self, task: Task) -> Text:
        total = int(task.total or 0)
        if task.fields.get("in_bytes"):
            speed = f" {filesize.decimal(int(task.speed))}/s" if task.speed else ""
            return Text(f"{filesize.decimal(int(task.completed))}/{filesize.decimal(total)}{speed}")
        return Text(f"{int(task.completed)}/{total}")


class RichReporter:
    """Bars on stderr; per-table bars disappear when the table is done so the screen stays short."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._lock = threading.Lock()
        self._progress: Progress | None = None
        self._overall: TaskID | None = None
        self._items: dict[str, TaskID] = {}
        self._in_bytes = True

    def phase(self, name: str, total: float, *, in_bytes: bool) -> None:
        self.end_phase()
        self._progress = Progress(TextColumn("{task.description}", style="bold"), BarColumn(), _Amount(),
                                  TimeElapsedColumn(), TimeRemainingColumn(), console=self.console,
                                  transient=False, refresh_per_second=4)
        self._progress.start()
        self._overall = self._progress.add_task(name, total=max(total, 1), in_bytes=in_bytes)
        self._in_bytes = in_bytes
        self._items = {}

    def item(self, key: str, total: float, *, in_bytes: bool | None = None) -> None:
        with self._lock:
            if self._progress is not None and key not in self._items:
                counted = self._in_bytes if in_bytes is None else in_bytes
                self._items[key] = self._progress.add_task(f"  {key}", total=max(total, 1), in_bytes=counted)

    def advance(self, key: str, amount: float, *, overall: bool = True) -> None:
        if self._progress is None or self._overall is None:
            return
        with self._lock:
            task = self._items.get(key)
        if task is not None:
            self._progress.advance(task, amount)
        if overall:
            self._progress.advance(self._overall, amount)

    def item_done(self, key: str) -> None:
        with self._lock:
            task = self._items.pop(key, None)
        if self._progress is not None and task is not None:
            self._progress.update(task, visible=False)

    def note(self, text: str) -> None:
        (self._progress.console if self._progress else self.console).print(text, highlight=False)

    def end_phase(self) -> None:
        if self._progress is not None:
            if self._overall is not None:
                total = self._progress.tasks[self._overall].total or 0
                self._progress.update(self._overall, completed=total)
            self._progress.stop()
        self._progress = None
        self._overall = None
        self._items = {}
