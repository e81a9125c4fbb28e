"""Source and target URLs: parsed once, checked, and turned into libpq connections.

Accepted spellings are the ones hashigo's DATABASE_URL accepts (postgres://, postgresql://,
postgresql+asyncpg://, sqlite:///path, sqlite+aiosqlite:///path) plus postgresql+psycopg://.
Passwords never leave this module except into libpq itself or a child's PGPASSWORD.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

import psycopg

from hashigo.ops.migrate.db.errors import BadInput, MigrateDbError
from hashigo.urls import redact_url

ACCEPTED = ("postgresql://user:password@host:5432/dbname (also postgres://, postgresql+asyncpg://), "
            "or for a source only sqlite:///path/to/file.db")
_PG_SCHEMES = {"postgres", "postgresql", "postgresql+asyncpg", "postgresql+psycopg", "postgresql+psycopg2"}
_SQLITE_SCHEMES = {"sqlite", "sqlite+aiosqlite", "sqlite+pysqlite"}
# Supavisor's / PgBouncer's transaction mode: no session state, so no COPY snapshot, no SET.
_POOLER_PORTS = {6543}
APPLICATION_NAME = "hashigo-migrate"

# Output settings that make text renderings identical on both servers (verify hashes them).
SESSION_SETTINGS = {
    "statement_timeout": "0",
    "idle_in_transaction_session_timeout": "0",
    "lock_timeout": "0",
    "TimeZone": "UTC",
    "DateStyle": "ISO, YMD",
    "IntervalStyle": "postgres",
    "extra_float_digits": "3",
    "bytea_output": "hex",
    "client_encoding": "UTF8",
}


@dataclass(frozen=True)
class Endpoint:
    """One side of a migration. ``role`` is "source" or "target" (used in messages)."""

    role: str
    kind: str  # "postgres" or "sqlite"
    display: str  # redacted, safe to print
    url: str = ""  # libpq URI without the password
    password: str | None = field(default=None, repr=False)
    dbname: str = ""
    sqlite_path: Path | None = None
    original: str = field(default="", repr=False)

    @property
    def is_postgres(self) -> bool:
        return self.kind == "postgres"

    def conninfo(self) -> str:
        return psycopg.conninfo.make_conninfo(self.url, password=self.password) if self.password else self.url

    def child_env(self) -> dict[str, str]:
        """Environment for pg_dump/pg_restore/psql: the password travels here, not in argv."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        if self.password:
            env["PGPASSWORD"] = self.password
        env["PGAPPNAME"] = APPLICATION_NAME
        return env

    def app_database_url(self, *, show_password: bool, scheme: str = "postgresql") -> str:
        """The DATABASE_URL the app should use for this database, in the scheme the app already uses."""
        if self.kind == "sqlite":
            return f"sqlite+aiosqlite:///{self.sqlite_path}"
        parts = urlsplit(self.url)
        if self.password:
            shown = quote(self.password, safe="") if show_password else "***"
            user, _, host = parts.netloc.rpartition("@")
            parts = parts._replace(netloc=f"{user}:{shown}@{host}")
        if scheme.startswith("sqlite"):
            scheme = "postgresql"
        return parts._replace(scheme=scheme).geturl()


def parse_endpoint(raw: str, role: str) -> Endpoint:
    text = (raw or "").strip()
    option = "--from" if role == "source" else "--to"
    if not text:
        raise BadInput(f"{option}: no URL given; accepted: {ACCEPTED}")
    scheme = text.split("://", 1)[0].lower() if "://" in text else ""
    if scheme in _SQLITE_SCHEMES:
        return _sqlite_endpoint(text, role, option)
    if scheme not in _PG_SCHEMES:
        shown = scheme or "(none)"
        raise BadInput(f"{option}: unknown scheme {shown!r} in {redact_url(text)!r}; accepted: {ACCEPTED}")
    return _postgres_endpoint(text, role, option)


def _sqlite_endpoint(text: str, role: str, option: str) -> Endpoint:
    if role != "source":
        raise BadInput(f"{option}: the target must be PostgreSQL, got {text!r}; accepted: postgresql://…")
    path_text = unquote(text.split("://", 1)[1])
    if not path_text.startswith("/") or path_text in {"/", "/:memory:"}:
        raise BadInput(f"{option}: {text!r} names no file; write sqlite:///relative/path or sqlite:////absolute/path")
    path = Path(path_text[1:]).resolve()
    if not path.is_file():
        raise BadInput(f"{option}: SQLite file {path} does not exist")
    return Endpoint(role=role, kind="sqlite", display=f"sqlite:///{path}", sqlite_path=path, original=text)


def _postgres_endpoint(text: str, role: str, option: str) -> Endpoint:
    try:
        parts = urlsplit("postgresql://" + text.split("://", 1)[1])
        port = parts.port
    except ValueError as exc:
        raise BadInput(f"{option}: malformed URL {redact_url(text)!r} ({exc}); accepted: {ACCEPTED}") from None
    if not parts.hostname:
        raise BadInput(f"{option}: {redact_url(text)!r} has no host; expected {ACCEPTED}")
    dbname = unquote(parts.path.lstrip("/"))
    if not dbname or "/" in dbname:
        raise BadInput(f"{option}: {redact_url(text)!r} names no database; expected …@host:5432/dbname")
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    pooled = str(query.pop("pgbouncer", "")).lower() in {"1", "true"}
    if pooled or port in _POOLER_PORTS:
        raise BadInput(f"{option}: {redact_url(text)!r} is a transaction-mode pooler (port 6543 / pgbouncer=true); "
                       f"a migration needs session state (snapshots, COPY): use the direct connection "
                       f"(Supabase: port 5432 on db.<ref>.supabase.co) or the session pooler")
    if "ssl" in query and "sslmode" not in query:  # asyncpg's spelling, used in hashigo's DATABASE_URL
        query["sslmode"] = query.pop("ssl")
    password = unquote(parts.password) if parts.password is not None else None
    user = parts.username
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    netloc = (f"{user}@" if user else "") + host + (f":{port}" if port else "")
    url = parts._replace(netloc=netloc, query=urlencode(query)).geturl()
    return Endpoint(role=role, kind="postgres", display=redact_url(text), url=url, password=password,
                    dbname=dbname, original=text)


def connect(endpoint: Endpoint, *, read_only: bool = False, connect_timeout: int = 15) -> psycopg.Connection:
    """An autocommit connection with settings that make output comparable on both servers."""
    try:
        conn = psycopg.connect(endpoint.conninfo(), autocommit=True, application_name=APPLICATION_NAME,
                               connect_timeout=connect_timeout)
    except psycopg.OperationalError as exc:
        raise MigrateDbError(f"cannot connect to the {endpoint.role} {endpoint.display}: "
                             f"{connection_hint(exc)}") from None
    with conn.cursor() as cur:
        for name, value in session_settings(endpoint, read_only=read_only).items():
            cur.execute("SELECT set_config(%s, %s, false)", (name, value))
        if conn.info.server_version >= 140000:
            # If we are killed, the server stops our statements (an index build, a COPY) within
            # seconds instead of finishing them for nobody.
            cur.execute("SET client_connection_check_interval = '2s'")
    return conn


def session_settings(endpoint: Endpoint, *, read_only: bool) -> dict[str, str]:
    """What every session of a migration sets, through libpq or psql alike."""
    settings = dict(SESSION_SETTINGS)
    if endpoint.role == "source":
        # Fail loudly instead of silently copying only the rows a policy lets us see.
        settings["row_security"] = "off"
    if read_only:
        settings["default_transaction_read_only"] = "on"
    return settings


def connection_hint(exc: BaseException) -> str:
    message = str(exc).strip().splitlines()
    first = message[-1] if message else type(exc).__name__
    lowered = str(exc).lower()
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        return f"{first} (check the user and password in the URL)"
    if "does not exist" in lowered and "database" in lowered:
        return f"{first} (create the database first, e.g. `createdb`, or fix the name in the URL)"
    if "connection refused" in lowered or "could not translate host name" in lowered:
        return f"{first} (is the server running, and are host and port right?)"
    if "timeout" in lowered:
        return f"{first} (no answer; check the host, port, firewall or security group)"
    return first
