"""One Settings object, one sub-model per concern; URLs select adapters.

Each value comes from, in order: the canonical environment variable (or ``.env``), one of
its alternate names or a seed-style alias (``STORAGE_MODE``, ``S3_BUCKET_NAME`` …, see
``settings_aliases``), then the embedded default under ``./.hashigo/``. Where two given
forms disagree, loading fails with a message naming both rather than guessing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from hashigo.errors import ConfigError

Environment = Literal["development", "test", "staging", "production"]


class DatabaseSettings(BaseModel):
    url: str = Field(description="SQLAlchemy async URL: sqlite+aiosqlite:///… or postgresql+asyncpg://…")
    pool_size: int = Field(5, ge=1)
    max_overflow: int = Field(10, ge=0)
    pool_recycle_seconds: int = Field(1800, ge=1)
    connect_timeout_seconds: float = Field(5.0, gt=0)
    statement_timeout_ms: int = Field(30_000, ge=0)


class StorageSettings(BaseModel):
    url: str = Field(description="file:///abs/dir, memory://, s3://bucket[/prefix], gs://bucket[/prefix], "
                                 "az://container[/prefix]")
    endpoint_url: str | None = None
    region: str | None = None
    path_style: bool = False
    access_key_id: SecretStr | None = None
    secret_access_key: SecretStr | None = None
    session_token: SecretStr | None = None
    gcs_service_account_path: str | None = None
    azure_account_name: str | None = None
    azure_account_key: SecretStr | None = None
    azure_connection_string: SecretStr | None = None
    # Local and memory stores sign their own URLs; the service verifies them under this base.
    signing_secret: SecretStr = SecretStr("")
    public_base_url: str = "http://127.0.0.1:8000/api/v1/files"
    timeout_seconds: float = Field(30.0, gt=0)
    connect_timeout_seconds: float = Field(5.0, gt=0)


class KeyValueSettings(BaseModel):
    url: str = Field(description="redis://…, rediss://… or sqlite:///abs/path (embedded)")
    timeout_seconds: float = Field(2.0, gt=0)


class SessionSettings(BaseModel):
    ttl_seconds: int = Field(86_400, ge=1)
    files_lifecycle_days: int = Field(7, ge=1)


class PubSubSettings(BaseModel):
    url: str = Field(description="memory:// (in-process, one server process) or redis://… / rediss://…")
    timeout_seconds: float = Field(2.0, gt=0)


class SecuritySettings(BaseModel):
    secret_key: SecretStr
    environment: Environment = "development"


JwtAlgorithm = Literal["HS256", "EdDSA", "RS256"]


class AuthSettings(BaseModel):
    """Own-JWT auth (seed 002 §7). HS256 keys derive from SECRET_KEY; EdDSA/RS256 read PEM files."""

    algorithm: JwtAlgorithm = "HS256"
    private_key_path: Path | None = None
    public_key_path: Path | None = None
    issuer: str = "hashigo"
    audience: str = "hashigo-api"
    access_ttl_seconds: int = Field(900, ge=5, le=86_400)
    refresh_ttl_seconds: int = Field(30 * 86_400, ge=300)
    leeway_seconds: int = Field(30, ge=0, le=60)
    # Fixed windows in the key-value store; an account is locked only for one window at most.
    login_failures_per_account: int = Field(10, ge=1)
    login_failures_per_address: int = Field(50, ge=1)
    login_window_seconds: int = Field(300, ge=1)


class ServiceSettings(BaseModel):
    """`hashigo serve`: where it listens and the limits it enforces on every request."""

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65_535)
    allowed_origins: tuple[str, ...] = ()
    max_upload_bytes: int = Field(50 * 1024 * 1024, ge=1)
    max_avatar_bytes: int = Field(5 * 1024 * 1024, ge=1)
    signed_url_seconds: int = Field(3600, ge=1, le=7 * 86_400)
    public_files_base_url: str | None = None
    ws_max_message_bytes: int = Field(64 * 1024, ge=1024)
    ws_queue_size: int = Field(256, ge=1)
    ws_ping_seconds: float = Field(20.0, gt=0)
    readiness_timeout_seconds: float = Field(2.0, gt=0)
    retry_after_seconds: int = Field(5, ge=1)
    log_format: Literal["json", "text"] = "json"
    log_level: str = "INFO"


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a setting's value came from, for `hashigo doctor`."""

    source: Literal["default", "env", ".env", "alias", "derived", "generated"]
    names: tuple[str, ...] = ()

    def describe(self) -> str:
        return f"{self.source} ({', '.join(self.names)})" if self.names else self.source


class Settings(BaseSettings):
    """Everything hashigo reads from its environment. Build it with ``load_settings()``."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    data_dir: Path
    database: DatabaseSettings
    storage: StorageSettings
    kv: KeyValueSettings
    sessions: SessionSettings = SessionSettings()
    pubsub: PubSubSettings
    security: SecuritySettings
    auth: AuthSettings = AuthSettings()
    service: ServiceSettings = ServiceSettings()
    origins: dict[str, Origin] = Field(default_factory=dict, exclude=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, _HashigoEnvironmentSource(settings_cls))


class _HashigoEnvironmentSource(PydanticBaseSettingsSource):
    """Feeds ``Settings()`` from the process environment and ``./.env``, aliases resolved."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        from hashigo.settings_aliases import read_environment, resolve

        return resolve(read_environment(Path(".env")))


def load_settings(environ: Mapping[str, str] | None = None, *, env_file: Path | None = Path(".env"),
                  cwd: Path | None = None) -> Settings:
    """Resolve settings from ``environ`` (default: the process) and ``env_file``.

    Raises ``ConfigError`` with one readable line for anything invalid or contradictory.
    """
    from hashigo.settings_aliases import read_environment, resolve

    values = resolve(read_environment(env_file, environ), cwd=cwd)
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise ConfigError(_describe_validation_error(exc, values)) from None


def _describe_validation_error(exc: ValidationError, values: Mapping[str, Any]) -> str:
    origins: Mapping[str, Origin] = values.get("origins", {})
    problems = []
    for error in exc.errors():
        path = ".".join(str(p) for p in error["loc"])
        origin = origins.get(path)
        where = f" (from {', '.join(origin.names)})" if origin and origin.names else ""
        problems.append(f"{path}{where}: {error['msg']}")
    return "invalid setting " + "; ".join(problems)


def derive_secret(secret_key: SecretStr, purpose: str) -> SecretStr:
    """A purpose-bound key, so leaking one derived key does not leak the others."""
    digest = hmac.new(secret_key.get_secret_value().encode(), purpose.encode(), hashlib.sha256).hexdigest()
    return SecretStr(digest)


def generated_secret_key(data_dir: Path) -> SecretStr:
    """The development secret: made once, kept in the data dir with mode 0600."""
    path = data_dir / "secret_key"
    if path.exists():
        return SecretStr(path.read_text().strip())
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    tmp = path.with_suffix(".tmp")
    tmp.touch(mode=0o600)
    tmp.write_text(key)
    tmp.replace(path)
    return SecretStr(key)
