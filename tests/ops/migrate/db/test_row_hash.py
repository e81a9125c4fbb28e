"""The content hash that verify sums: what it must tell apart, checked on a real server."""

from __future__ import annotations

import psycopg

from hashigo.ops.migrate.db.catalog import read_catalog
from hashigo.ops.migrate.db.units import Unit
from hashigo.ops.migrate.db.verify import table_hash_sql

ROWS = "(1, 'a', 'b', 10, '{\"k\": 1}', 'sad'), (2, 'c', 'd', 20, '{\"k\": 2}', 'ok'), (3, NULL, 'e', NULL, NULL, NULL)"


def _table_hash(conn: psycopg.Connection, modern: bool = True) -> tuple[int, str]:
    table = next(t for t in read_catalog(conn, []).tables if t.name == "t")
    sql, _ = table_hash_sql([Unit(table.key, table)], modern)
    row = conn.execute(sql).fetchone()
    assert row is not None
    return int(row[0]), str(row[1])


def test_hash_tells_apart_what_a_copy_could_get_wrong(pg_database: str) -> None:
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute("CREATE TYPE mood AS ENUM ('sad', 'ok'); CREATE TABLE t (id int PRIMARY KEY, a text, b text, "
                     "n numeric, j jsonb, m mood)")
        conn.execute(f"INSERT INTO t VALUES {ROWS}")
        original = _table_hash(conn)
        assert _table_hash(conn) == original, "deterministic"
        assert _table_hash(conn, modern=False)[1] != original[1], "the pre-14 form is another (consistent) hash"
        changes = [
            "UPDATE t SET a = CASE id WHEN 1 THEN 'c' WHEN 2 THEN 'a' END WHERE id IN (1, 2)",  # swap between rows
            "UPDATE t SET a = b, b = a WHERE id = 1",  # swap between columns of one row
            "UPDATE t SET n = 10.0 WHERE id = 1",  # same number, other scale: numeric is hashed as text
            "UPDATE t SET a = '' WHERE id = 3",  # NULL → empty string
            "UPDATE t SET m = 'ok' WHERE id = 1",  # enum label
            "INSERT INTO t VALUES (4, NULL, NULL, NULL, NULL, NULL)",  # a row of NULLs: the count changes
        ]
        for change in changes:
            conn.execute("BEGIN")
            conn.execute(change)
            assert _table_hash(conn) != original, change
            conn.execute("ROLLBACK")
        conn.execute("CREATE TEMP TABLE saved AS SELECT * FROM t; DELETE FROM t; "
                     "INSERT INTO t SELECT * FROM saved ORDER BY id DESC")
        assert _table_hash(conn) == original, "row order does not matter"
