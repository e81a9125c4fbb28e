"""The PostgreSQL client programs (pg_dump, pg_restore): found, version-checked and run."""

from __future__ import annotations

import functools
import glob
import re
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from hashigo.ops.migrate.db.endpoints import Endpoint
from hashigo.ops.migrate.db.errors import MigrateDbError, PreflightBlocked


@dataclass(frozen=True)
class ClientTools:
    folder: Path
    major: int

    @property
    def pg_dump(self) -> str:
        return str(self.folder / "pg_dump")

    @property
    def pg_restore(self) -> str:
        return str(self.folder / "pg_restore")

    @property
    def psql(self) -> str | None:
        """psql from the same installation, when it is there (the copy reads the source through it)."""
        path = self.folder / "psql"
        return str(path) if path.exists() else None


def _candidates() -> list[Path]:
    folders = [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    found = shutil.which("pg_dump")
    if found:
        folders.append(Path(found).resolve().parent)
    return [f for f in folders if (f / "pg_dump").exists() and (f / "pg_restore").exists()]


def tool_major(program: str) -> int:
    output = subprocess.run([program, "--version"], capture_output=True, text=True, timeout=30).stdout
    match = re.search(r"(\d+)(?:\.\d+)?", output)
    if match is None:
        raise MigrateDbError(f"cannot read the version of {program}: {output.strip()!r}")
    return int(match.group(1))


@functools.cache  # the schema, post-data and copy steps each ask; the answer does not change mid-run
def find_client_tools(source_major: int) -> ClientTools:
    """pg_dump refuses servers newer than itself: pick the newest installed one, at least the source's."""
    seen = []
    for folder in _candidates():
        major = tool_major(str(folder / "pg_dump"))
        seen.append(major)
        if major >= source_major:
            return ClientTools(folder, major)
    have = ", ".join(str(m) for m in sorted(set(seen))) or "none"
    raise PreflightBlocked(f"pg_dump/pg_restore {source_major} or newer are needed for a PostgreSQL {source_major} "
                           f"source (installed: {have}); install postgresql-client-{source_major} "
                           f"(Debian/Ubuntu: apt-get install postgresql-client-{source_major} from apt.postgresql.org)")


def run_tool(argv: Sequence[str], endpoint: Endpoint, *, on_line: Callable[[str], None] | None = None,
             extra_env: dict[str, str] | None = None, timeout: float | None = None) -> tuple[int, list[str]]:
    """Run a client program with the password in its environment; return (exit code, stderr lines)."""
    lines: list[str] = []
    with subprocess.Popen(list(argv), env={**endpoint.child_env(), **(extra_env or {})}, stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) as proc:
        assert proc.stderr is not None
        for line in proc.stderr:
            line = line.rstrip("\n")
            lines.append(line)
            if on_line is not None:
                on_line(line)
        code = proc.wait(timeout=timeout)
    return code, lines


def error_lines(lines: list[str]) -> list[str]:
    """The lines of pg_dump/pg_restore output that report errors (with their detail lines)."""
    keep = []
    for line in lines:
        if ": error:" in line or line.startswith(("ERROR:", "DETAIL:", "HINT:")) or "Command was:" in line:
            keep.append(line.strip())
    return keep
