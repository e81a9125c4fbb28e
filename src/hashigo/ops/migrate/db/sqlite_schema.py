"""A SQLite file's schema, read with PRAGMAs, and its faithful PostgreSQL translation.

SQLite stores any value in any column; its declared type only suggests an affinity. The
translation keeps what the app declared (VARCHAR(n) stays varchar(n), BOOLEAN boolean,
DATETIME timestamp) and falls back to SQLite's own affinity rules for the rest, so a value
that does not fit is reported by PostgreSQL with its table, not silently changed.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from hashigo.ops.migrate.db.catalog import qualified, quote_ident
from hashigo.ops.migrate.db.errors import MigrateDbError

_EXACT = {
    "BOOLEAN": "boolean", "BOOL": "boolean", "DATE": "date", "DATETIME": "timestamp", "TIMESTAMP": "timestamp",
    "TIME": "time", "JSON": "jsonb", "JSONB": "jsonb", "UUID": "uuid", "GUID": "uuid", "BLOB": "bytea",
    "SMALLINT": "smallint", "BIGINT": "bigint", "REAL": "double precision", "DOUBLE": "double precision",
    "DOUBLE PRECISION": "double precision", "FLOAT": "double precision", "TEXT": "text", "CLOB": "text",
    "NUMERIC": "numeric", "DECIMAL": "numeric", "MONEY": "numeric",
}
_SIZED = re.compile(r"^(VARCHAR|NVARCHAR|CHARACTER VARYING|VARYING CHARACTER|CHAR|CHARACTER|NCHAR|NUMERIC|DECIMAL)"
                    r"\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)$")
_SAFE_DEFAULT = re.compile(
    r"^(-?\d+(\.\d+)?|'([^']|'')*'|NULL|TRUE|FALSE|CURRENT_TIMESTAMP|CURRENT_DATE|CURRENT_TIME)$", re.IGNORECASE)


@dataclass
class SqliteColumn:
    name: str
    declared: str
    pg_type: str
    not_null: bool
    default: str | None
    pk_position: int  # 0 = not part of the primary key


@dataclass
class SqliteTable:
    name: str
    columns: list[SqliteColumn]
    rowid_pk: bool  # INTEGER PRIMARY KEY: an alias of the rowid, auto-assigned
    indexes: list[tuple[str, bool, list[str]]] = field(default_factory=list)  # name, unique, columns
    foreign_keys: list[tuple[list[str], str, list[str], str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def pk(self) -> list[str]:
        return [c.name for c in sorted((c for c in self.columns if c.pk_position), key=lambda c: c.pk_position)]

    @property
    def qname(self) -> str:
        return qualified("public", self.name)


def pg_type(declared: str) -> str:
    """PostgreSQL type for a SQLite declared type (exact names first, then SQLite's affinity rules)."""
    text = " ".join(declared.upper().split())
    if text in _EXACT:
        return _EXACT[text]
    sized = _SIZED.match(text)
    if sized:
        kind, size, scale = sized.groups()
        if kind in {"NUMERIC", "DECIMAL"}:
            return f"numeric({size},{scale or 0})"
        return f"varchar({size})" if "VAR" in kind else f"char({size})"
    if "INT" in text:
        return "bigint"  # SQLite integers are 64-bit whatever the declared width
    if any(word in text for word in ("CHAR", "CLOB", "TEXT")):
        return "text"
    if not text:
        return "text"  # no affinity: values are converted to their text form
    if any(word in text for word in ("REAL", "FLOA", "DOUB")):
        return "double precision"
    return "numeric"


def open_readonly(path: Path) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError:
        # After cutover the file is read-only; WAL readers then cannot take locks, and no one can write.
        conn = sqlite3.connect(f"file:{path}?immutable=1", uri=True, check_same_thread=False)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as exc:
            raise MigrateDbError(f"{path} is not a readable SQLite database: {exc}") from None
    return conn


def read_tables(conn: sqlite3.Connection) -> list[SqliteTable]:
    names = [_text(r[0]) for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name")]
    return [_table(conn, name) for name in names]


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _table(conn: sqlite3.Connection, name: str) -> SqliteTable:
    columns = []
    for _cid, col, declared, not_null, default, pk, hidden in conn.execute(f"PRAGMA table_xinfo({quote_ident(name)})"):
        if hidden:
            continue  # generated or hidden columns are recomputed, not copied
        declared = _text(declared or "")
        default_text = _text(default) if default is not None else None
        columns.append(SqliteColumn(_text(col), declared, pg_type(declared), bool(not_null), default_text, int(pk)))
    table = SqliteTable(name, columns, rowid_pk=False)
    pk_columns = [c for c in columns if c.pk_position]
    table.rowid_pk = len(pk_columns) == 1 and pk_columns[0].declared.upper() == "INTEGER"
    for _seq, index, unique, origin, partial in conn.execute(f"PRAGMA index_list({quote_ident(name)})"):
        index = _text(index)
        cols = [_text(r[2]) if r[2] is not None else None
                for r in conn.execute(f"PRAGMA index_info({quote_ident(index)})")]
        if _text(origin) == "pk":
            continue
        if partial or None in cols:
            table.notes.append(f"index {index} (partial or on an expression) not created; create it by hand")
            continue
        names = [c for c in cols if c is not None]
        if index.startswith("sqlite_autoindex_"):  # SQLite's name for a UNIQUE column constraint
            index = f"{name}_{'_'.join(names)}_key"
        table.indexes.append((index, bool(unique), names))
    groups: dict[int, list[tuple[str, str, str, str, str]]] = {}
    for fk_id, _seq, ref, src, dst, on_update, on_delete, _match in conn.execute(
            f"PRAGMA foreign_key_list({quote_ident(name)})"):
        groups.setdefault(fk_id, []).append((_text(src), _text(ref), _text(dst) if dst else "",
                                             _text(on_update), _text(on_delete)))
    for parts in groups.values():
        ref_cols = [p[2] for p in parts]
        table.foreign_keys.append(([p[0] for p in parts], parts[0][1], ref_cols, parts[0][3], parts[0][4]))
    return table


def create_table_sql(table: SqliteTable) -> str:
    lines = []
    for column in table.columns:
        if table.rowid_pk and column.pk_position:
            lines.append(f"{quote_ident(column.name)} bigint GENERATED BY DEFAULT AS IDENTITY")
            continue
        line = f"{quote_ident(column.name)} {column.pg_type}"
        if column.not_null:
            line += " NOT NULL"
        if column.default is not None:
            default = column.default.strip()
            if column.pg_type == "boolean" and default.strip("'") in {"0", "1"}:
                default = "true" if default.strip("'") == "1" else "false"  # SQLite booleans are 0/1
            if _SAFE_DEFAULT.match(default):
                line += f" DEFAULT {default}"
            else:
                table.notes.append(f"default {column.default!r} of {table.name}.{column.name} not carried over")
        lines.append(line)
    if table.pk:
        lines.append(f"PRIMARY KEY ({', '.join(quote_ident(c) for c in table.pk)})")
    return f"CREATE TABLE {table.qname} (\n  " + ",\n  ".join(lines) + "\n)"


def post_data_sql(table: SqliteTable, pk_of: dict[str, list[str]]) -> list[str]:
    statements = []
    for name, unique, cols in table.indexes:
        kind = "UNIQUE INDEX" if unique else "INDEX"
        statements.append(f"CREATE {kind} {quote_ident(name)} ON {table.qname} "
                          f"({', '.join(quote_ident(c) for c in cols)})")
    for index, (src, ref, dst, on_update, on_delete) in enumerate(table.foreign_keys):
        targets = dst if all(dst) else pk_of.get(ref, [])
        if len(targets) != len(src):
            table.notes.append(f"foreign key {table.name}({', '.join(src)}) → {ref}: referenced columns unknown")
            continue
        actions = "".join(f" ON {what} {action}" for what, action in (("UPDATE", on_update), ("DELETE", on_delete))
                          if action and action.upper() != "NO ACTION")
        statements.append(f"ALTER TABLE {table.qname} ADD CONSTRAINT {quote_ident(f'fk_{table.name}_{index}')} "
                          f"FOREIGN KEY ({', '.join(quote_ident(c) for c in src)}) REFERENCES "
                          f"{qualified('public', ref)} ({', '.join(quote_ident(c) for c in targets)}){actions}")
    return statements
