"""The issue's Done-when: `hashigo deploy render --target aws --env production` gives a folder whose every
file validates, whose README says how to apply it, and whose choices come from the plan, not constants."""

from __future__ import annotations

import json
import re
from pathlib import Path

from hashigo.ops.deploy.validate import validate_dir
from tests.ops.deploy.helpers import plan_data, run, write_plan


def test_a_new_user_gets_a_valid_folder_with_a_readme(tmp_path: Path) -> None:
    result = run("deploy", "render", "--target", "aws", "--env", "production", at=tmp_path)
    assert result.exit_code == 0, result.output
    folder = tmp_path / "deploy"
    report = validate_dir(folder)
    assert report.ok and len(report.files) > 40
    assert all(f.checks for f in report.files if f.path != "README.md")
    readme = (folder / "README.md").read_text()
    for needed in ("## How to apply", "terragrunt run-all apply", "aws ssm put-parameter --overwrite",
                   "aws/terraform/live/production", "Aurora Serverless v2 0.5–4.0 ACU, Multi-AZ, 7-day backups"):
        assert needed in readme, needed
    for module in ("network", "security", "compute", "database", "storage", "monitoring"):
        assert (folder / "aws/terraform/modules" / module / "main.tf").is_file()
        for env in ("staging", "production"):
            assert (folder / "aws/terraform/live" / env / module / "terragrunt.hcl").is_file()


def _aws_values(folder: Path) -> dict[str, str]:
    task = json.loads((folder / "aws/ecs/production/task-definition.json").read_text())
    live = folder / "aws/terraform/live/production"
    text = {name: (live / name / "terragrunt.hcl").read_text() for name in ("compute", "database", "storage")}

    def value(unit: str, name: str) -> str:
        found = re.search(rf"^\s*{name}\s*=\s*(.+)$", text[unit], re.MULTILINE)
        assert found, name
        return found.group(1).strip()
    return {"cpu": task["cpu"], "memory": task["memory"],
            "region": re.search(r'region = "(.+)"', (live / "env.hcl").read_text()).group(1),  # type: ignore[union-attr]
            "min_tasks": value("compute", "min_tasks"), "max_tasks": value("compute", "max_tasks"),
            "max_acu": value("database", "max_acu"), "cache": value("database", "cache_node_type"),
            "idle_timeout": value("compute", "idle_timeout_seconds"),
            "session_days": value("storage", "session_files_days")}


def test_sizes_regions_and_lifecycle_follow_the_plan(tmp_path: Path) -> None:
    base = plan_data()
    bigger = plan_data()
    bigger["region"] = "singapore"
    bigger["requirements"]["traffic"].update(instance_vcpu=2, instance_memory_gb=4)
    bigger["requirements"]["websocket"]["concurrent"] = 0
    growth = bigger["phases"][1]
    growth["usage"].update(busy_vcpu_peak=20.0, ha=True)
    for component in growth["components"]:
        if component["component"] == "compute":
            component["instances"] = 3
        if component["component"] == "database":
            component["size"] = "db.r6g.4xlarge"
        if component["component"] == "cache":
            component["size"] = "cache.r7g.large"
    values = {}
    for name, data, extra in (("base", base, []), ("bigger", bigger, ["--session-files-days", "3"])):
        repo = tmp_path / name
        repo.mkdir()
        plan = write_plan(repo / "plan.json", data)
        result = run("deploy", "render", "--target", "aws", "--from-plan", str(plan), *extra, at=repo)
        assert result.exit_code == 0, result.output
        values[name] = _aws_values(repo / "deploy")
    assert values["base"] == {"cpu": "512", "memory": "1024", "region": "ap-northeast-1", "min_tasks": "1",
                              "max_tasks": "8", "max_acu": "4", "cache": '"cache.t4g.small"', "idle_timeout": "3600",
                              "session_days": "7"}
    assert values["bigger"] == {"cpu": "2048", "memory": "4096", "region": "ap-southeast-1", "min_tasks": "3",
                                "max_tasks": "34", "max_acu": "64", "cache": '"cache.r7g.large"', "idle_timeout": "60",
                                "session_days": "3"}


def test_the_real_plan_engine_drives_the_region(tmp_path: Path) -> None:
    planned = run("plan", "--json", "--region", "seoul", "-o", "plan.json", at=tmp_path)
    assert planned.exit_code == 0, planned.output
    result = run("deploy", "render", "--target", "aws,fly,cloudrun", "--from-plan", "plan.json", "--json", at=tmp_path)
    assert result.exit_code == 0, result.output
    regions = {t["target"]: t["region_code"] for t in json.loads(result.stdout)["targets"]}
    assert regions == {"aws": "ap-northeast-2", "fly": "sin", "cloudrun": "asia-northeast3"}
    assert 'primary_region = "sin"' in (tmp_path / "deploy/fly.toml").read_text()
