"""Helpers for the deploy tests: the pinned plan, in-process CLI runs, and rendering into a folder."""

from __future__ import annotations

import copy
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from hashigo.cli import app

HERE = Path(__file__).parent
PLAN = HERE / "plan.json"  # `hashigo plan --json --websockets 200` for app "miru", pinned: fly → aws → cloud run
GOLDEN = HERE / "golden"
# The options every golden file is rendered with (besides --target and the pinned plan).
GOLDEN_ARGS = ["--env", "production", "--allowed-origin", "https://miru.example.jp", "--github-repo", "miru/app"]


def plan_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(PLAN.read_text(encoding="utf-8"))
    return copy.deepcopy(data)


def write_plan(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@contextmanager
def cwd(path: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def run(*args: str, at: Path | None = None) -> Any:
    """`hashigo ARGS` in-process (typer's runner), from folder ``at``."""
    runner = CliRunner()
    with cwd(at or Path.cwd()):
        return runner.invoke(app, list(args), catch_exceptions=False)


def files_of(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(folder.rglob("*")) if p.is_file()}


def copy_tree(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target
