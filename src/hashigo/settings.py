"""One Settings object, one sub-model per concern; URLs select adapters.

Resolution order for every value: explicit environment variable (or ``.env``), then a
seed-style alias (``STORAGE_MODE``, ``S3_BUCKET_NAME``, ...), then the embedded default
under ``./.hashigo/``. When a canonical variable and an alias disagree we refuse to guess.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr

Source = Literal["default", "env", ".env", "alias", "derived"]


class DatabaseSettings(BaseModel):
    url: str = Field(description="SQLAlchemy async URL: sqlite+aiosqlite:///… or postgresql+asyncpg://…")
    pool_size: int = 5
    max_overflow: int = 10
    pool_recycle_seconds: int = 1800
    connect_timeout_seconds: float = 5.0
    statement_timeout_ms: int = 30_000


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
    timeout_seconds: float = 30.0
    connect_timeout_seconds: float = 5.0


class KeyValueSettings(BaseModel):
    url: str = Field(description="redis://…, rediss://… or sqlite:///abs/path (embedded)")
    timeout_seconds: float = 2.0


class SessionSettings(BaseModel):
    ttl_seconds: int = 86_400
    files_lifecycle_days: int = 7


class SecuritySettings(BaseModel):
    secret_key: SecretStr
    environment: Literal["development", "test", "staging", "production"] = "development"


def default_data_dir() -> Path:
    return Path.cwd() / ".hashigo"
