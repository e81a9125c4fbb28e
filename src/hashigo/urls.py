"""Parse, normalise and redact the URLs that select adapters.

Every function raises ``ConfigError`` with the variable name, what was wrong and what is
accepted, so the CLI can print one line and exit 2.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from hashigo.errors import ConfigError

DATABASE_SCHEMES = "sqlite+aiosqlite:///path, sqlite:///path, postgresql://…, postgres://…, postgresql+asyncpg://…"
STORAGE_SCHEMES = "file:///abs/dir, memory://, s3://bucket[/prefix], gs://bucket[/prefix], az://container[/prefix]"
KV_SCHEMES = "redis://…, rediss://…, sqlite:///path (embedded)"

_SECRET_QUERY_KEYS = {"password", "sig", "signature", "x-amz-signature", "x-amz-credential", "token",
                      "access_key", "secret", "secret_key", "sas", "key"}

_STORAGE_SCHEME_ALIASES = {"gcs": "gs", "azure": "az", "abfs": "az", "s3a": "s3"}


def redact_url(url: str) -> str:
    """Hide the password and any secret-looking query values; keep everything else as written."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable url>"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{host}" if ":" in userinfo else f"{userinfo}@{host}"
        if not user:
            netloc = f"***@{host}"
    query = parts.query
    if query:
        pairs = [(k, "***" if k.lower() in _SECRET_QUERY_KEYS else v)
                 for k, v in parse_qsl(query, keep_blank_values=True)]
        query = urlencode(pairs, safe="*/:")
    if netloc == parts.netloc and query == parts.query:
        return url  # nothing secret; urlunsplit would also drop the "//" of sqlite:///path
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def strip_credentials(url: str) -> str:
    """The URL with no user, password or secret query parameter: how an adapter names itself."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port is None else f"{host}:{port}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if k.lower() not in _SECRET_QUERY_KEYS | {"username", "user", "pass"}], safe="/:")
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def normalise_database_url(url: str, *, name: str = "DATABASE_URL") -> str:
    """Return a SQLAlchemy async URL (aiosqlite or asyncpg) for any accepted spelling."""
    raw = url.strip()
    scheme = raw.split("://", 1)[0].lower() if "://" in raw else ""
    if scheme in {"postgres", "postgresql"} or scheme.startswith("postgresql+"):
        if scheme.startswith("postgresql+") and scheme != "postgresql+asyncpg":
            driver = scheme.split("+", 1)[1]
            raise ConfigError(f"{name}: driver {driver!r} is not installed; hashigo uses asyncpg "
                              f"(write postgresql://… or postgresql+asyncpg://…)")
        raw = "postgresql+asyncpg://" + raw.split("://", 1)[1]
    elif scheme in {"sqlite", "sqlite+aiosqlite"}:
        raw = "sqlite+aiosqlite://" + raw.split("://", 1)[1]
    else:
        shown = scheme or "(none)"
        raise ConfigError(f"{name}: unknown scheme {shown!r} in {redact_url(raw)!r}; accepted: {DATABASE_SCHEMES}")
    # Imported here: SQLAlchemy costs ~0.15 s to import, and commands that never open a database
    # (migrate storage, plan) parse settings too.
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(raw)
    except (ArgumentError, ValueError) as exc:
        raise ConfigError(f"{name}: malformed URL {redact_url(raw)!r} ({exc}); accepted: {DATABASE_SCHEMES}") from exc
    if parsed.drivername == "postgresql+asyncpg":
        if not parsed.host:
            raise ConfigError(f"{name}: {redact_url(raw)!r} has no host; expected postgresql://user:pw@host:5432/db")
        query = dict(parsed.query)
        # libpq spells TLS "sslmode"; asyncpg takes "ssl". Seeds copy libpq URLs from Supabase.
        if "sslmode" in query:
            query["ssl"] = query.pop("sslmode")
            parsed = parsed.set(query=query)
    elif parsed.database in (None, ""):
        raise ConfigError(f"{name}: {redact_url(raw)!r} names no file; expected sqlite+aiosqlite:///path/to/db.sqlite3 "
                          f"(or sqlite+aiosqlite:///:memory:)")
    return parsed.render_as_string(hide_password=False)


class StorageUrl:
    """A storage URL split into scheme, bucket (or root folder), prefix and options."""

    def __init__(self, scheme: str, bucket: str, prefix: str, options: dict[str, str]) -> None:
        self.scheme = scheme
        self.bucket = bucket
        self.prefix = prefix
        self.options = options

    def base(self) -> str:
        if self.scheme == "memory":
            return "memory://"
        if self.scheme == "file":
            return "file://" + quote(self.bucket)
        tail = f"/{self.prefix}" if self.prefix else ""
        return f"{self.scheme}://{self.bucket}{tail}"


def parse_storage_url(url: str, *, name: str = "STORAGE_URL", cwd: Path | None = None) -> StorageUrl:
    raw = url.strip()
    try:
        parts = urlsplit(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}: malformed URL {redact_url(raw)!r} ({exc}); accepted: {STORAGE_SCHEMES}") from exc
    scheme = _STORAGE_SCHEME_ALIASES.get(parts.scheme.lower(), parts.scheme.lower())
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    if scheme == "memory":
        return StorageUrl("memory", "", parts.path.strip("/"), options)
    if scheme == "file":
        if parts.netloc in {".", ".."}:
            folder = (cwd or Path.cwd()) / (parts.netloc + unquote(parts.path))
        elif parts.netloc not in {"", "localhost"}:
            raise ConfigError(f"{name}: {raw!r} names a host {parts.netloc!r}; a file URL that has a host is not "
                              f"a local folder: write file:///absolute/dir or file://./relative/dir")
        elif not parts.path.startswith("/"):
            raise ConfigError(f"{name}: {raw!r} is not absolute; write file:///absolute/dir or file://./relative/dir")
        else:
            folder = Path(unquote(parts.path))
        return StorageUrl("file", str(folder.resolve()), "", options)
    if scheme in {"s3", "gs", "az"}:
        bucket = parts.netloc
        if not bucket or "@" in bucket or ":" in bucket:
            what = {"s3": "bucket", "gs": "bucket", "az": "container"}[scheme]
            raise ConfigError(f"{name}: {redact_url(raw)!r} names no {what}; expected {scheme}://{what}[/prefix] "
                              f"(endpoint, region and credentials go in their own settings or in ?endpoint=…&region=…)")
        prefix = unquote(parts.path).strip("/")
        if any(seg in {"", ".", ".."} for seg in prefix.split("/")) and prefix:
            raise ConfigError(f"{name}: prefix {prefix!r} has an empty, '.' or '..' segment")
        return StorageUrl(scheme, bucket, prefix, options)
    shown = parts.scheme or "(none)"
    raise ConfigError(f"{name}: unknown scheme {shown!r} in {redact_url(raw)!r}; accepted: {STORAGE_SCHEMES}")


def normalise_kv_url(url: str, *, name: str = "REDIS_URL", cwd: Path | None = None) -> str:
    raw = url.strip()
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"{name}: malformed URL {redact_url(raw)!r} ({exc}); accepted: {KV_SCHEMES}") from exc
    scheme = parts.scheme.lower()
    if scheme in {"redis", "rediss"}:
        if not parts.hostname:
            raise ConfigError(f"{name}: {redact_url(raw)!r} has no host; expected redis://[user:pw@]host:6379/0")
        if parts.path not in {"", "/"} and not parts.path.lstrip("/").isdigit():
            raise ConfigError(f"{name}: database {parts.path.lstrip('/')!r} in {redact_url(raw)!r} "
                              f"is not a number; expected redis://host:6379/0")
        del port
        return raw
    if scheme == "sqlite":
        path = unquote(parts.path)
        if parts.netloc in {".", ".."}:
            path = str(((cwd or Path.cwd()) / (parts.netloc + path)).resolve())
        if not path or path == "/":
            raise ConfigError(f"{name}: {raw!r} names no file; expected sqlite:///abs/path/kv.sqlite3")
        return "sqlite://" + quote(path)
    shown = parts.scheme or "(none)"
    raise ConfigError(f"{name}: unknown scheme {shown!r} in {redact_url(raw)!r}; accepted: {KV_SCHEMES}")
