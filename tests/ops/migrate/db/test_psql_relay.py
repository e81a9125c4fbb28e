"""The source side of a copy read through psql: the same bytes as libpq's row loop, and a failing psql
is an error that names what went wrong, not a short table."""

from __future__ import annotations

import threading

import pytest

from hashigo.ops.migrate.db.copy import copy_out, copy_out_with_psql
from hashigo.ops.migrate.db.endpoints import connect, parse_endpoint
from hashigo.ops.migrate.db.errors import MigrateDbError
from hashigo.ops.migrate.db.pgtools import find_client_tools
from tests.ops.migrate.db.conftest import execute


def _psql(url: str) -> str:
    with connect(parse_endpoint(url, "source")) as conn:
        psql = find_client_tools(conn.info.server_version // 10000).psql
    if psql is None:
        pytest.skip("psql is not installed next to pg_dump")
    return psql


def _rows(url: str) -> None:
    execute(url, "CREATE TABLE t (id bigint PRIMARY KEY, body text, blob bytea);"
                 "INSERT INTO t SELECT g, repeat('é', g % 300), decode(md5(g::text), 'hex') "
                 "FROM generate_series(1, 20000) g")


@pytest.mark.parametrize("fmt", ["binary", "text"])
def test_psql_hands_over_the_same_bytes_as_libpq(pg_database: str, fmt: str) -> None:
    _rows(pg_database)
    source = parse_endpoint(pg_database, "source")
    statement = f"COPY public.t TO STDOUT (FORMAT {fmt})"
    via_psql: list[bytes] = []
    copy_out_with_psql(_psql(pg_database), source, None, statement, lambda b: via_psql.append(bytes(b)),
                       threading.Event())
    via_libpq: list[bytes] = []
    with connect(source, read_only=True) as conn:
        rows = copy_out(conn, statement, lambda b: via_libpq.append(bytes(b)), threading.Event())
    assert rows == 20000
    assert b"".join(via_psql) == b"".join(via_libpq) and len(b"".join(via_psql)) > 500_000
    assert len(via_psql) > 1  # handed over in blocks, not as one buffer


def test_a_failing_psql_is_a_named_error(pg_database: str) -> None:
    _rows(pg_database)
    source = parse_endpoint(pg_database, "source")
    received: list[bytes] = []
    with pytest.raises(MigrateDbError, match=r"psql reading the source ended with exit code \d+: .*snapshot"):
        copy_out_with_psql(_psql(pg_database), source, "00000003-0000001B-1", "COPY public.t TO STDOUT",
                           lambda b: received.append(bytes(b)), threading.Event())
    assert received == []


def test_a_stop_ends_the_read(pg_database: str) -> None:
    _rows(pg_database)
    stop = threading.Event()
    stop.set()
    with pytest.raises(MigrateDbError, match="stopped"):
        copy_out_with_psql(_psql(pg_database), parse_endpoint(pg_database, "source"), None,
                           "COPY public.t TO STDOUT (FORMAT binary)", lambda b: None, stop)
