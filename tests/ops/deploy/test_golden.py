"""Golden files per target: rendered from the pinned plan, compared byte for byte with the reviewed copies
under golden/. After a deliberate change, rerun with HASHIGO_UPDATE_GOLDEN=1, review the diff, commit."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from hashigo.ops.deploy.config import TARGETS
from hashigo.ops.deploy.validate import validate_dir
from tests.ops.deploy.helpers import GOLDEN, GOLDEN_ARGS, PLAN, files_of, run

UPDATE = os.environ.get("HASHIGO_UPDATE_GOLDEN") == "1"


@pytest.mark.parametrize("target", TARGETS)
def test_rendered_files_match_the_reviewed_golden_copies(target: str, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    result = run("deploy", "render", "--target", target, "--from-plan", str(PLAN), "--out", "deploy", *GOLDEN_ARGS,
                 at=repo)
    assert result.exit_code == 0, result.output
    rendered = files_of(repo / "deploy")
    golden = GOLDEN / target
    if UPDATE:
        shutil.rmtree(golden, ignore_errors=True)
        shutil.copytree(repo / "deploy", golden)
    expected = files_of(golden)
    assert sorted(rendered) == sorted(expected), "files added or missing; HASHIGO_UPDATE_GOLDEN=1 after review"
    for name, text in rendered.items():
        assert text == expected[name], f"{target}/{name} differs from its golden copy"


@pytest.mark.parametrize("target", TARGETS)
def test_every_golden_file_passes_validation(target: str) -> None:
    report = validate_dir(GOLDEN / target)
    failed = {f.path: [x.message for x in f.errors] for f in report.files if f.errors}
    assert report.ok, failed
    unchecked = [f.path for f in report.files if not f.checks and f.kind != "documentation"]
    assert unchecked == []
