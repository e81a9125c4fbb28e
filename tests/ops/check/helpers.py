"""Helpers for the check tests: run `hashigo check` in-process (typer's runner) or as a real process,
write rules files, and insert history as a long-running `--watch` would have recorded it."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from hashigo.ops.check.history import History

# Sources the environment would otherwise add (the service on :8000, the data dir's SQLite and folder).
SKIP_AUTO = ("--skip", "service", "--skip", "postgres", "--skip", "redis", "--skip", "storage")
DAY = 86400.0


@contextlib.contextmanager
def inside(folder: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def invoke(cwd: Path, *args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`hashigo check ARGS` through typer's runner, in this process."""
    from typer.testing import CliRunner

    from hashigo.cli import app

    with inside(cwd):
        result = CliRunner().invoke(app, ["check", *args], env={"COLUMNS": "200", **(env or {})})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(["hashigo", "check", *args], result.exit_code, result.stdout, result.stderr)


def run(cwd: Path, *args: str, env: Mapping[str, str] | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`hashigo check ARGS` as a real process: what a user, cron or CI runs."""
    full = {k: v for k, v in os.environ.items() if k != "HASHIGO_DEBUG"}
    full.update({"COLUMNS": "200", **(env or {})})
    return subprocess.run([sys.executable, "-m", "hashigo", "check", *args], cwd=cwd, env=full,
                          capture_output=True, text=True, timeout=timeout)


def as_json(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert lines, f"no JSON on stdout (exit {result.returncode}): {result.stderr}"
    data: dict[str, Any] = json.loads(lines[-1])
    return data


def rule(data: dict[str, Any], name: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [r for r in data["rules"] if r["rule"] == name]
    assert found, f"no rule {name} in {[r['rule'] for r in data['rules']]}"
    return found[0]


def source(data: dict[str, Any], name: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [s for s in data["sources"] if s["source"] == name]
    assert found, f"no source {name} in {[s['source'] for s in data['sources']]}"
    return found[0]


def write_rules(folder: Path, rules: dict[str, Any], **top: Any) -> Path:
    path = folder / "rules.yaml"
    path.write_text(yaml.safe_dump({"default_rules": False, "rules": rules, **top}, sort_keys=False))
    return path


def insert_history(path: Path, metric: str, points: list[tuple[float, float]], source: str = "values") -> None:
    """(days ago, value) samples, as earlier runs would have stored them."""
    now = time.time()
    with History(path) as history:
        for days_ago, value in points:
            history.record(now - days_ago * DAY, [(metric, value, source)])
