"""Bad requirements, override files and flags: one line per problem naming the field, exit 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ops.plan.helpers import invoke, run_plan, write_yaml


def refused(cwd: Path, *args: str) -> str:
    result = invoke(cwd, *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and result.stdout == "", result.stdout + result.stderr
    return result.stderr


def test_a_real_process_exits_2_without_a_traceback(tmp_path: Path) -> None:
    write_yaml(tmp_path / "hashigo-plan.yaml", {"users": {"mau": "many"}})
    result = run_plan(tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr and result.stdout == ""
    assert result.stderr.strip() == ("hashigo plan: hashigo-plan.yaml:users.mau: Input should be a valid number, "
                                     "unable to parse string as a number (got 'many')")


@pytest.mark.parametrize(("content", "expected"), [
    ({"users": {"mau": -5}}, "hashigo-plan.yaml:users.mau: Input should be greater than 0 (got -5)"),
    ({"usres": {"mau": 5}}, "hashigo-plan.yaml:usres: unknown field; accepted: ai, app, cache, commercial"),
    ({"users": {"mua": 5}}, "hashigo-plan.yaml:users.mua: unknown field; accepted: dau, mau"),
    ({"region": "tokio"}, "hashigo-plan.yaml:region: unknown region 'tokio'; accepted: tokyo, osaka"),
    ({"must_have": ["cli", "japan"]}, "hashigo-plan.yaml:must_have[1]: Input should be 'cli', 'autoscaling'"),
    ({"users": {"mau": 100, "dau": 500}}, "hashigo-plan.yaml:users: dau (500) cannot exceed mau (100)"),
    ({"ai": {"mode": "sometimes"}}, "hashigo-plan.yaml:ai.mode: Input should be 'none', 'realtime' or 'batch'"),
    ({"phases": [{"name": "a", "up_to_mau": 500}, {"name": "b", "up_to_mau": 100}]},
     "hashigo-plan.yaml:phases: upper bounds must increase from one phase to the next"),
    ({"phases": [{"name": "a"}]}, "hashigo-plan.yaml:phases[0]: give exactly one of up_to_mau, up_to_dau"),
    ({"stacks": ["aws-fargate", "heroku"]}, "stacks: unknown stack 'heroku'; accepted: vercel-render-supabase"),
    ({"reference": {"source": "x", "stack": "nope", "total_usd": 1}}, "reference.stack: unknown stack 'nope'"),
])
def test_requirement_errors_name_the_field(tmp_path: Path, content: dict[str, object], expected: str) -> None:
    write_yaml(tmp_path / "hashigo-plan.yaml", content)
    assert expected in refused(tmp_path)


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "hashigo-plan.yaml").write_text("users:\n  mau: 10\n  dau: [1,\n", encoding="utf-8")
    stderr = refused(tmp_path)
    assert "hashigo-plan.yaml:4:1: not valid YAML" in stderr


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    (tmp_path / "hashigo-plan.yaml").write_text("- 1\n- 2\n", encoding="utf-8")
    assert "the top level must be a mapping of fields, got list" in refused(tmp_path)


def test_missing_explicit_files(tmp_path: Path) -> None:
    assert "hashigo plan: nothere.yaml: no such file" in refused(tmp_path, "-r", "nothere.yaml")
    assert "hashigo plan: prices.yaml: no such file" in refused(tmp_path, "--prices", "prices.yaml")


def test_malformed_override_file_names_entry_and_field(tmp_path: Path) -> None:
    write_yaml(tmp_path / "hashigo-prices.yaml", {"entries": [
        {"id": "supabase.pro", "source": {"url": "contract:x", "read": "yesterday"}},
        {"id": "my.new", "provider": "X", "component": "compute"}]})
    stderr = refused(tmp_path)
    assert "hashigo plan: hashigo-prices.yaml:entries[0](supabase.pro).source.read: Input should be a valid date" \
        in stderr
    assert "hashigo-prices.yaml:entries[1](my.new).service: required field is missing" in stderr
    assert "hashigo-prices.yaml:entries[1](my.new).regions: required field is missing" in stderr


def test_bad_flags(tmp_path: Path) -> None:
    assert "--users: 'lots' is not a number" in refused(tmp_path, "--users", "lots")
    assert "--users: '5000..10': need 0 < LOW ≤ HIGH" in refused(tmp_path, "--users", "5000..10")
    assert "--compare: unknown stack 'heroku'" in refused(tmp_path, "--compare", "aws-fargate,heroku")
    assert "users.mau: Input should be greater than 0 (got 0.0)" in refused(tmp_path, "--mau", "0")
    assert "choose one output format, got --json and --html" in refused(tmp_path, "--json", "--html")
    assert "--output plan.txt: add --json, --markdown or --html" in refused(tmp_path, "-o", "plan.txt")
    assert "--component 'gpu': accepted: frontend, compute" in refused(tmp_path, "catalog", "--component", "gpu")
    assert "--example: unknown example 'seed9'" in refused(tmp_path, "init", "--example", "seed9")
