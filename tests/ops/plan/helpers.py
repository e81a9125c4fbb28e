"""Helpers for the plan tests: build requirements in-process, run the real CLI in a subprocess."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from hashigo.ops.plan.catalog import Catalog, load_builtin
from hashigo.ops.plan.costing import Context, EntryCost, Line, cost_entry
from hashigo.ops.plan.demand import demand_at
from hashigo.ops.plan.quantities import SlotTraffic
from hashigo.ops.plan.requirements import Requirements, parse_requirements

_CATALOG: Catalog | None = None


def catalog() -> Catalog:
    global _CATALOG
    if _CATALOG is None:
        _CATALOG = load_builtin()
    return _CATALOG


def requirements(**sections: Any) -> Requirements:
    """Requirements from keyword sections, e.g. requirements(users={"mau": 1000}, database={"size_gb": 2})."""
    return parse_requirements(sections, "test")


def cost(entry_id: str, req: Requirements, mau: float | None = None, *, ha: bool = False,
         must_have: tuple[str, ...] | None = None, egress_gb: float = 0.0, requests: float = 0.0,
         commercial: bool | None = None) -> EntryCost:
    demand = demand_at(req, mau or req.users.mau, ha=ha)
    ctx = Context(req.region, req.commercial if commercial is None else commercial,
                  frozenset(req.must_have if must_have is None else must_have))
    return cost_entry(catalog().entries[entry_id], demand, ctx, SlotTraffic(egress_gb, "test", requests, "test"))


def line(result: EntryCost, kind: str) -> Line:
    found = [x for x in result.lines if x.kind == kind]
    assert len(found) == 1, f"{kind}: {[x.kind for x in result.lines]}"
    return found[0]


def run_plan(cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`hashigo plan ARGS` in a real process (what a user runs)."""
    env = {k: v for k, v in os.environ.items() if k != "HASHIGO_DEBUG"}
    env["COLUMNS"] = "160"
    return subprocess.run([sys.executable, "-m", "hashigo", "plan", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


@contextlib.contextmanager
def _inside(folder: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def invoke(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The same command through typer's runner, in this process: the same app, without interpreter start-up."""
    from typer.testing import CliRunner

    from hashigo.cli import app

    with _inside(cwd):
        result = CliRunner().invoke(app, ["plan", *args], env={"COLUMNS": "160"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(["hashigo", "plan", *args], result.exit_code, result.stdout, result.stderr)


def plan_json(cwd: Path, *args: str) -> dict[str, Any]:
    result = invoke(cwd, *args, "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def write_yaml(path: Path, data: Any) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path
