"""Shell scripts: `bash -n` (syntax) always, and ShellCheck when it is installed (Debian package shellcheck)."""

from __future__ import annotations

import json
import shutil
import subprocess

from hashigo.ops.deploy.validate.report import FileReport, Level


def check_shell(report: FileReport, text: str) -> None:
    done = subprocess.run(["bash", "-n"], input=text, capture_output=True, text=True, timeout=30, check=False)
    report.ran("bash -n")
    if done.returncode != 0:
        report.error("bash -n", done.stderr.strip()[:300])
        return
    binary = shutil.which("shellcheck")
    if binary is None:
        report.add("note", "shellcheck", "not installed (apt-get install shellcheck); only the syntax was checked")
        return
    done = subprocess.run([binary, "-f", "json", "-s", "bash", "-"], input=text, capture_output=True, text=True,
                          timeout=60, check=False)
    report.ran("shellcheck")
    for issue in json.loads(done.stdout or "[]"):
        level: Level = "error" if issue.get("level") in {"error", "warning"} else "note"
        report.add(level, "shellcheck", f"line {issue.get('line')}: SC{issue.get('code')} {issue.get('message')}")
