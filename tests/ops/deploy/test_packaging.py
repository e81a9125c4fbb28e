"""The deploy templates and schemas ship inside the wheel: a non-editable install renders and validates."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PROBE = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import hashigo
assert hashigo.__file__.startswith(sys.argv[1]), hashigo.__file__
from hashigo.ops.deploy.config import Options
from hashigo.ops.deploy.pipeline import render_and_write
rendered, written, report = render_and_write("all", Options(out_dir="deploy"), None, Path("deploy"), False)
print(len(written.created), report.ok)
"""


def test_wheel_renders_and_validates_without_the_source_tree(tmp_path: Path) -> None:
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr[-3000:]
    wheel = next(tmp_path.glob("hashigo-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path / "unpacked")
    in_tree = {str(p.relative_to(ROOT / "src")) for p in (ROOT / "src/hashigo/data/deploy").rglob("*") if p.is_file()}
    assert in_tree and in_tree <= names, sorted(in_tree - names)
    work = tmp_path / "repo"
    work.mkdir()
    probe = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path / "unpacked")], capture_output=True,
                           text=True, timeout=180, cwd=work)
    assert probe.returncode == 0, probe.stderr[-3000:]
    created, ok = probe.stdout.split()
    assert int(created) > 55 and ok == "True"
