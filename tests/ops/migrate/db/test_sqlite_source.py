"""SQLite → PostgreSQL: hashigo's own database (schema from its Alembic migrations) and any other file."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from hashigo.db import migrate_schema
from tests.ops.migrate.db.conftest import execute, migrate, query


def test_hashigo_database_moves_with_its_migrations(pg_database: str, tmp_path: Path) -> None:
    app_db = tmp_path / "hashigo.db"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")},
           "DATABASE_URL": f"sqlite+aiosqlite:///{app_db}"}
    subprocess.run([sys.executable, "-m", "hashigo", "db", "upgrade"], env=env, check=True, capture_output=True)
    with sqlite3.connect(app_db) as conn:
        conn.execute("INSERT INTO users VALUES ('u1', 'ann@example.com', 'Ann 梯子', 'h', NULL, 1, "
                     "'2024-05-01 10:00:00.123456', '2024-05-01 10:00:00.000000')")
        conn.execute("INSERT INTO users VALUES ('u2', 'bob@example.com', 'Bob', 'h', 'avatars/u2.png', 0, "
                     "'2024-05-02 00:00:00.000000', '2024-05-02 00:00:00.000000')")
        conn.execute("INSERT INTO auth_token_families VALUES ('f1', 'u1', 'jti', '2024-05-01 10:00:00.000000', "
                     "'2024-06-01 10:00:00.000000', NULL, NULL)")

    result = migrate(tmp_path, "run", "sqlite:///hashigo.db", pg_database, "--json")
    assert result.code == 0, result.stderr + result.stdout
    assert result.json["steps"]["schema_pre"]["schema_from"] == f"alembic {migrate_schema.head_revision()}"
    assert result.json["steps"]["verify"]["ok"] is True
    assert query(pg_database, "SELECT version_num FROM alembic_version") == [(migrate_schema.head_revision(),)]
    assert query(pg_database, "SELECT id, display_name, is_active, created_at FROM users ORDER BY id") == [
        ("u1", "Ann 梯子", True, datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)),
        ("u2", "Bob", False, datetime(2024, 5, 2, tzinfo=UTC)),
    ]
    assert query(pg_database, "SELECT count(*) FROM hashigo_schema_info") == [(1,)], "not doubled by the migration"

    execute(pg_database, "UPDATE users SET display_name = 'Mallory' WHERE id = 'u2'")
    changed = migrate(tmp_path, "verify", "sqlite:///hashigo.db", pg_database, "--json")
    assert changed.code == 1
    assert changed.json["rows_differ"]["public.users"]["changed"] == ["u2"]


def _custom_file(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.executescript("""
            CREATE TABLE author (id INTEGER PRIMARY KEY AUTOINCREMENT, name VARCHAR(40) NOT NULL, born DATE,
                                 active BOOLEAN DEFAULT 1, meta JSON, score REAL, price NUMERIC(10,2), photo BLOB,
                                 anything);
            CREATE TABLE book (id INTEGER PRIMARY KEY, author_id INTEGER REFERENCES author (id), title TEXT UNIQUE,
                               published DATETIME DEFAULT CURRENT_TIMESTAMP);
            CREATE INDEX book_author ON book (author_id);
            CREATE TABLE tags (book_id INTEGER, tag TEXT);
        """)
        conn.execute("INSERT INTO author (name, born, active, meta, score, price, photo, anything) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     ("Ann ü 🚀", "1970-01-02", 1, '{"a": [1, 2]}', 1.5, "12.30", b"\x00\xff\\\t", 42))
        conn.execute("INSERT INTO author (name, born, active, meta, score, price, photo, anything) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     ("Bob\ttab\nline\\", None, 0, None, None, 3, None, "text"))
        conn.execute("INSERT INTO book (author_id, title, published) VALUES (1, 'T1', '2024-01-01 00:00:00')")
        conn.execute("INSERT INTO book (author_id, title, published) VALUES (99, 'orphan', NULL)")
        conn.executemany("INSERT INTO tags VALUES (?, ?)", [(1, "x"), (1, "x"), (2, None)])


def test_any_sqlite_file_is_translated_faithfully(pg_database: str, tmp_path: Path) -> None:
    _custom_file(tmp_path / "custom.db")
    result = migrate(tmp_path, "run", "sqlite:///custom.db", pg_database, "--json")
    assert result.code == 0, result.stderr + result.stdout
    assert result.json["steps"]["schema_pre"]["schema_from"] == "type translation"
    assert any("NOT VALID" in n for n in result.json["steps"]["post_data"]["notes"]), "the orphan row keeps its FK"
    types = dict(query(pg_database, "SELECT column_name, data_type FROM information_schema.columns "
                                    "WHERE table_name = 'author'"))
    assert types == {"id": "bigint", "name": "character varying", "born": "date", "active": "boolean",
                     "meta": "jsonb", "score": "double precision", "price": "numeric", "photo": "bytea",
                     "anything": "text"}
    assert query(pg_database, "SELECT name, born::text, active, meta->'a', score, price, photo, anything "
                              "FROM author ORDER BY id") == [
        ("Ann ü 🚀", "1970-01-02", True, [1, 2], 1.5, Decimal("12.30"), b"\x00\xff\\\t", "42"),
        ("Bob\ttab\nline\\", None, False, None, None, Decimal("3.00"), None, "text"),
    ]
    assert query(pg_database, "SELECT count(*) FROM tags WHERE tag = 'x'") == [(2,)]
    execute(pg_database, "INSERT INTO author (name) VALUES ('next')")  # the identity continues after the rows
    assert query(pg_database, "SELECT id, active FROM author WHERE name = 'next'") == [(3, True)]


def test_sqlite_cutover_and_rollback_restore_the_file_mode(pg_database: str, tmp_path: Path) -> None:
    source = tmp_path / "custom.db"
    _custom_file(source)
    assert migrate(tmp_path, "run", "sqlite:///custom.db", pg_database, "--json").code == 0
    with sqlite3.connect(source) as conn:  # written after the copy: cutover picks it up
        conn.execute("INSERT INTO tags VALUES (3, 'late')")
    mode = stat.S_IMODE(source.stat().st_mode)
    cut = migrate(tmp_path, "cutover", "sqlite:///custom.db", pg_database, "--json")
    assert cut.code == 0, cut.stderr
    assert cut.json["recopied_units"] == ["tags"] and cut.json["verify"]["ok"]
    assert stat.S_IMODE(source.stat().st_mode) & 0o222 == 0
    assert query(pg_database, "SELECT count(*) FROM tags") == [(4,)]
    back = migrate(tmp_path, "rollback", "sqlite:///custom.db", pg_database, "--json")
    assert back.code == 0, back.stderr
    assert stat.S_IMODE(source.stat().st_mode) == mode
    assert back.json["env"]["set"] == f"DATABASE_URL=sqlite+aiosqlite:///{source}"
