"""Settings: URL normalisation, seed-style aliases, conflicts, sources and redaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from hashigo.errors import ConfigError
from hashigo.settings import Settings, load_settings
from hashigo.urls import redact_url


def load(tmp_path: Path, **env: str) -> Settings:
    return load_settings(env, env_file=None, cwd=tmp_path)


def test_defaults_are_embedded_under_dot_hashigo(tmp_path: Path) -> None:
    s = load(tmp_path)
    data = (tmp_path / ".hashigo").resolve()
    assert s.data_dir == data
    assert s.database.url == f"sqlite+aiosqlite:///{data}/hashigo.db"
    assert s.storage.url == f"file://{data}/storage"
    assert s.kv.url == f"sqlite://{data}/kv.sqlite3"
    assert s.origins["database.url"].source == "default"
    # A development secret is generated once and then reused.
    assert s.origins["security.secret_key"].source == "generated"
    again = load(tmp_path)
    assert again.security.secret_key.get_secret_value() == s.security.secret_key.get_secret_value()
    assert len(s.security.secret_key.get_secret_value()) >= 43
    assert (data / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(("given", "expected"), [
    ("postgres://u:p@db.example.co:5432/app", "postgresql+asyncpg://u:p@db.example.co:5432/app"),
    ("postgresql://u:p@h/app", "postgresql+asyncpg://u:p@h/app"),
    ("postgresql+asyncpg://u:p@h/app", "postgresql+asyncpg://u:p@h/app"),
    ("postgresql://u:p@h/app?sslmode=require", "postgresql+asyncpg://u:p@h/app?ssl=require"),
    ("sqlite:////tmp/x.db", "sqlite+aiosqlite:////tmp/x.db"),
    ("sqlite+aiosqlite:////tmp/x.db", "sqlite+aiosqlite:////tmp/x.db"),
])
def test_database_urls_are_normalised(tmp_path: Path, given: str, expected: str) -> None:
    assert load(tmp_path, DATABASE_URL=given).database.url == expected


@pytest.mark.parametrize(("env", "message"), [
    ({"DATABASE_URL": "mysql://u@h/db"}, "unknown scheme 'mysql'"),
    ({"DATABASE_URL": "postgresql+psycopg2://u@h/db"}, "asyncpg"),
    ({"DATABASE_URL": "postgresql:///db"}, "has no host"),
    ({"STORAGE_URL": "ftp://x"}, "unknown scheme 'ftp'"),
    ({"STORAGE_URL": "s3://"}, "names no bucket"),
    ({"STORAGE_URL": "s3://b/a/../c"}, "'..'"),
    ({"STORAGE_URL": "file://relative/dir"}, "has a host"),
    ({"STORAGE_URL": "s3://b?colour=red"}, "unknown option"),
    ({"REDIS_URL": "http://x"}, "not a Redis URL"),
    ({"REDIS_URL": "redis://:6379"}, "has no host"),
    ({"REDIS_URL": "redis://h:notaport"}, "malformed"),
    ({"SESSION_TTL": "one day"}, "SESSION_TTL='one day' is not a whole number"),
    ({"SESSION_TTL": "-5"}, "sessions.ttl_seconds (from SESSION_TTL)"),
    ({"STORAGE_MODE": "cloudy"}, "use local or cloud"),
    ({"STORAGE_MODE": "cloud"}, "needs CLOUD_STORAGE_TYPE"),
    ({"STORAGE_MODE": "cloud", "CLOUD_STORAGE_TYPE": "s3"}, "set S3_BUCKET_NAME or S3_BUCKET"),
    ({"STORAGE_MODE": "cloud", "CLOUD_STORAGE_TYPE": "dropbox"}, "use s3, gcs or azure"),
    ({"STORAGE_PROVIDER": "supabase"}, "needs SUPABASE_URL"),
    ({"SESSION_TYPE": "redis"}, "SESSION_TYPE=redis needs REDIS_URL"),
    ({"SESSION_TYPE": "memcached"}, "SESSION_TYPE='memcached' is not accepted"),
    ({"STORAGE_ENDPOINT_URL": "minio:9000", "STORAGE_URL": "s3://b"}, "not an http(s) URL"),
    ({"STORAGE_PATH_STYLE": "maybe"}, "use true/false"),
    ({"HASHIGO_ENV": "production"}, "SECRET_KEY is required when HASHIGO_ENV=production"),
])
def test_bad_configuration_names_the_setting_and_what_is_accepted(
        tmp_path: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, **env)
    assert message in str(caught.value)


def test_hera_cloud_s3_aliases(tmp_path: Path) -> None:
    # seed 003 §環境別の推奨構成, production block
    s = load(tmp_path, STORAGE_MODE="cloud", CLOUD_STORAGE_TYPE="s3", S3_BUCKET_NAME="hera-sessions-prod",
             AWS_REGION="ap-northeast-1", REDIS_URL="redis://redis:6379/0",
             AWS_ACCESS_KEY_ID="AKIAEXAMPLE", AWS_SECRET_ACCESS_KEY="wJalr-secret")
    assert s.storage.url == "s3://hera-sessions-prod"
    assert s.storage.region == "ap-northeast-1"
    assert s.kv.url == "redis://redis:6379/0"
    assert s.origins["storage.url"].source == "alias"
    assert s.origins["storage.url"].names == ("STORAGE_MODE", "CLOUD_STORAGE_TYPE", "S3_BUCKET_NAME")
    assert s.origins["storage.region"].names == ("AWS_REGION",)


def test_hera_cloud_gcs_and_local_aliases(tmp_path: Path) -> None:
    gcs = load(tmp_path, STORAGE_MODE="cloud", CLOUD_STORAGE_TYPE="gcs", GCS_BUCKET_NAME="hera-sessions-prod")
    assert gcs.storage.url == "gs://hera-sessions-prod"
    local = load(tmp_path, STORAGE_MODE="local", SESSIONS_DIR="./tmp/user_sessions")
    assert local.storage.url == f"file://{(tmp_path / 'tmp/user_sessions').resolve()}"
    staging = load(tmp_path, STORAGE_MODE="local", SESSION_TYPE="redis", REDIS_URL="redis://redis:6379/0")
    assert staging.kv.url == "redis://redis:6379/0"
    assert "SESSION_TYPE" in staging.origins["kv.url"].names


def test_asotobase_storage_provider_aliases(tmp_path: Path) -> None:
    # seed 002 §6: switch from Supabase to S3 by changing STORAGE_PROVIDER
    s3 = load(tmp_path, STORAGE_PROVIDER="s3", S3_BUCKET="asotobase-storage", AWS_REGION="ap-northeast-1")
    assert s3.storage.url == "s3://asotobase-storage"
    supa = load(tmp_path, STORAGE_PROVIDER="supabase", SUPABASE_URL="https://abcd1234.supabase.co",
                SUPABASE_KEY="service-role-jwt", SUPABASE_BUCKET="avatars", AWS_REGION="ap-northeast-1")
    assert supa.storage.url == "s3://avatars"
    assert supa.storage.endpoint_url == "https://abcd1234.supabase.co/storage/v1/s3"
    assert supa.storage.path_style is True
    assert supa.storage.access_key_id is not None
    assert supa.storage.access_key_id.get_secret_value() == "abcd1234"
    assert supa.storage.session_token is not None


def test_storage_url_options_move_into_settings(tmp_path: Path) -> None:
    s = load(tmp_path, STORAGE_URL="s3://bucket/app?endpoint=http://127.0.0.1:9000&region=auto&path_style=true")
    assert s.storage.url == "s3://bucket/app"
    assert s.storage.endpoint_url == "http://127.0.0.1:9000"
    assert s.storage.region == "auto"
    assert s.storage.path_style is True


@pytest.mark.parametrize(("env", "named"), [
    ({"STORAGE_URL": "s3://one", "STORAGE_MODE": "cloud", "CLOUD_STORAGE_TYPE": "s3", "S3_BUCKET_NAME": "two"},
     ("STORAGE_URL", "S3_BUCKET_NAME")),
    ({"STORAGE_REGION": "us-east-1", "AWS_REGION": "ap-northeast-1"}, ("STORAGE_REGION", "AWS_REGION")),
    ({"REDIS_URL": "redis://a:6379", "KV_URL": "redis://b:6379"}, ("REDIS_URL", "KV_URL")),
    ({"S3_BUCKET_NAME": "a", "S3_BUCKET": "b", "STORAGE_PROVIDER": "s3"}, ("S3_BUCKET", "S3_BUCKET_NAME")),
    ({"STORAGE_MODE": "cloud", "CLOUD_STORAGE_TYPE": "gcs", "GCS_BUCKET_NAME": "g",
      "STORAGE_PROVIDER": "s3", "S3_BUCKET": "s"}, ("STORAGE_MODE", "STORAGE_PROVIDER")),
    ({"SESSION_TYPE": "local", "REDIS_URL": "redis://r:6379"}, ("SESSION_TYPE", "REDIS_URL")),
    ({"STORAGE_URL": "s3://b?region=eu-west-1", "AWS_REGION": "ap-northeast-1"}, ("AWS_REGION", "?region")),
])
def test_conflicting_forms_fail_naming_both(tmp_path: Path, env: dict[str, str], named: tuple[str, str]) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, **env)
    for name in named:
        assert name in str(caught.value)


def test_agreeing_forms_are_accepted(tmp_path: Path) -> None:
    s = load(tmp_path, STORAGE_URL="s3://same", STORAGE_MODE="cloud", CLOUD_STORAGE_TYPE="s3",
             S3_BUCKET_NAME="same")
    assert s.storage.url == "s3://same"


def test_secrets_never_appear_in_errors_or_dumps(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, SECRET_KEY="s3cr3t-value-one", JWT_SECRET_KEY="s3cr3t-value-two")
    assert "s3cr3t" not in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, DATABASE_URL="mysql://user:hunter2@h/db")
    assert "hunter2" not in str(caught.value)
    s = load(tmp_path, SECRET_KEY="x" * 40, AWS_SECRET_ACCESS_KEY="aws-secret-value")
    dumped = repr(s) + str(s.model_dump())
    assert "x" * 40 not in dumped
    assert "aws-secret-value" not in dumped


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql+asyncpg://app:hunter2@h:5432/db", "postgresql+asyncpg://app:***@h:5432/db"),
    ("rediss://default:tok@x.upstash.io:6379", "rediss://default:***@x.upstash.io:6379"),
    ("redis://:pw@h:6379/0", "redis://***@h:6379/0"),
    ("https://b.s3.amazonaws.com/k?X-Amz-Signature=abc&X-Amz-Expires=60",
     "https://b.s3.amazonaws.com/k?X-Amz-Signature=***&X-Amz-Expires=60"),
])
def test_redaction(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_dotenv_file_is_read_and_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("REDIS_URL=redis://from-file:6379/0\nSESSION_TTL=600\n")
    s = load_settings({"SESSION_TTL": "1200"}, env_file=env_file, cwd=tmp_path)
    assert s.kv.url == "redis://from-file:6379/0"
    assert s.origins["kv.url"].source == ".env"
    assert s.sessions.ttl_seconds == 1200
    assert s.origins["sessions.ttl_seconds"].source == "env"


def test_settings_class_reads_the_process_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REDIS_URL", "redis://envhost:6379/1")
    monkeypatch.setenv("SECRET_KEY", "k" * 48)
    s = Settings()  # type: ignore[call-arg]
    assert s.kv.url == "redis://envhost:6379/1"


@pytest.mark.parametrize("url", ["sqlite:///abs/kv.sqlite3", "sqlite+aiosqlite:////abs/db.sqlite3",
                                 "file:///abs/storage", "s3://bucket/prefix"])
def test_redaction_keeps_urls_without_secrets_intact(url: str) -> None:
    assert redact_url(url) == url
