"""Post-data (indexes, constraints, triggers, …) as pg_dump wrote it, one entry at a time.

pg_restore turns the schema archive into SQL (with each entry's TOC id, catalog OID and
dependencies in its header); the entries then run on our own connections, so an index can be
built as soon as its table is loaded — while other tables are still being copied — instead of
after the last row of the last table. Foreign keys and everything not tied to one table wait
until every table is loaded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from hashigo.ops.migrate.db.endpoints import Endpoint
from hashigo.ops.migrate.db.errors import MigrateDbError
from hashigo.ops.migrate.db.pgtools import ClientTools, error_lines, run_tool

_HEADER = re.compile(r"^-- TOC entry (\d+) \(class (\d+) OID (\d+)\)$")
_DEPENDS = re.compile(r"^-- Dependencies: ([\d ]+)$")
_NAME = re.compile(r"^-- Name: (.*); Type: (.*); Schema: (.*); Owner: .*$")
PG_CLASS, PG_CONSTRAINT = 1259, 2606


@dataclass
class PostEntry:
    dump_id: int
    class_oid: int
    object_oid: int
    kind: str = ""  # INDEX, CONSTRAINT, FK CONSTRAINT, TRIGGER, INDEX ATTACH, …
    name: str = ""
    sql: str = ""
    depends: set[int] = field(default_factory=set)
    table_key: str | None = None  # set: runs once this table is loaded; None: once every table is
    exclusive: bool = False  # ALTER TABLE: takes the table for itself, so it runs after its index builds

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}"


@dataclass
class PostData:
    preamble: str  # the SET statements every session running the entries needs
    entries: list[PostEntry]


def load_post_data(tools: ClientTools, archive: Path, use_list: Path, endpoint: Endpoint,
                   source: psycopg.Connection) -> PostData:
    script = archive.with_suffix(".post-data.sql")
    code, lines = run_tool([tools.pg_restore, "--section=post-data", "--verbose", "--no-owner", "--no-privileges",
                            "--no-publications", "--no-subscriptions", "--no-security-labels", "--no-tablespaces",
                            f"--use-list={use_list}", f"--file={script}", str(archive)], endpoint)
    if code != 0:
        raise MigrateDbError("pg_restore could not write the post-data SQL: " + " | ".join(error_lines(lines)))
    post = parse_script(script.read_text())
    tables = _owning_tables(source)
    keys = _key_constraints(source)
    entries: list[PostEntry] = []
    for entry in post.entries:
        if entry.kind in {"INDEX", "CONSTRAINT"}:
            entry.table_key = tables.get((entry.class_oid, entry.object_oid))
            entry.exclusive = entry.kind == "CONSTRAINT"
        split = keys.get(entry.object_oid) if entry.kind == "CONSTRAINT" and entry.table_key else None
        if split is not None:
            index_sql, attach_sql = split
            # The key's index is built like any index (beside the others, under a SHARE lock); the
            # constraint then adopts it in an instant instead of holding the table while it builds.
            entries.append(PostEntry(-entry.dump_id, PG_CLASS, 0, "INDEX", f"{entry.name} (key index)",
                                     index_sql, set(entry.depends), entry.table_key))
            entry.sql, entry.depends = attach_sql, entry.depends | {-entry.dump_id}
        entries.append(entry)
    post.entries = entries
    return post


def _key_constraints(source: psycopg.Connection) -> dict[int, tuple[str, str]]:
    """Primary keys and unique constraints of ordinary tables: (CREATE UNIQUE INDEX …, ADD … USING INDEX)."""
    found: dict[int, tuple[str, str]] = {}
    with source.transaction():
        source.execute("SET LOCAL search_path = ''")  # fully qualified names, as pg_dump writes them
        rows = source.execute("""
            SELECT k.oid, pg_get_indexdef(k.conindid), k.conrelid::regclass::text, quote_ident(k.conname),
                   k.contype::text, k.condeferrable, k.condeferred
            FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
            WHERE k.contype IN ('p', 'u') AND c.relkind = 'r' AND NOT c.relispartition""").fetchall()
    for oid, index_def, table, name, contype, deferrable, deferred in rows:
        kind = "PRIMARY KEY" if contype == "p" else "UNIQUE"
        timing = (" DEFERRABLE" + (" INITIALLY DEFERRED" if deferred else "")) if deferrable else ""
        found[int(oid)] = (f"{index_def};",
                           f"ALTER TABLE ONLY {table} ADD CONSTRAINT {name} {kind} USING INDEX {name}{timing};")
    return found


def parse_script(text: str) -> PostData:
    """Split pg_restore's plain output into its TOC entries (psql meta-commands dropped)."""
    preamble: list[str] = []
    entries: list[PostEntry] = []
    current: PostEntry | None = None
    body: list[str] = []
    for line in text.splitlines():
        if line.startswith("\\"):
            continue  # \restrict / \unrestrict: psql-only fences
        header = _HEADER.match(line)
        if header:
            if current is not None:
                current.sql = _clean(body)
            current = PostEntry(int(header[1]), int(header[2]), int(header[3]))
            entries.append(current)
            body = []
            continue
        if current is None:
            if line.startswith(("SET ", "SELECT pg_catalog.set_config")):
                preamble.append(line)
            continue
        depends = _DEPENDS.match(line)
        name = _NAME.match(line)
        if depends:
            current.depends = {int(d) for d in depends[1].split()}
        elif name:
            current.name, current.kind = f"{name[3]}.{name[1]}", name[2]
        elif not line.startswith("--"):
            body.append(line)
    if current is not None:
        current.sql = _clean(body)
    return PostData("\n".join(preamble), [e for e in entries if e.sql])


def _clean(lines: list[str]) -> str:
    # Session SETs between entries (default_tablespace, table access method) are in the preamble already.
    kept = [line for line in lines if not line.startswith(("SET default_tablespace", "SET default_table_access"))]
    return "\n".join(kept).strip()


def _owning_tables(source: psycopg.Connection) -> dict[tuple[int, int], str]:
    """(catalog, OID) of each index and non-FK constraint on an ordinary table → that table (schema.name)."""
    owners: dict[tuple[int, int], str] = {}
    for oid, key in source.execute("""
            SELECT i.indexrelid, n.nspname || '.' || c.relname FROM pg_index i
            JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'r'"""):
        owners[(PG_CLASS, oid)] = key
    for oid, key in source.execute("""
            SELECT k.oid, n.nspname || '.' || c.relname FROM pg_constraint k
            JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'r' AND k.contype <> 'f'"""):
        owners[(PG_CONSTRAINT, oid)] = key
    return owners
