"""What `hashigo deploy validate` found, per file: the checks that ran and what each said."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Level = Literal["error", "warning", "note"]


@dataclass(frozen=True)
class Finding:
    level: Level
    check: str
    message: str


@dataclass
class FileReport:
    path: str
    kind: str
    checks: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def ran(self, check: str) -> None:
        if check not in self.checks:
            self.checks.append(check)

    def add(self, level: Level, check: str, message: str) -> None:
        self.ran(check)
        finding = Finding(level, check, message)
        if finding not in self.findings:
            self.findings.append(finding)

    def error(self, check: str, message: str) -> None:
        self.add("error", check, message)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error"]

    @property
    def status(self) -> str:
        if self.errors:
            return "failed"
        return "not checked" if not self.checks else "ok"


@dataclass
class Report:
    root: str
    files: list[FileReport]
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(f.errors for f in self.files)

    def as_dict(self) -> dict[str, Any]:
        return {"root": self.root, "ok": self.ok, "notes": self.notes,
                "files": [{"path": f.path, "kind": f.kind, "status": f.status, "checks": f.checks,
                           "findings": [{"level": x.level, "check": x.check, "message": x.message} for x in f.findings]}
                          for f in self.files]}
