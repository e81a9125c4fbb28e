"""`hashigo deploy` on the command line: bad options are refused with a clear message and exit 2, existing
files are never overwritten silently, failures of validation exit 1, and --json is machine-readable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.ops.deploy.helpers import GOLDEN, PLAN, copy_tree, plan_data, run, write_plan


def test_an_unknown_target_names_the_accepted_ones(tmp_path: Path) -> None:
    result = run("deploy", "render", "--target", "nope", at=tmp_path)
    assert result.exit_code == 2
    assert "--target 'nope' is not a target" in result.output
    assert "container, compose, fly, render, railway, cloudrun, aws, github-actions, all" in result.output
    assert not (tmp_path / "deploy").exists()


@pytest.mark.parametrize(("target", "region", "platform"), [("render", "tokyo", "Render"),
                                                             ("railway", "osaka", "Railway"),
                                                             ("fly", "taipei", "Fly.io")])
def test_a_region_the_platform_lacks_is_an_error_when_asked_for(tmp_path: Path, target: str, region: str,
                                                                platform: str) -> None:
    result = run("deploy", "render", "--target", target, "--region", region, at=tmp_path)
    assert result.exit_code == 2
    assert f"--region {region}: {platform} has no such region" in result.output
    assert "singapore" in result.output  # the accepted list
    assert not (tmp_path / "deploy").exists()


def test_a_region_from_the_plan_falls_back_to_the_nearest_with_a_warning(tmp_path: Path) -> None:
    result = run("deploy", "render", "--target", "render", "--from-plan", str(PLAN), "--json", at=tmp_path)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["targets"][0]["region_code"] == "singapore"
    assert any("Render has no tokyo region (it has no region in Japan)" in w for w in data["warnings"])
    assert "WARNING: Render has no region in Japan" in (tmp_path / "deploy" / "render.yaml").read_text()


def test_a_plan_that_needs_websockets_on_request_billed_cloud_run_is_refused(tmp_path: Path) -> None:
    data = plan_data()
    scale = data["phases"][-1]
    for component in scale["components"]:
        if component["component"] == "compute":
            component["entry"] = "gcp.cloud-run"  # request-based billing: no long-lived sockets
    plan = write_plan(tmp_path / "plan.json", data)
    result = run("deploy", "render", "--target", "cloudrun", "--from-plan", str(plan), at=tmp_path)
    assert result.exit_code == 2
    assert "needs WebSocket connections (/api/v1/ws), but gcp.cloud-run (target cloudrun)" in result.output
    assert "--billing instance" in result.output
    flags = run("deploy", "render", "--target", "cloudrun", "--billing", "request", "--websocket", at=tmp_path)
    assert flags.exit_code == 2 and "gcp.cloud-run" in flags.output
    without = run("deploy", "render", "--target", "cloudrun", "--billing", "request", "--no-websocket", at=tmp_path)
    assert without.exit_code == 0, without.output
    assert 'run.googleapis.com/cpu-throttling: "true"' in (tmp_path / "deploy/cloudrun/service.yaml").read_text()


@pytest.mark.parametrize(("args", "message"), [
    (["--env", "qa"], "--env 'qa': accepted: staging, production"),
    (["--billing", "spot"], "--billing 'spot': accepted: instance, request"),
    (["--session-files-days", "0"], "--session-files-days 0: must be 1 or more"),
    (["--min-instances", "5", "--max-instances", "2"], "need 0 ≤ min ≤ max"),
    (["--app", "My_App"], "--app 'My_App': use 3-40 lowercase letters"),
    (["--phase", "mars"], "--phase mars: the plan (plan.json) has no such phase; accepted: launch, growth, scale"),
    (["--deploy-to", "heroku"], "--deploy-to 'heroku': accepted:"),
    (["--out", "/elsewhere"], "must be inside the repository root"),
])
def test_bad_options_exit_2_with_the_accepted_values(tmp_path: Path, args: list[str], message: str) -> None:
    result = run("deploy", "render", "--target", "all", "--from-plan", str(PLAN), *args, at=tmp_path)
    assert result.exit_code == 2, result.output
    assert message in result.output.replace("\n", " ")


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "not JSON (line 1"),
    ('{"version": 7, "phases": [], "region": "tokyo", "requirements": {}}', "plan format version 7"),
    ('{"version": 1, "region": "tokyo"}', "expected a list at 'phases'"),
])
def test_a_bad_plan_file_is_refused(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "plan.json").write_text(content)
    result = run("deploy", "render", "--target", "aws", "--from-plan", "plan.json", at=tmp_path)
    assert result.exit_code == 2
    assert message in result.output
    missing = run("deploy", "render", "--target", "aws", "--from-plan", "absent.json", at=tmp_path)
    assert missing.exit_code == 2 and "no such file" in missing.output


def test_existing_files_that_differ_are_kept_unless_forced(tmp_path: Path) -> None:
    assert run("deploy", "render", "--target", "fly", at=tmp_path).exit_code == 0
    fly = tmp_path / "deploy" / "fly.toml"
    edited = fly.read_text().replace("min_machines_running = 2", "min_machines_running = 3")
    fly.write_text(edited)
    again = run("deploy", "render", "--target", "fly", at=tmp_path)
    assert again.exit_code == 2
    assert "1 existing file(s) differ" in again.output and "fly.toml" in again.output
    assert fly.read_text() == edited
    forced = run("deploy", "render", "--target", "fly", "--force", "--json", at=tmp_path)
    assert forced.exit_code == 0
    assert json.loads(forced.stdout)["files"]["updated"] == ["fly.toml"]
    assert "min_machines_running = 2" in fly.read_text()
    unchanged = run("deploy", "render", "--target", "fly", "--json", at=tmp_path)
    assert unchanged.exit_code == 0 and json.loads(unchanged.stdout)["files"]["created"] == []


def test_render_exits_1_when_a_file_in_the_folder_does_not_validate(tmp_path: Path) -> None:
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "fly.toml").write_text("app = 'x'\n")  # no primary_region
    result = run("deploy", "render", "--target", "container", at=tmp_path)
    assert result.exit_code == 1
    assert "primary_region" in result.output


def test_validate_reports_each_file_and_exits_by_the_result(tmp_path: Path) -> None:
    good = run("deploy", "validate", str(GOLDEN / "fly"), "--json")
    assert good.exit_code == 0
    report = json.loads(good.stdout)
    assert report["ok"] and {f["path"] for f in report["files"]} == {"fly.toml", "README.md"}
    folder = copy_tree(GOLDEN / "render", tmp_path / "render")
    (folder / "render.yaml").write_text("services: [{type: web}]\n")
    bad = run("deploy", "validate", str(folder))
    assert bad.exit_code == 1
    assert "'name' is a required property" in bad.output and "failed" in bad.output
    assert run("deploy", "validate", str(tmp_path / "absent")).exit_code == 2
    (tmp_path / "empty").mkdir()
    empty = run("deploy", "validate", str(tmp_path / "empty"))
    assert empty.exit_code == 2 and "the folder is empty" in empty.output


def test_diff_between_phases_names_the_platform_sizes_files_and_steps() -> None:
    result = run("deploy", "diff", "--from", "launch", "--to", "growth", "--from-plan", str(PLAN), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    rows = {r["aspect"]: r for r in data["rows"]}
    assert (rows["deploy target"]["from"], rows["deploy target"]["to"]) == ("fly", "aws")
    assert rows["region"]["to"] == "tokyo (ap-northeast-1)" and rows["region"]["changed"]
    assert rows["database capacity"]["to"] == "0.5–4 ACU"
    assert "fly.toml" in data["files"]["removed"]
    assert "aws/terraform/modules/database/main.tf" in data["files"]["added"]
    commands = [c for step in data["steps"] for c in step["commands"]]
    assert 'hashigo migrate db run "$OLD_DATABASE_URL" "$NEW_DATABASE_URL"' in commands
    table = run("deploy", "diff", "--from", "launch", "--to", "scale", "--from-plan", str(PLAN))
    assert table.exit_code == 0 and "cloudrun" in table.output
    backwards = run("deploy", "diff", "--from", "scale", "--to", "launch", "--from-plan", str(PLAN))
    assert backwards.exit_code == 2 and "launch must come after scale" in backwards.output
