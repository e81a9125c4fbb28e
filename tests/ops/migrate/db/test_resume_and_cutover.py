"""kill -9 in the middle of a copy, then resume; cutover and rollback leave the source as it was."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from tests.ops.migrate.db.conftest import execute, migrate, query


def _unit_states(journal: Path) -> dict[str, str]:
    if not journal.exists():
        return {}
    with sqlite3.connect(journal) as conn:
        return dict(conn.execute("SELECT id, state FROM units").fetchall())


def test_kill_9_during_copy_then_resume(nasty_source: str, target: str, tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite3"
    common = ["--journal", str(journal)]
    assert migrate(tmp_path, "schema", nasty_source, target, *common, "--json").code == 0
    common += ["--chunk-mb", "1"]
    # Hold app.orders on the target: one worker copies the big chunks and stops at app.orders,
    # so the kill lands after some units are committed and while one is in flight.
    blocker = psycopg.connect(target)
    blocker.execute("LOCK TABLE app.orders IN ACCESS EXCLUSIVE MODE")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    proc = subprocess.Popen([sys.executable, "-m", "hashigo", "migrate", "db", "copy", nasty_source, target,
                             *common, "--jobs", "1", "--json"], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while _unit_states(journal).get("app.orders") != "started":
            assert proc.poll() is None and time.monotonic() < deadline, "copy never reached app.orders"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        blocker.close()
    states = _unit_states(journal)
    done = [u for u, s in states.items() if s == "done"]
    assert [u for u in done if u.startswith("public.big#")], "big's chunks were committed before the kill"
    assert "pending" in states.values(), "some units never started"
    # A kill between a chunk's commit on the target and its journal entry: the chunk is loaded again.
    # (A window of microseconds, so it is set up here rather than hit by timing.)
    with sqlite3.connect(journal) as conn:
        conn.execute("UPDATE units SET state = 'started' WHERE id = ?", (sorted(done)[0],))

    resumed = migrate(tmp_path, "run", nasty_source, target, *common, "--json")
    assert resumed.code == 0, resumed.stderr + resumed.stdout
    copy = resumed.json["steps"]["copy"]
    assert copy["resumed_units_skipped"] == len(done) - 1
    assert copy["consistent_snapshot"] is False
    assert resumed.json["steps"]["verify"]["ok"] is True
    assert query(target, "SELECT count(*), count(DISTINCT id) FROM public.big") == [(20000, 20000)]
    assert set(_unit_states(journal).values()) == {"done"}


def _source_state(url: str, dump_dir: Path) -> tuple[str, list[tuple[object, ...]]]:
    """Everything pg_dump sees (schema and rows), plus the database-level settings."""
    dump = subprocess.run(["pg_dump", "--no-owner", f"--dbname={url}"], capture_output=True, text=True,
                          check=True, env={k: v for k, v in os.environ.items() if not k.startswith("PG")}).stdout
    # pg_dump ≥ 15.14 fences its output with a random \restrict key; everything else is deterministic.
    dump = "\n".join(line for line in dump.splitlines() if not line.startswith(("\\restrict", "\\unrestrict")))
    settings = query(url, "SELECT s.setrole, s.setconfig FROM pg_db_role_setting s JOIN pg_database d "
                          "ON d.oid = s.setdatabase WHERE d.datname = current_database() ORDER BY 1")
    return dump, settings


def test_cutover_copies_late_changes_and_rollback_restores_the_source(nasty_source: str, target: str,
                                                                      tmp_path: Path) -> None:
    dbname = nasty_source.rsplit("/", 1)[1]
    execute(nasty_source, f'ALTER DATABASE "{dbname}" SET work_mem = \'8MB\'')  # a setting that must survive
    assert migrate(tmp_path, "run", nasty_source, target, "--chunk-mb", "1", "--json").code == 0
    # The app keeps writing after the copy, and keeps a pooled connection open.
    execute(nasty_source, "INSERT INTO public.big (id, payload) VALUES (50000, 'late'); "
                          "UPDATE app.customers SET name = 'renamed late' WHERE id = 9; "
                          "DELETE FROM app.log_nopk WHERE n = 17")
    app_session = psycopg.connect(nasty_source, autocommit=True)
    before = _source_state(nasty_source, tmp_path)

    result = migrate(tmp_path, "cutover", nasty_source, target, "--json")
    assert result.code == 0, result.stderr + result.stdout
    report = result.json
    assert report["ok"] and report["verify"]["ok"] and report["sessions_ended"] >= 1
    recopied = " ".join(report["recopied_units"])
    assert "public.big" in recopied and "app.customers" in recopied and "app.log_nopk" in recopied
    assert report["env"]["set"].startswith("DATABASE_URL=postgresql://") and target.rsplit("/", 1)[1] in \
        report["env"]["set"]
    assert query(target, "SELECT payload FROM public.big WHERE id = 50000") == [("late",)]
    assert query(target, "SELECT name FROM app.customers WHERE id = 9") == [("renamed late",)]
    try:
        app_session.execute("SELECT 1")
        raise AssertionError("the open session should have been ended")
    except psycopg.OperationalError:
        pass
    with psycopg.connect(nasty_source, autocommit=True) as late:
        try:
            late.execute("INSERT INTO public.big (id) VALUES (60000)")
            raise AssertionError("the source should refuse writes after cutover")
        except psycopg.errors.ReadOnlySqlTransaction:
            pass

    back = migrate(tmp_path, "rollback", nasty_source, target, "--json")
    assert back.code == 0, back.stderr
    assert back.json["env"]["set"].startswith("DATABASE_URL=postgresql://") and dbname in back.json["env"]["set"]
    assert _source_state(nasty_source, tmp_path) == before, "the source is exactly as it was before cutover"
    execute(nasty_source, "INSERT INTO public.big (id) VALUES (60000)")  # writable again

    again = migrate(tmp_path, "rollback", nasty_source, target)
    assert again.code == 2 and "no cutover recorded" in again.stderr
