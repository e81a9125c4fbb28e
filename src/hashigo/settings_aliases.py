"""Environment → settings values: canonical names, alternate names and the seeds' aliases.

The five teams' deployments already export ``STORAGE_MODE``, ``CLOUD_STORAGE_TYPE``,
``S3_BUCKET_NAME``, ``STORAGE_PROVIDER`` … (seed 002 §6, seed 003 §環境別の推奨構成); they map
here onto hashigo's URLs so a team adopts hashigo without renaming anything.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dotenv import dotenv_values

from hashigo.errors import ConfigError
from hashigo.settings import Origin, derive_secret, generated_secret_key
from hashigo.urls import normalise_database_url, normalise_kv_url, parse_storage_url, redact_url

EnvValue = tuple[str, str]  # (value, "env" | ".env")

# (settings path, names with the canonical one first, kind)
SIMPLE_SETTINGS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("database.pool_size", ("DATABASE_POOL_SIZE",), "int"),
    ("database.max_overflow", ("DATABASE_MAX_OVERFLOW",), "int"),
    ("database.pool_recycle_seconds", ("DATABASE_POOL_RECYCLE",), "int"),
    ("database.connect_timeout_seconds", ("DATABASE_CONNECT_TIMEOUT",), "float"),
    ("database.statement_timeout_ms", ("DATABASE_STATEMENT_TIMEOUT_MS",), "int"),
    ("storage.endpoint_url", ("STORAGE_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL",
                              "S3_ENDPOINT_URL"), "str"),
    ("storage.region", ("STORAGE_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"), "str"),
    ("storage.path_style", ("STORAGE_PATH_STYLE", "S3_FORCE_PATH_STYLE"), "bool"),
    ("storage.access_key_id", ("AWS_ACCESS_KEY_ID",), "secret"),
    ("storage.secret_access_key", ("AWS_SECRET_ACCESS_KEY",), "secret"),
    ("storage.session_token", ("AWS_SESSION_TOKEN",), "secret"),
    ("storage.gcs_service_account_path", ("GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_SERVICE_ACCOUNT"), "str"),
    ("storage.azure_account_name", ("AZURE_STORAGE_ACCOUNT_NAME", "AZURE_STORAGE_ACCOUNT"), "str"),
    ("storage.azure_account_key", ("AZURE_STORAGE_ACCOUNT_KEY", "AZURE_STORAGE_KEY"), "secret"),
    ("storage.azure_connection_string", ("AZURE_STORAGE_CONNECTION_STRING",), "secret"),
    ("storage.public_base_url", ("STORAGE_PUBLIC_BASE_URL",), "str"),
    ("storage.timeout_seconds", ("STORAGE_TIMEOUT",), "float"),
    ("storage.connect_timeout_seconds", ("STORAGE_CONNECT_TIMEOUT",), "float"),
    ("kv.timeout_seconds", ("KV_TIMEOUT", "REDIS_TIMEOUT"), "float"),
    ("sessions.ttl_seconds", ("SESSION_TTL",), "int"),
    ("sessions.files_lifecycle_days", ("SESSION_FILES_LIFECYCLE_DAYS",), "int"),
    ("security.secret_key", ("SECRET_KEY", "JWT_SECRET_KEY"), "secret"),
    ("security.environment", ("HASHIGO_ENV",), "str"),
    ("pubsub.timeout_seconds", ("PUBSUB_TIMEOUT",), "float"),
    ("auth.algorithm", ("JWT_ALGORITHM",), "str"),
    ("auth.private_key_path", ("JWT_PRIVATE_KEY_PATH",), "str"),
    ("auth.public_key_path", ("JWT_PUBLIC_KEY_PATH",), "str"),
    ("auth.issuer", ("JWT_ISSUER",), "str"),
    ("auth.audience", ("JWT_AUDIENCE",), "str"),
    ("auth.access_ttl_seconds", ("ACCESS_TOKEN_TTL",), "int"),
    ("auth.refresh_ttl_seconds", ("REFRESH_TOKEN_TTL",), "int"),
    ("auth.leeway_seconds", ("JWT_LEEWAY",), "int"),
    ("auth.login_failures_per_account", ("LOGIN_FAILURES_PER_ACCOUNT",), "int"),
    ("auth.login_failures_per_address", ("LOGIN_FAILURES_PER_ADDRESS",), "int"),
    ("auth.login_window_seconds", ("LOGIN_WINDOW_SECONDS",), "int"),
    ("service.host", ("HASHIGO_HOST", "HOST"), "str"),
    ("service.port", ("HASHIGO_PORT", "PORT"), "int"),
    ("service.allowed_origins", ("ALLOWED_ORIGINS", "CORS_ORIGINS"), "list"),
    ("service.max_upload_bytes", ("MAX_UPLOAD_BYTES",), "int"),
    ("service.max_avatar_bytes", ("MAX_AVATAR_BYTES",), "int"),
    ("service.signed_url_seconds", ("SIGNED_URL_TTL",), "int"),
    ("service.public_files_base_url", ("PUBLIC_FILES_BASE_URL",), "str"),
    ("service.ws_max_message_bytes", ("WS_MAX_MESSAGE_BYTES",), "int"),
    ("service.ws_queue_size", ("WS_QUEUE_SIZE",), "int"),
    ("service.ws_ping_seconds", ("WS_PING_SECONDS",), "float"),
    ("service.readiness_timeout_seconds", ("READINESS_TIMEOUT",), "float"),
    ("service.retry_after_seconds", ("RETRY_AFTER_SECONDS",), "int"),
    ("service.log_format", ("LOG_FORMAT",), "str"),
    ("service.log_level", ("LOG_LEVEL",), "str"),
)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def read_environment(env_file: Path | None, environ: Mapping[str, str] | None = None) -> dict[str, EnvValue]:
    """The process environment over the ``.env`` file, each value tagged with where it came from."""
    merged: dict[str, EnvValue] = {}
    if env_file is not None and env_file.is_file():
        for key, value in dotenv_values(env_file).items():
            if value is not None:
                merged[key] = (value, ".env")
    for key, value in (os.environ if environ is None else environ).items():
        merged[key] = (value, "env")
    return {k: v for k, v in merged.items() if v[0].strip() != ""}


class _Resolver:
    def __init__(self, env: Mapping[str, EnvValue], cwd: Path) -> None:
        self.env = env
        self.cwd = cwd
        self.values: dict[str, Any] = {}
        self.origins: dict[str, Origin] = {}

    def put(self, path: str, value: Any, origin: Origin) -> None:
        node = self.values
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
        self.origins[path] = origin

    def first_of(self, path: str, names: tuple[str, ...]) -> tuple[str, Origin] | None:
        """The value given under any of ``names``; two names with different values is an error."""
        given = [(name, self.env[name]) for name in names if name in self.env]
        if not given:
            return None
        (first_name, (value, source)) = given[0]
        for other_name, (other_value, _) in given[1:]:
            if other_value.strip() != value.strip():
                raise ConfigError(f"{first_name} and {other_name} disagree for {path} "
                                  f"({_show(first_name, value)} vs {_show(other_name, other_value)}); "
                                  f"set one of them, or make them equal")
        names_used = tuple(n for n, _ in given)
        kind = source if first_name == names[0] else "alias"
        return value.strip(), Origin(kind, names_used)  # type: ignore[arg-type]


def _show(name: str, value: str) -> str:
    secretish = any(word in name for word in ("SECRET", "KEY", "TOKEN", "PASSWORD"))
    if secretish:
        return f"{name}=***"
    return f"{name}={redact_url(value) if '://' in value else value!r}"


def _convert(kind: str, value: str, names: tuple[str, ...]) -> Any:
    try:
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
    except ValueError:
        raise ConfigError(f"{names[0]}={value!r} is not a {'whole ' if kind == 'int' else ''}number") from None
    if kind == "list":
        return tuple(item.strip() for item in value.split(",") if item.strip())
    if kind == "bool":
        lowered = value.lower()
        if lowered in _TRUE | _FALSE:
            return lowered in _TRUE
        raise ConfigError(f"{names[0]}={value!r} is not accepted; use true/false (or 1/0, yes/no)")
    return value


def resolve(env: Mapping[str, EnvValue], *, cwd: Path | None = None) -> dict[str, Any]:
    """Settings values (nested dicts) plus ``origins``; raises ConfigError on anything invalid."""
    r = _Resolver(env, cwd or Path.cwd())
    data_dir_given = r.first_of("data_dir", ("HASHIGO_DATA_DIR",))
    data_dir = (r.cwd / data_dir_given[0]).resolve() if data_dir_given else (r.cwd / ".hashigo").resolve()
    r.put("data_dir", data_dir, data_dir_given[1] if data_dir_given else Origin("default"))

    for path, names, kind in SIMPLE_SETTINGS:
        found = r.first_of(path, names)
        if found is not None:
            r.put(path, _convert(kind, found[0], names), found[1])

    _resolve_database(r, data_dir)
    _resolve_kv(r, data_dir)
    _resolve_storage(r, data_dir)
    _derive_files_base_url(r)
    _resolve_pubsub(r)
    _resolve_secrets(r, data_dir)
    r.values["origins"] = r.origins
    return r.values


def _resolve_database(r: _Resolver, data_dir: Path) -> None:
    found = r.first_of("database.url", ("DATABASE_URL",))
    if found is None:
        r.put("database.url", f"sqlite+aiosqlite:///{data_dir / 'hashigo.db'}", Origin("default"))
        return
    r.put("database.url", normalise_database_url(found[0], name="DATABASE_URL"), found[1])


def _resolve_kv(r: _Resolver, data_dir: Path) -> None:
    found = r.first_of("kv.url", ("REDIS_URL", "KV_URL"))
    session_type = r.env.get("SESSION_TYPE")
    if session_type is not None:
        kind = session_type[0].strip().lower()
        if kind not in {"redis", "local", "filesystem", "embedded"}:
            raise ConfigError(f"SESSION_TYPE={session_type[0]!r} is not accepted; use redis, or local/filesystem "
                              f"for the embedded store")
        if kind == "redis" and found is None:
            raise ConfigError("SESSION_TYPE=redis needs REDIS_URL (e.g. redis://localhost:6379/0); it is not set")
        if kind != "redis" and found is not None and found[0].startswith(("redis://", "rediss://")):
            raise ConfigError(f"SESSION_TYPE={session_type[0]} conflicts with REDIS_URL={redact_url(found[0])}; "
                              f"use SESSION_TYPE=redis, or unset REDIS_URL for the embedded store")
    if found is None:
        r.put("kv.url", f"sqlite://{data_dir / 'kv.sqlite3'}", Origin("default"))
        return
    name = found[1].names[0]
    if name == "REDIS_URL" and not found[0].lower().startswith(("redis://", "rediss://")):
        raise ConfigError(f"REDIS_URL: {redact_url(found[0])!r} is not a Redis URL; accepted: redis://…, rediss://… "
                          f"(use KV_URL=sqlite:///path for the embedded store)")
    origin = found[1]
    if session_type is not None:
        origin = Origin(origin.source, (*origin.names, "SESSION_TYPE"))
    r.put("kv.url", normalise_kv_url(found[0], name=name, cwd=r.cwd), origin)


def _resolve_pubsub(r: _Resolver) -> None:
    found = r.first_of("pubsub.url", ("PUBSUB_URL",))
    if found is None:
        # Events follow the key-value store: Redis when it is Redis, so every instance hears them.
        kv_url = r.values["kv"]["url"]
        shared = kv_url.startswith(("redis://", "rediss://"))
        r.put("pubsub.url", kv_url if shared else "memory://", Origin("derived", ("REDIS_URL",) if shared else ()))
        return
    value = found[0]
    if value != "memory://" and not value.lower().startswith(("redis://", "rediss://")):
        raise ConfigError(f"PUBSUB_URL={redact_url(value)!r} is not accepted; use memory:// (one process) "
                          f"or redis://… / rediss://…")
    r.put("pubsub.url", value, found[1])


def _resolve_storage(r: _Resolver, data_dir: Path) -> None:
    from hashigo.storage_aliases import storage_url_from_aliases

    explicit = r.first_of("storage.url", ("STORAGE_URL",))
    alias = storage_url_from_aliases(r.env, r.cwd)
    if explicit is None and alias is None:
        r.put("storage.url", f"file://{data_dir / 'storage'}", Origin("default"))
        return
    if explicit is not None:
        parsed = parse_storage_url(explicit[0], name="STORAGE_URL", cwd=r.cwd)
        origin = explicit[1]
        if alias is not None and alias.url.base() != parsed.base():
            raise ConfigError(f"STORAGE_URL={redact_url(explicit[0])} conflicts with {alias.describe()} "
                              f"(→ {alias.url.base()}); set one of them, or make them agree")
    else:
        assert alias is not None
        parsed, origin = alias.url, Origin("alias", alias.names)
    r.put("storage.url", parsed.base(), origin)
    extras = dict(alias.extra) if alias is not None else {}
    for option, path, kind in (("endpoint", "storage.endpoint_url", "str"),
                               ("endpoint_url", "storage.endpoint_url", "str"),
                               ("region", "storage.region", "str"),
                               ("path_style", "storage.path_style", "bool"),
                               ("force_path_style", "storage.path_style", "bool")):
        if option in parsed.options:
            extras[path] = (_convert(kind, parsed.options.pop(option), (f"STORAGE_URL ?{option}",)),
                            Origin(origin.source, (*origin.names, f"?{option}")))
    if parsed.options:
        raise ConfigError(f"STORAGE_URL: unknown option(s) {sorted(parsed.options)}; accepted: endpoint, region, "
                          f"path_style")
    for path, (value, extra_origin) in extras.items():
        section, leaf = path.split(".")
        current = r.values.get(section, {}).get(leaf)
        if current is not None and current != value:
            shown = "***" if "secret" in leaf or "token" in leaf or "key" in leaf else f"{current!r} vs {value!r}"
            raise ConfigError(f"{path}: {r.origins[path].describe()} and {extra_origin.describe()} disagree "
                              f"({shown}); set one of them, or make them agree")
        if current is None:
            r.put(path, value, extra_origin)
    endpoint = r.values.get("storage", {}).get("endpoint_url")
    if endpoint is not None:
        parts = urlsplit(endpoint)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ConfigError(f"storage endpoint {endpoint!r} ({r.origins['storage.endpoint_url'].describe()}) "
                              f"is not an http(s) URL; expected e.g. https://<account>.r2.cloudflarestorage.com")


def _derive_files_base_url(r: _Resolver) -> None:
    """Where the service serves local/memory signed URLs: its own host and port unless set explicitly."""
    if "public_base_url" in r.values.get("storage", {}):
        return
    service = r.values.get("service", {})
    host = str(service.get("host", "127.0.0.1"))
    host = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}.get(host, host)
    host = f"[{host}]" if ":" in host and not host.startswith("[") else host
    names = tuple(n for n in ("HASHIGO_HOST", "HOST", "HASHIGO_PORT", "PORT") if n in r.env)
    r.put("storage.public_base_url", f"http://{host}:{service.get('port', 8000)}/api/v1/files",
          Origin("derived", names) if names else Origin("default"))


def _resolve_secrets(r: _Resolver, data_dir: Path) -> None:
    security = r.values.setdefault("security", {})
    if "secret_key" not in security:
        if security.get("environment") == "production":
            raise ConfigError("SECRET_KEY is required when HASHIGO_ENV=production (a random value of at least "
                              "32 bytes, e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)")
        security["secret_key"] = generated_secret_key(data_dir)
        r.origins["security.secret_key"] = Origin("generated", (str(data_dir / "secret_key"),))
    from pydantic import SecretStr

    secret = security["secret_key"]
    secret = secret if isinstance(secret, SecretStr) else SecretStr(secret)
    if security.get("environment", "development") in {"staging", "production"}:
        _refuse_weak_secret(secret.get_secret_value(), str(security.get("environment")))
    r.put("storage.signing_secret", derive_secret(secret, "hashigo/storage-url-signing"), Origin("derived"))


# Values copied from tutorials and templates; a deployment that ships one has no secret at all.
PLACEHOLDER_SECRETS = frozenset({
    "changeme", "change-me", "changethis", "secret", "secret-key", "secretkey", "your-secret-key",
    "your-secret-key-here", "your_secret_key", "supersecret", "super-secret", "mysecret", "password",
    "development", "dev", "test", "default", "please-change-me", "insecure", "xxx",
})
MIN_SECRET_BYTES = 32  # 256 bits: HS256 keys must be at least as long as the hash (RFC 7518 §3.2)


def _refuse_weak_secret(secret: str, environment: str) -> None:
    lowered = secret.strip().lower()
    if lowered in PLACEHOLDER_SECRETS or ("change" in lowered and "me" in lowered) or len(set(secret)) < 8:
        raise ConfigError(f"SECRET_KEY looks like a placeholder; HASHIGO_ENV={environment} needs a random value "
                          f"of at least {MIN_SECRET_BYTES} bytes, e.g. "
                          f"`python -c 'import secrets; print(secrets.token_urlsafe(48))'`")
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise ConfigError(f"SECRET_KEY is {len(secret.encode())} bytes; HASHIGO_ENV={environment} needs at least "
                          f"{MIN_SECRET_BYTES} bytes (256 bits) of random data, e.g. "
                          f"`python -c 'import secrets; print(secrets.token_urlsafe(48))'`")
