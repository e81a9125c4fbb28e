"""Two real PostgreSQL databases (source and target), SQLite files, and the CLI run as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

HERE = Path(__file__).parent


@pytest.fixture(autouse=True)
def client_tools() -> None:
    """pg_dump/pg_restore come with the PostgreSQL packages; without them the schema step cannot run."""
    import glob

    from tests.harness.base import find_executable, missing_server

    folders = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    if not (find_executable("pg_dump", *folders) and find_executable("pg_restore", *folders)):
        missing_server("pg_dump", "install the PostgreSQL client tools (`apt-get install postgresql-client`)")


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)


def migrate(cwd: Path, *args: str, timeout: float = 180) -> Result:
    """`hashigo migrate db ARGS` in a fresh process, the way a user (or a script) runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "PG", "HASHIGO_PROGRESS"))}
    proc = subprocess.run([sys.executable, "-m", "hashigo", "migrate", "db", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def execute(url: str, sql: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.encode())


def query(url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        return conn.execute(sql.encode()).fetchall()


@pytest.fixture
def second_database(postgres_url: str) -> Iterator[str]:
    """Another fresh database on the same server: with pg_database, a source and a target."""
    name = f"hashigo_target_{uuid.uuid4().hex[:12]}"
    execute(postgres_url, f'CREATE DATABASE "{name}"')
    base, _, _ = postgres_url.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        execute(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def nasty_source(pg_database: str) -> str:
    """A source holding what breaks naive copies (see nasty_schema.sql)."""
    execute(pg_database, (HERE / "nasty_schema.sql").read_text())
    execute(pg_database, (HERE / "nasty_data.sql").read_text())
    return pg_database


@pytest.fixture
def target(second_database: str) -> str:
    return second_database
