"""What the storage commands share: size flags, exit codes, the default command, JSON output."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sys
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from hashigo.errors import BackendUnavailable, ConfigError, HashigoError

T = TypeVar("T")
out = Console()
err = Console(stderr=True)


class CopyByDefault(TyperGroup):
    """`hashigo migrate storage SRC DST` means `hashigo migrate storage copy SRC DST`."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # typer vendors click's Context
        if args and args[0] not in self.commands and args[0] not in {"--help", "-h"}:
            args = ["copy", *args]
        return super().parse_args(ctx, args)


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}

def fail(message: str, code: int) -> NoReturn:
    err.print(f"[red]hashigo:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def parse_size(flag: str, value: str, *, minimum: int = 1) -> int:
    match = _SIZE.match(value)
    if match is None:
        fail(f"{flag} {value!r} is not a size; accepted: bytes or a number with K/M/G/T (powers of 1024), "
             f"e.g. 16MiB", 2)
    unit = (match.group(2) or "").lower().rstrip("b").rstrip("i")
    size = int(float(match.group(1)) * _UNITS[unit])
    if size < minimum:
        fail(f"{flag} {value!r} is below the minimum of {minimum} bytes", 2)
    return size


def check_range(flag: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        fail(f"{flag} must be between {low} and {high}, got {value}", 2)


def run_async(work: Callable[[], Coroutine[Any, Any, T]], what: str) -> T:
    try:
        return asyncio.run(work())
    except ConfigError as exc:
        fail(str(exc), 2)
    except BackendUnavailable as exc:
        fail(f"{what}: backend unavailable: {exc}; nothing unverified was recorded as done, run it again to resume", 1)
    except HashigoError as exc:
        fail(f"{what}: {exc}", 1)


def show_progress(json_output: bool) -> bool:
    return not json_output and err.is_terminal


@contextlib.contextmanager
def config_errors() -> Iterator[None]:
    try:
        yield
    except ConfigError as exc:
        fail(str(exc), 2)


def emit_json(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")

