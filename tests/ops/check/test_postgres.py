"""PostgreSQL, for real: open connections to cross a threshold, grow a table past a limit, keep a query
running; sizes and counts are checked against the server's own answers."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.ops.check.helpers import as_json, invoke, rule, source, write_rules

ONLY_DB = ("--skip", "service", "--skip", "redis", "--skip", "storage")


def _check(tmp_path: Path, url: str, *args: str) -> dict[str, object]:
    result = invoke(tmp_path, *ONLY_DB, "--database", url, "--history", str(tmp_path / "h.sqlite3"), *args, "--json")
    data = as_json(result)
    assert result.returncode == data["exit_code"], result.stderr
    return data


@contextlib.contextmanager
def _connections(url: str, count: int) -> Iterator[None]:
    held = [psycopg.connect(url, autocommit=True) for _ in range(count)]
    try:
        yield
    finally:
        for conn in held:
            conn.close()


def test_connections_cross_thresholds(tmp_path: Path, pg_database: str) -> None:
    baseline = _check(tmp_path, pg_database)
    before = rule(baseline, "db-connections")["value"]
    assert isinstance(before, float) and before >= 0
    assert source(baseline, "postgres")["details"]["max_connections"] >= 20
    rules = write_rules(tmp_path, {"conns": {"metric": "db_connections", "consider": before + 10,
                                             "required": before + 20}})
    with _connections(pg_database, 12):
        data = _check(tmp_path, pg_database, "--rules", str(rules))
        assert rule(data, "conns")["value"] >= before + 12 and data["level"] == "consider" and data["exit_code"] == 1
    with _connections(pg_database, 25):
        data = _check(tmp_path, pg_database, "--rules", str(rules))
        assert rule(data, "conns")["value"] >= before + 25 and data["exit_code"] == 2
    assert _check(tmp_path, pg_database, "--rules", str(rules))["exit_code"] == 0  # closed again


def test_database_size_against_the_plan_and_own_limits(tmp_path: Path, pg_database: str) -> None:
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute("CREATE TABLE notes (id int, body text)")
        empty = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]  # type: ignore[index]
    limit_gb = round((empty + 6_000_000) / 1e9, 4)  # ~6 MB above the empty database
    small = _check(tmp_path, pg_database, "--plan", "supabase.free", "--limit", f"database_gb={limit_gb}")
    size = rule(small, "db-size-of-plan")
    assert size["limit"]["value"] == limit_gb and "limits: in the rules file" in size["limit"]["text"]
    assert size["status"] == "ok" and size["value"] == pytest.approx(empty / 1e9, rel=0.05)

    with psycopg.connect(pg_database, autocommit=True) as conn:  # ~9 MB of rows: past 100 % of the limit
        conn.execute("INSERT INTO notes SELECT g, repeat(md5(g::text), 30) FROM generate_series(1, 8000) g")
        conn.execute("CHECKPOINT")
        grown = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]  # type: ignore[index]
    big = _check(tmp_path, pg_database, "--plan", "supabase.free", "--limit", f"database_gb={limit_gb}")
    size = rule(big, "db-size-of-plan")
    assert size["value"] == pytest.approx(grown / 1e9, rel=0.02)
    assert size["compared"] > 100 and size["status"] == "required" and big["exit_code"] == 2
    # The catalog's own limit (Supabase Free: 0.5 GB, read-only beyond it) when no limit of ours is set.
    catalog = rule(_check(tmp_path, pg_database, "--plan", "supabase.free"), "db-size-of-plan")
    assert catalog["limit"]["value"] == 0.5 and catalog["status"] == "ok"
    assert catalog["compared"] == pytest.approx(100 * grown / 1e9 / 0.5, rel=0.02)


def test_longest_query_cache_hit_ratio_and_statements(tmp_path: Path, pg_database: str) -> None:
    rules = write_rules(tmp_path, {"long": {"metric": "db_longest_query_s", "consider": 1, "required": 600},
                                   "hit": {"metric": "db_cache_hit_pct", "direction": "below", "consider": 0.5}})
    sleeper = psycopg.connect(pg_database, autocommit=True)
    thread = threading.Thread(target=lambda: _quietly(sleeper, "SELECT pg_sleep(60)"), daemon=True)
    thread.start()
    try:
        with psycopg.connect(pg_database, autocommit=True) as probe:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                row = probe.execute("SELECT extract(epoch FROM now() - query_start) FROM pg_stat_activity "
                                    "WHERE query LIKE 'SELECT pg_sleep(60)%' AND state = 'active'").fetchone()
                if row and row[0] >= 1.5:
                    break
                time.sleep(0.2)
        data = _check(tmp_path, pg_database, "--rules", str(rules))
    finally:
        sleeper.cancel_safe()
        thread.join(10)
        sleeper.close()
    long = rule(data, "long")
    assert long["value"] >= 1.5 and long["status"] == "consider" and data["exit_code"] == 1
    details = source(data, "postgres")["details"]
    assert any("pg_sleep(60)" in q["query"] for q in details["longest_queries"])
    hit = rule(data, "hit")
    assert hit["value"] is not None and 0 < hit["value"] <= 100 and hit["status"] == "ok"
    # pg_stat_statements is not preloaded on this server: said so, not guessed.
    assert "not enabled" in details["pg_stat_statements"]


def _quietly(conn: psycopg.Connection[tuple[object, ...]], sql: str) -> None:
    with contextlib.suppress(psycopg.Error):
        conn.execute(sql.encode())


def test_custom_query_measures_dau(tmp_path: Path, pg_database: str) -> None:
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute("CREATE TABLE events (user_id int, at timestamptz)")
        conn.execute("INSERT INTO events SELECT g % 1500, now() - interval '1 hour' FROM generate_series(1, 6000) g")
    (tmp_path / "rules.yaml").write_text(
        "sources:\n  postgres:\n    queries:\n      dau: select count(distinct user_id) from events "
        "where at > now() - interval '1 day'\nrules:\n  dau: {sustained: null}\n")
    data = _check(tmp_path, pg_database, "--rules", str(tmp_path / "rules.yaml"))
    dau = rule(data, "dau")  # seed 004: 1,000-10,000 DAU → consider
    assert dau["value"] == 1500 and dau["source"] == "postgres" and dau["status"] == "consider"
    (tmp_path / "rules.yaml").write_text("sources:\n  postgres:\n    queries:\n      dau: select 'many'\n")
    bad = _check(tmp_path, pg_database, "--rules", str(tmp_path / "rules.yaml"))
    assert bad["exit_code"] == 3 and "queries.dau: must return one number" in source(bad, "postgres")["error"]
