"""Preflight against real servers: missing privileges and extensions are named, nothing is changed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from hashigo.ops.migrate.db.catalog import Catalog
from hashigo.ops.migrate.db.preflight import FAIL, PreflightReport, check_extensions
from tests.ops.migrate.db.conftest import execute, migrate, query


@pytest.fixture
def role(postgres_url: str) -> Iterator[str]:
    """A login role without special rights (trust auth: no password needed).

    Request it before the databases: it is dropped after them, when no grant refers to it any more."""
    name = f"hashigo_user_{uuid.uuid4().hex[:8]}"
    execute(postgres_url, f'CREATE ROLE "{name}" LOGIN')
    try:
        yield name
    finally:
        execute(postgres_url, f'DROP ROLE "{name}"')


def as_role(url: str, role: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{role}@{rest.split('@', 1)[1]}"


def test_preflight_names_unreadable_tables_and_missing_rights(role: str, nasty_source: str, target: str,
                                                              tmp_path: Path) -> None:
    execute(nasty_source, f'GRANT USAGE ON SCHEMA app TO "{role}"; '
                          f'GRANT SELECT ON ALL TABLES IN SCHEMA app TO "{role}"; '
                          f'REVOKE SELECT ON app.orders FROM "{role}"')
    execute(target, f'REVOKE CREATE ON DATABASE "{target.rsplit("/", 1)[1]}" FROM PUBLIC; '
                    f'REVOKE CREATE ON SCHEMA public FROM PUBLIC')
    result = migrate(tmp_path, "preflight", as_role(nasty_source, role), as_role(target, role), "--json")
    assert result.code == 3, result.stderr
    checks = {c["name"]: c for c in result.json["checks"]}
    assert checks["source privileges"]["status"] == FAIL
    unreadable = checks["source privileges"]["detail"]
    assert "app.orders" in unreadable and "public.big" in unreadable
    assert checks["target privileges"]["status"] == FAIL
    assert "CREATE on the database" in checks["target privileges"]["detail"]
    assert checks["cutover rights"]["status"] == "warn"
    # `run` stops at preflight and leaves the target untouched.
    stopped = migrate(tmp_path, "run", as_role(nasty_source, role), as_role(target, role))
    assert stopped.code == 3 and "app.orders" in stopped.stderr
    assert query(target, "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace") == [(0,)]


def test_preflight_reports_row_level_security_that_would_hide_rows(role: str, nasty_source: str, target: str,
                                                                    tmp_path: Path) -> None:
    execute(nasty_source, f'GRANT USAGE ON SCHEMA app TO "{role}"; '
                          f'GRANT SELECT ON ALL TABLES IN SCHEMA public, app TO "{role}"')
    result = migrate(tmp_path, "preflight", as_role(nasty_source, role), target, "--json")
    checks = {c["name"]: c for c in result.json["checks"]}
    assert result.code == 3
    assert "row-level security" in checks["source privileges"]["detail"]
    assert "public.profiles" in checks["source privileges"]["detail"]


def test_missing_extension_is_named(target: str) -> None:
    """The target server is real; the source's catalog claims an extension this server does not ship."""
    catalog = Catalog(150000, "src", 0, ["public"], [],
                      extensions={"plpgsql": ("pg_catalog", "1.0"), "citext": ("public", "1.6"),
                                  "hashigo_no_such_ext": ("public", "0.7.0")})
    report = PreflightReport()
    with psycopg.connect(target, autocommit=True) as conn:
        check_extensions(report, catalog, conn)
    [check] = report.checks
    assert check.status == FAIL
    assert "missing on the target: hashigo_no_such_ext" in check.detail and "citext" in check.detail
