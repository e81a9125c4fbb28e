"""PostgreSQL → PostgreSQL through the CLI: every awkward type, verify that catches changes, bad input."""

from __future__ import annotations

from pathlib import Path

from tests.ops.migrate.db.conftest import execute, migrate, query

ROW_QUERIES = {
    "customers": "SELECT id, name, email::text, mood::text, balance::text, ratio::text, tags, prefs::text, "
                 "encode(avatar, 'hex'), created, wait::text, name_len, best_order FROM app.customers ORDER BY id",
    "orders": "SELECT id, customer_id, total::text, placed, items::text, grid FROM app.orders ORDER BY id",
    "events": "SELECT tableoid::regclass::text, at, id, kind, payload::text FROM app.events ORDER BY at, id",
    "log": "SELECT line, n, at FROM app.log_nopk ORDER BY line, n",
    "big": "SELECT id, md5(payload), md5(blob), updated FROM public.big ORDER BY id",
    "profiles": "SELECT id, bio FROM public.profiles",
    "totals": "SELECT customer_id, total::text FROM app.order_totals ORDER BY 1",
}


def test_run_moves_every_type_and_verify_reports_no_difference(nasty_source: str, target: str,
                                                               tmp_path: Path) -> None:
    result = migrate(tmp_path, "run", nasty_source, target, "--chunk-mb", "1", "--jobs", "3", "--json")
    assert result.code == 0, result.stderr + result.stdout
    report = result.json
    assert report["ok"] is True
    steps = report["steps"]
    assert steps["copy"]["format"] == "binary" and steps["copy"]["consistent_snapshot"] is True
    assert steps["copy"]["units"] > 7, "public.big (8 MB) is split into 1 MB key ranges"
    assert steps["copy"]["rows"] == 300 + 500 + 1000 + 203 + 20000 + 1
    assert steps["schema_pre"]["extensions_created"] == ["citext"]
    assert any("profiles → auth.users" in s for s in steps["schema_pre"]["skipped"])
    assert any("own_profile" in s for s in steps["schema_pre"]["skipped"])
    assert steps["verify"]["ok"] and steps["verify"]["schema"]["ok"]
    verified = {t["table"]: t for t in steps["verify"]["tables"]}
    assert verified["app.log_nopk"]["target_rows"] == 203
    assert verified["public.big"]["units"] > 1
    # Every table with rows got planner statistics (ANALYZE), which pg_dump | psql leaves to autovacuum.
    with_rows = {k for k, t in verified.items() if t["target_rows"] > 0}
    analyzed = {f"{r[0]}.{r[1]}" for r in query(target, "SELECT DISTINCT schemaname, tablename FROM pg_stats "
                                                        "WHERE schemaname IN ('app', 'public')")}
    assert with_rows <= analyzed, with_rows - analyzed
    assert steps["copy"]["tables_analyzed"] >= len(with_rows)

    # Independent of hashigo's own verify: the rows read back through another client are identical.
    for name, sql in ROW_QUERIES.items():
        assert query(target, sql) == query(nasty_source, sql), name
    assert query(target, "SELECT count(*) FROM app.log_nopk WHERE line = 'same line'") == [(3,)]
    assert query(target, "SELECT to_regnamespace('auth')") == [(None,)], "Supabase-managed schema left behind"
    # Sequences continue where the source's are; identity and generated columns work for new rows.
    execute(target, "INSERT INTO app.customers (name) VALUES ('new')")
    assert query(target, "SELECT id, name_len FROM app.customers WHERE name = 'new'") == [(301, 3)]
    execute(target, "INSERT INTO app.orders (customer_id) VALUES (1)")
    assert query(target, "SELECT max(id) FROM app.orders") == [(501,)]
    # Post-data is there: the trigger fires on the target, the FK cycle is enforced.
    execute(target, "INSERT INTO public.big (id) VALUES (999999)")
    assert query(target, "SELECT updated IS NOT NULL FROM public.big WHERE id = 999999") == [(True,)]
    constraints = {r[0] for r in query(target, "SELECT conname FROM pg_constraint WHERE contype = 'f'")}
    assert {"customers_best_order_fkey", "orders_customer_id_fkey"} <= constraints


def test_verify_names_rows_changed_on_the_target(nasty_source: str, target: str, tmp_path: Path) -> None:
    assert migrate(tmp_path, "run", nasty_source, target, "--chunk-mb", "1", "--json").code == 0
    execute(target, "ALTER TABLE public.big DISABLE TRIGGER big_touch; "
                    "UPDATE public.big SET payload = 'changed' WHERE id = 12345; "
                    "ALTER TABLE public.big ENABLE TRIGGER big_touch; "
                    "UPDATE app.customers SET mood = 'sad' WHERE id = 7 AND mood <> 'sad'; "
                    "UPDATE app.customers SET mood = 'ok' WHERE id = 8 AND mood <> 'ok'; "
                    "DELETE FROM app.log_nopk "
                    "WHERE ctid = (SELECT min(ctid) FROM app.log_nopk WHERE line = 'same line');"
                    "SELECT setval('app.orders_id_seq', 9999)")
    result = migrate(tmp_path, "verify", nasty_source, target, "--chunk-mb", "1", "--json")
    assert result.code == 1, result.stderr
    report = result.json
    assert report["ok"] is False
    bad = {t["table"] for t in report["tables"] if not t["ok"]}
    assert bad == {"public.big", "app.customers", "app.log_nopk"}
    big = next(t for t in report["tables"] if t["table"] == "public.big")
    assert len(big["differing"]) == 1, "only the chunk holding id 12345 differs"
    rows = report["rows_differ"]
    assert rows[big["differing"][0]]["changed"] == ["12345"]
    assert sorted(rows["app.customers"]["changed"]) == ["7", "8"]
    assert "1 row(s) of the source are not on the target" in rows["app.log_nopk"]["note"]
    assert any("app.orders_id_seq" in d for d in report["schema"]["different"])

    human = migrate(tmp_path, "verify", nasty_source, target, "--chunk-mb", "1")
    assert human.code == 1 and "DIFFERENT" in human.stdout and "12345" in human.stdout


def test_target_that_is_not_empty_is_refused(nasty_source: str, target: str, tmp_path: Path) -> None:
    execute(target, "CREATE TABLE public.keep_me (id int); INSERT INTO public.keep_me VALUES (1)")
    refused = migrate(tmp_path, "run", nasty_source, target)
    assert refused.code == 3, refused.stderr
    assert "not empty" in refused.stderr and "public.keep_me" in refused.stderr and "--into-existing" in refused.stderr
    assert migrate(tmp_path, "run", nasty_source, target, "--into-existing", "--json").code == 0
    assert query(target, "SELECT * FROM public.keep_me") == [(1,)]
    assert query(target, "SELECT count(*) FROM public.big") == [(20000,)]


def test_into_existing_never_overwrites_rows(nasty_source: str, target: str, tmp_path: Path) -> None:
    execute(target, "CREATE SCHEMA app; CREATE TABLE app.log_nopk (line text, n int, at timestamp); "
                    "INSERT INTO app.log_nopk VALUES ('precious', 1, NULL)")
    result = migrate(tmp_path, "run", nasty_source, target, "--into-existing")
    assert result.code == 2, result.stderr
    assert "app.log_nopk already has rows on the target" in result.stderr
    assert query(target, "SELECT line FROM app.log_nopk") == [("precious",)]


def test_bad_urls_get_one_clear_line(tmp_path: Path, pg_database: str) -> None:
    cases = {
        ("mysql://u@h/db", pg_database): "unknown scheme 'mysql'",
        (pg_database, "sqlite:///x.db"): "the target must be PostgreSQL",
        ("postgresql:///db", pg_database): "has no host",
        ("postgresql://u@host:6543/postgres", pg_database): "transaction-mode pooler",
        ("sqlite:///missing.db", pg_database): "does not exist",
        ("postgresql://u@host:notaport/db", pg_database): "malformed URL",
    }
    for (source, target), message in cases.items():
        result = migrate(tmp_path, "preflight", source, target)
        assert result.code == 2, (source, result.stderr)
        assert message in result.stderr and "Traceback" not in result.stderr, result.stderr
    down = migrate(tmp_path, "preflight", pg_database, "postgresql://postgres:pw@127.0.0.1:1/nowhere")
    assert down.code == 1 and "cannot connect to the target" in down.stderr and "pw" not in down.stderr


def test_include_schema_moves_a_supabase_schema_and_what_points_into_it(nasty_source: str, target: str,
                                                                         tmp_path: Path) -> None:
    bad = migrate(tmp_path, "preflight", nasty_source, target, "--include-schema", "app")
    assert bad.code == 2 and "accepted: auth, storage" in bad.stderr
    result = migrate(tmp_path, "run", nasty_source, target, "--include-schema", "auth", "--json")
    assert result.code == 0, result.stderr + result.stdout
    assert result.json["steps"]["schema_pre"]["skipped"] == []
    assert query(target, "SELECT email FROM auth.users") == [("a@example.com",)]
    assert query(target, "SELECT count(*) FROM pg_policy WHERE polname = 'own_profile'") == [(1,)]
    assert query(target, "SELECT count(*) FROM pg_constraint WHERE conname = 'profiles_id_fkey'") == [(1,)]
