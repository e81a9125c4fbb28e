"""The price catalog ships inside the wheel: a non-editable install plans without the source tree."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PROBE = """
import sys
sys.path.insert(0, sys.argv[1])
import hashigo
from hashigo.ops.plan.catalog import load_builtin
from hashigo.ops.plan.planning import template_text
assert hashigo.__file__.startswith(sys.argv[1]), hashigo.__file__
catalog = load_builtin()
print(len(catalog.entries), len(catalog.stacks), len(template_text()) > 0, len(template_text("seed003-aws")) > 0)
"""


def test_wheel_contains_the_catalog_and_plans_from_it(tmp_path: Path) -> None:
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr[-3000:]
    wheel = next(tmp_path.glob("hashigo-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path / "unpacked")
    shipped = {n for n in names if n.startswith("hashigo/data/") and n.endswith(".yaml")}
    in_tree = {str(p.relative_to(ROOT / "src")) for p in (ROOT / "src/hashigo/data").rglob("*.yaml")}
    plan_files = {n for n in in_tree if n.startswith(("hashigo/data/catalog/", "hashigo/data/plan/"))}
    assert plan_files and plan_files <= shipped
    probe = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path / "unpacked")], capture_output=True,
                           text=True, timeout=120, cwd=tmp_path)
    assert probe.returncode == 0, probe.stderr[-3000:]
    from hashigo.ops.plan.catalog import load_builtin

    here = load_builtin()
    assert probe.stdout.split() == [str(len(here.entries)), str(len(here.stacks)), "True", "True"]
