"""`hashigo deploy validate DIR`: every file under DIR, by the best validator available offline."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from hashigo.ops.deploy.errors import DeployInputError
from hashigo.ops.deploy.validate import formats
from hashigo.ops.deploy.validate.dockerfile import check_dockerfile, check_dockerignore
from hashigo.ops.deploy.validate.ecs import check_ecs
from hashigo.ops.deploy.validate.iam import check_policy
from hashigo.ops.deploy.validate.report import FileReport, Report
from hashigo.ops.deploy.validate.secrets import scan
from hashigo.ops.deploy.validate.shell import check_shell
from hashigo.ops.deploy.validate.terragrunt import check_tree

_SKIP_DIRS = {".terraform", ".terragrunt-cache", ".git"}


def classify(rel: PurePosixPath) -> str:
    name, parts = rel.name, rel.parts
    rules: tuple[tuple[bool, str], ...] = (
        (name == "Dockerfile" or name.endswith(".Dockerfile"), "dockerfile"),
        (name in {".dockerignore", "Dockerfile.dockerignore"}, "dockerignore"),
        (re.fullmatch(r"(docker-)?compose[\w.-]*\.ya?ml", name) is not None, "compose"),
        (name == "fly.toml", "fly"),
        (name == "render.yaml", "render"),
        (name == "railway.toml", "railway"),
        (name == "service.yaml" and "cloudrun" in parts, "cloudrun-service"),
        (name == "cloudbuild.yaml", "cloudbuild"),
        (name == "cors.json" and "cloudrun" in parts, "gcs-cors"),
        (name == "lifecycle.json" and "cloudrun" in parts, "gcs-lifecycle"),
        (len(parts) >= 3 and parts[-3:-1] == (".github", "workflows") and name.endswith((".yml", ".yaml")),
         "github-workflow"),
        (name.endswith(".sh"), "shell"),
        (name == "task-definition.json", "ecs-task-definition"),
        (name == "service.json" and "ecs" in parts, "ecs-service"),
        (name == "bucket-policy.json", "bucket-policy"),
        ("policies" in parts and name.endswith(".json"), "iam-policy"),
        (name.endswith((".tf", ".hcl")), "hcl"),
        (name.endswith(".md"), "documentation"),
    )
    return next((kind for matched, kind in rules if matched), "unknown")


def _check_one(report: FileReport, text: str) -> None:
    kind = report.kind
    if kind == "dockerfile":
        check_dockerfile(report, text)
    elif kind == "dockerignore":
        check_dockerignore(report, text)
    elif kind in formats.CHECKERS:
        formats.check_structured(report, text)
    elif kind == "shell":
        check_shell(report, text)
    elif kind in {"ecs-task-definition", "ecs-service", "bucket-policy", "iam-policy"}:
        data = formats.parse(report, text, "json")
        if data is not None:
            if kind.startswith("ecs"):
                check_ecs(report, data)
            else:
                check_policy(report, data, text)
    elif kind == "unknown":
        report.add("warning", "classify", "hashigo has no validator for this kind of file")


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and not _SKIP_DIRS & set(p.relative_to(root).parts))


def validate_dir(root: Path) -> Report:
    if not root.is_dir():
        raise DeployInputError([f"{root}: no such folder; render one with `hashigo deploy render --out {root}`"])
    files = _files(root)
    if not files:
        raise DeployInputError([f"{root}: the folder is empty; render into it with "
                                f"`hashigo deploy render --out {root}`"])
    reports: list[FileReport] = []
    hcl: dict[Path, tuple[FileReport, str]] = {}
    for path in files:
        rel = PurePosixPath(path.relative_to(root).as_posix())
        report = FileReport(str(rel), classify(rel))
        reports.append(report)
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError) as exc:
            report.error("read", f"cannot read it as UTF-8 text ({exc})")
            continue
        if report.kind != "documentation":
            scan(report, text)
        if report.kind == "hcl":
            hcl[path.resolve()] = (report, text)
        else:
            _check_one(report, text)
    if hcl:
        check_tree(hcl)
    return Report(str(root), reports)
