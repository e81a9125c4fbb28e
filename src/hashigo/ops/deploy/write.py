"""Writing rendered files: nothing that differs is overwritten without --force, and nothing is half-written."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from hashigo.ops.deploy.errors import DeployInputError

EXECUTABLE = (".sh",)


@dataclass
class WriteResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def status(self, path: str) -> str:
        return "created" if path in self.created else "updated" if path in self.updated else "unchanged"


def out_dir_in_repo(out: Path, repo_root: Path) -> str:
    """The output folder as a path from the repository root (the Docker build context)."""
    try:
        rel = out.resolve().relative_to(repo_root.resolve())
    except ValueError:
        raise DeployInputError([f"--out {out}: must be inside the repository root {repo_root} (the build context); "
                                f"run from the repository root or pass --repo-root"]) from None
    return rel.as_posix() if rel.parts else "."


def write_files(out: Path, files: dict[str, str], force: bool) -> WriteResult:
    result = WriteResult()
    conflicts = []
    for rel, text in sorted(files.items()):
        path = out / rel
        if path.is_dir():
            raise DeployInputError([f"{path}: is a folder where a file would be written"])
        if not path.exists():
            result.created.append(rel)
        elif path.read_text(encoding="utf-8", errors="replace") == text:
            result.unchanged.append(rel)
        else:
            result.updated.append(rel)
            conflicts.append(rel)
    if conflicts and not force:
        shown = ", ".join(conflicts[:8]) + (f" and {len(conflicts) - 8} more" if len(conflicts) > 8 else "")
        raise DeployInputError([f"{out}: {len(conflicts)} existing file(s) differ from what would be written "
                                f"({shown}); nothing was written. Pass --force to replace them (commit first), or "
                                f"choose another --out"])
    for rel in result.created + result.updated:
        _write_atomically(out / rel, files[rel])
    return result


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temp, 0o755 if path.name.endswith(EXECUTABLE) else 0o644)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
